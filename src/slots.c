/*-------------------------------------------------------------------------
 *
 * slots.c
 *		The invalidation slots and the lock-free protocol that makes a
 *		cached result unreachable the moment a write to its tables commits.
 *
 * Each slot has a 'pending' count (writers between their pre-commit and
 * their release) and a 'version' (advanced by fetch-add only).  A cached
 * result records the version of every slot it depends on; it may be served
 * only while each is unchanged and none is pending.
 *
 * Note about the slot protocol: no lock protects the slots; the order of
 * the atomic operations does.
 *	- A writer raises 'pending' on each slot it wrote at pre-commit (a
 *	  fetch-add: a full barrier), before its writes become visible.  After
 *	  they are visible it releases each slot: 'version' first (fetch-add,
 *	  full barrier), then 'pending' down.  An abort, or a backend exiting
 *	  with 'pending' raised, releases the same way.
 *	- A reader first checks that no slot it depends on is pending, then
 *	  issues pg_read_barrier(), then reads the versions.  Any version it
 *	  reads is therefore at least as new as the 'pending' counts it saw:
 *	  a writer it saw as not pending either had not reached pre-commit
 *	  (its writes are invisible to the reader's snapshot, and its release
 *	  will advance the version later) or had already advanced the version
 *	  (which the reader then sees).  Before storing, the reader checks
 *	  again: nothing pending, every version as it read it.
 * With the reader's check that its snapshot is current (freshness.c), no
 * reader can serve or store a result older than a commit it can see.  The
 * release runs where an error would be a PANIC: everything here is an
 * atomic operation, with no allocation and no lock.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "port/atomics.h"
#include "storage/shmem.h"

#include "slots.h"

typedef struct CacheSlot
{
	pg_atomic_uint32 pending;	/* writers between pre-commit and release */
	pg_atomic_uint64 version;	/* advanced by fetch-add only */
} CacheSlot;

typedef struct SlotsShared
{
	pg_atomic_uint64 versions_advanced; /* a hint for the dead-entry sweep */
	CacheSlot	slots[CACHEALOT_NUM_SLOTS];
} SlotsShared;

static SlotsShared *slots = NULL;

void
slots_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(SlotsShared)));
}

/* Called with AddinShmemInitLock held */
void
slots_shmem_init(void)
{
	bool		found;
	int			i;

	slots = ShmemInitStruct("cachealot slots", sizeof(SlotsShared), &found);
	if (found)
		return;
	pg_atomic_init_u64(&slots->versions_advanced, 0);
	for (i = 0; i < CACHEALOT_NUM_SLOTS; i++)
	{
		pg_atomic_init_u32(&slots->slots[i].pending, 0);
		pg_atomic_init_u64(&slots->slots[i].version, 1);
	}
}

uint32
slot_for_relation(Oid dbid, Oid relid)
{
	uint32		h = hash_combine(murmurhash32(dbid), murmurhash32(relid));

	/* slot 0 is the global slot; keep tables off it */
	return (h % (CACHEALOT_NUM_SLOTS - 1)) + 1;
}

uint32
slot_for_database(Oid dbid)
{
	return slot_for_relation(dbid, InvalidOid);
}

static CacheSlot *
slot_get(uint32 slot)
{
	Assert(slot < CACHEALOT_NUM_SLOTS);
	return &slots->slots[slot];
}

/* A writer's pre-commit step for one slot (a full barrier) */
void
slot_pending_raise(uint32 slot)
{
	pg_atomic_fetch_add_u32(&slot_get(slot)->pending, 1);
}

/*
 * Advance a slot's version: every result built at the old one is dead from
 * now on.  Counted, so that the dead-entry sweep knows whether there can be
 * anything for it to reclaim.
 */
void
slot_version_advance(uint32 slot)
{
	pg_atomic_fetch_add_u64(&slot_get(slot)->version, 1);
	pg_atomic_fetch_add_u64(&slots->versions_advanced, 1);
}

/*
 * A writer's release step for one slot, after its writes are visible: the
 * version first (results built before become unreachable), then let
 * readers use the slot again.
 */
void
slot_release(uint32 slot)
{
	slot_version_advance(slot);
	pg_atomic_fetch_sub_u32(&slot_get(slot)->pending, 1);
}

/* Is any of 'deps' pending?  If not, a read barrier follows. */
static bool
slots_any_pending(const SlotVersion *deps, int ndeps)
{
	int			i;

	for (i = 0; i < ndeps; i++)
		if (pg_atomic_read_u32(&slot_get(deps[i].slot)->pending) != 0)
			return true;
	pg_read_barrier();
	return false;
}

/* Nothing pending on any of 'deps'; then read their versions into them */
bool
slots_read_versions(SlotVersion *deps, int ndeps)
{
	int			i;

	if (slots_any_pending(deps, ndeps))
		return false;
	for (i = 0; i < ndeps; i++)
		deps[i].version = pg_atomic_read_u64(&slot_get(deps[i].slot)->version);
	return true;
}

/* Are 'deps' still exactly as read, with nothing pending? */
bool
slots_unchanged(const SlotVersion *deps, int ndeps)
{
	return !slots_any_pending(deps, ndeps) && slots_current(deps, ndeps);
}

/* Is every version of 'deps' still the one recorded (pending or not)? */
bool
slots_current(const SlotVersion *deps, int ndeps)
{
	int			i;

	for (i = 0; i < ndeps; i++)
		if (pg_atomic_read_u64(&slot_get(deps[i].slot)->version) !=
			deps[i].version)
			return false;
	return true;
}

/* How many versions were advanced so far (a hint, see store.c's sweep) */
uint64
slots_versions_advanced(void)
{
	return pg_atomic_read_u64(&slots->versions_advanced);
}
