/*-------------------------------------------------------------------------
 *
 * store_index.c
 *		The shared memory of the cached results: the index of entries and
 *		the area they live in, and the primitives that find, link and
 *		unlink them.  store.c, the only caller, builds the cache on top.
 *
 * Layout.  Three pieces of the main shared memory segment, all sized at
 * postmaster start from cachealot.max_memory:
 *
 *	- StoreShared: the sizes, set once at startup under AddinShmemInitLock,
 *	  and a few atomics (bytes and entries in use, the clock and sweep
 *	  hands), which are hints kept without a lock: a race costs a sweep or
 *	  an eviction, never a stale hit.
 *	- the index: a fixed array of bucket heads, each a chain of entries linked
 *	  through CacheEntry.next.  Bucket b and every chain field reachable from
 *	  it are protected by partition lock b % STORE_PARTITIONS (shared to read,
 *	  exclusive to link or unlink).  The index never grows, so it never needs
 *	  every lock at once and cannot fail at the memory bound.
 *	- a DSA area created in place, capped to its own size so that it never
 *	  creates DSM segments: entries are allocated there with DSA_ALLOC_NO_OOM
 *	  and eviction makes room when an allocation fails (store.c).
 *
 * The index and the area together take cachealot.max_memory; memory_used
 * counts the index plus every live entry's allocation.
 *
 * Entry lifetime.  An entry's refcount holds one reference for being linked
 * in the index plus one per backend replaying it.  Readers pin it under the
 * partition lock and replay with no lock held; whoever drops the last
 * reference frees it.  An entry is immutable once linked, except for its
 * clock bit, which hits set without a lock.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/dsa.h"
#include "utils/memutils.h"

#include "cachealot.h"
#include "slots.h"
#include "store_index.h"

#define STORE_PARTITIONS		128
#define STORE_LOCK_TRANCHE		"cachealot"
#define STORE_AREA_TRANCHE		"cachealot_area"

/* one bucket per this many bytes of max_memory, within these bounds */
#define STORE_BYTES_PER_BUCKET	1024
#define STORE_MIN_BUCKETS		1024

StoreShared *store = NULL;
dsa_area   *store_area = NULL;	/* this backend's attachment */
static dsa_pointer *store_buckets = NULL;
static void *store_area_place = NULL;
static LWLockPadded *store_locks = NULL;

Size
store_total_bytes(void)
{
	return (Size) cachealot_max_memory_kb * 1024;
}

static uint32
store_bucket_count(void)
{
	Size		want = store_total_bytes() / STORE_BYTES_PER_BUCKET;
	uint32		n = STORE_MIN_BUCKETS;

	while (n < want && n < (PG_UINT32_MAX >> 1))
		n <<= 1;
	return n;
}

void
store_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(StoreShared)));
	RequestAddinShmemSpace(MAXALIGN(store_total_bytes()));
	RequestNamedLWLockTranche(STORE_LOCK_TRANCHE, STORE_PARTITIONS);
}

/* Called with AddinShmemInitLock held */
void
store_shmem_init(void)
{
	bool		found;
	bool		found_index;
	Size		total = store_total_bytes();
	uint32		nbuckets = store_bucket_count();
	Size		index_bytes = MAXALIGN(sizeof(dsa_pointer) * nbuckets);
	void	   *index_and_area;

	store = ShmemInitStruct("cachealot state", sizeof(StoreShared), &found);
	index_and_area = ShmemInitStruct("cachealot cache", total, &found_index);
	store_locks = GetNamedLWLockTranche(STORE_LOCK_TRANCHE);
	store_buckets = (dsa_pointer *) index_and_area;
	store_area_place = (char *) index_and_area + index_bytes;

	if (!found)
	{
		dsa_area   *area;
		int			i;

		store->area_tranche = LWLockNewTrancheId();
		store->nbuckets = nbuckets;
		store->index_bytes = index_bytes;
		store->area_bytes = total - index_bytes;
		/* leave room for the area's own metadata and size-class slack */
		store->budget = store->area_bytes - store->area_bytes / 8;
		pg_atomic_init_u64(&store->entry_bytes, 0);
		pg_atomic_init_u64(&store->entries, 0);
		pg_atomic_init_u64(&store->clock_hand, 0);
		pg_atomic_init_u64(&store->sweep_hand, 0);
		pg_atomic_init_u64(&store->sweep_turn_began, 0);
		pg_atomic_init_u64(&store->sweep_clean_as_of, 0);
		for (i = 0; i < (int) nbuckets; i++)
			store_buckets[i] = InvalidDsaPointer;

		area = dsa_create_in_place(store_area_place, store->area_bytes,
								   store->area_tranche, NULL);
		/* never create DSM segments: the area is all the cache may use */
		dsa_set_size_limit(area, store->area_bytes);
		dsa_pin(area);
	}
	LWLockRegisterTranche(store->area_tranche, STORE_AREA_TRANCHE);
}

/*
 * Attach this backend to the DSA area on first use.  The postmaster created
 * it; each backend needs its own dsa_area handle, released at exit.
 */
void
store_ensure_ready(void)
{
	MemoryContext oldcxt;

	Assert(store != NULL);
	if (store_area != NULL)
		return;

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	store_area = dsa_attach_in_place(store_area_place, NULL);
	MemoryContextSwitchTo(oldcxt);
	on_shmem_exit(dsa_on_shmem_exit_release_in_place,
				  PointerGetDatum(store_area_place));
}

LWLock *
bucket_lock(uint32 bucket)
{
	return &store_locks[bucket % STORE_PARTITIONS].lock;
}

CacheEntry *
entry_at(dsa_pointer dp)
{
	return (CacheEntry *) dsa_get_address(store_area, dp);
}

static bool
entry_key_equals(CacheEntry *e, uint64 hash, const char *key, uint32 key_len)
{
	return e->hash == hash && e->key_len == key_len &&
		memcmp(ENTRY_KEY(e), key, key_len) == 0;
}

bool
entry_deps_equal(CacheEntry *e, const SlotVersion *deps, int ndeps)
{
	SlotVersion *mine = ENTRY_DEPS(e);
	int			i;

	if (e->ndeps != (uint32) ndeps)
		return false;
	for (i = 0; i < ndeps; i++)
		if (mine[i].slot != deps[i].slot || mine[i].version != deps[i].version)
			return false;
	return true;
}

/* Can this entry still be served to anyone?  (Its tables did not change.) */
bool
entry_is_current(CacheEntry *e)
{
	return slots_current(ENTRY_DEPS(e), e->ndeps);
}

/* Drop one reference; the last one frees the entry.  Takes no lock. */
void
entry_release(CacheEntry *e)
{
	if (pg_atomic_sub_fetch_u32(&e->refcount, 1) == 0)
	{
		Size		bytes = e->alloc_bytes;

		dsa_free(store_area, e->self);
		pg_atomic_sub_fetch_u64(&store->entry_bytes, bytes);
	}
}

/* The first entry of one bucket that 'match' selects.  Caller holds its lock. */
CacheEntry *
bucket_first_where(uint32 bucket, entry_filter match, void *arg)
{
	dsa_pointer dp;

	for (dp = store_buckets[bucket]; DsaPointerIsValid(dp);)
	{
		CacheEntry *e = entry_at(dp);

		if (match(e, arg))
			return e;
		dp = e->next;
	}
	return NULL;
}

bool
same_key_filter(CacheEntry *e, void *arg)
{
	SameKeyArg *k = (SameKeyArg *) arg;

	return e != k->keep && entry_key_equals(e, k->hash, k->key, k->key_len);
}

/* The entry of this key in its bucket, if any.  Caller holds the lock. */
CacheEntry *
bucket_find_key(uint32 bucket, uint64 hash, const char *key, uint32 key_len)
{
	SameKeyArg	same = {hash, key, key_len, NULL};

	return bucket_first_where(bucket, same_key_filter, &same);
}

/*
 * Unlink every entry of one bucket that 'drop' selects, under the bucket's
 * exclusive lock, then release them with no lock held.  Returns how many
 * were unlinked.
 */
uint64
bucket_unlink_where(uint32 bucket, entry_filter drop, void *arg)
{
	dsa_pointer unlinked = InvalidDsaPointer;
	dsa_pointer *link;
	uint64		count = 0;

	/* an unlocked peek: an empty bucket needs no lock */
	if (!DsaPointerIsValid(store_buckets[bucket]))
		return 0;

	LWLockAcquire(bucket_lock(bucket), LW_EXCLUSIVE);
	link = &store_buckets[bucket];
	while (DsaPointerIsValid(*link))
	{
		CacheEntry *e = entry_at(*link);

		if (drop(e, arg))
		{
			*link = e->next;
			e->next = unlinked;
			unlinked = e->self;
			count++;
		}
		else
			link = &e->next;
	}
	LWLockRelease(bucket_lock(bucket));

	while (DsaPointerIsValid(unlinked))
	{
		CacheEntry *e = entry_at(unlinked);

		unlinked = e->next;
		entry_release(e);
	}
	if (count > 0)
		pg_atomic_sub_fetch_u64(&store->entries, count);
	return count;
}

/* An unlocked peek: an empty bucket needs no lock to be passed over */
bool
bucket_is_empty(uint32 bucket)
{
	return !DsaPointerIsValid(store_buckets[bucket]);
}

/* Link a new entry at the head of its bucket */
void
bucket_link(uint32 bucket, CacheEntry *e)
{
	LWLockAcquire(bucket_lock(bucket), LW_EXCLUSIVE);
	e->next = store_buckets[bucket];
	store_buckets[bucket] = e->self;
	LWLockRelease(bucket_lock(bucket));
	pg_atomic_add_fetch_u64(&store->entries, 1);
}
