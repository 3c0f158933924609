/*-------------------------------------------------------------------------
 *
 * store.c
 *		The cached results: the entry index, the area the entries live in,
 *		eviction and the sweep of dead entries.
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
 *	  and eviction makes room when an allocation fails.
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
#include "stats.h"
#include "store.h"

#define STORE_PARTITIONS		128
#define STORE_LOCK_TRANCHE		"cachealot"
#define STORE_AREA_TRANCHE		"cachealot_area"

/* one bucket per this many bytes of max_memory, within these bounds */
#define STORE_BYTES_PER_BUCKET	1024
#define STORE_MIN_BUCKETS		1024

/*
 * The dead-entry sweep (reclaim_dead_entries): every store advances it by
 * at least this many buckets, plus its share of a full turn for every
 * 1/STORE_SWEEP_TURNS of the budget it stores.
 */
#define STORE_SWEEP_MIN_BUCKETS	4
#define STORE_SWEEP_TURNS		4

typedef struct StoreShared
{
	/* set once at startup, under AddinShmemInitLock: */
	int			area_tranche;	/* LWLock tranche of the DSA area */
	uint32		nbuckets;		/* power of two */
	Size		index_bytes;	/* size of the bucket array */
	Size		area_bytes;		/* size of the in-place DSA area */
	Size		budget;			/* bytes entries may occupy */
	/* atomics, hints only: a race costs a sweep, never a stale hit: */
	pg_atomic_uint64 entry_bytes;	/* allocation bytes of live entries */
	pg_atomic_uint64 entries;	/* entries linked in the index */
	pg_atomic_uint64 clock_hand;	/* next bucket the evictor visits */
	pg_atomic_uint64 sweep_hand;	/* next bucket the dead sweep visits */
	pg_atomic_uint64 sweep_turn_began;	/* versions advanced as a turn began */
	pg_atomic_uint64 sweep_clean_as_of; /* and as the last full turn began */
} StoreShared;

struct CacheEntry
{
	dsa_pointer next;			/* next in bucket chain (partition lock) */
	dsa_pointer self;			/* this entry's own address in the area */
	uint64		hash;
	pg_atomic_uint32 refcount;	/* index link + one per replaying reader */
	pg_atomic_uint32 referenced;	/* clock bit, set by hits */
	Size		alloc_bytes;
	Cost		plan_cost;		/* the planner's total cost of the query */
	uint32		key_len;
	uint32		ndeps;
	uint64		ntuples;
	Size		tuples_len;
	/* SlotVersion deps[ndeps], key bytes, then MAXALIGNed tuples follow */
};

#define ENTRY_DEPS(e) \
	((SlotVersion *) ((char *) (e) + MAXALIGN(sizeof(CacheEntry))))
#define ENTRY_KEY(e) \
	((char *) (ENTRY_DEPS(e) + (e)->ndeps))
#define ENTRY_TUPLES(e) \
	((char *) (e) + MAXALIGN((ENTRY_KEY(e) + (e)->key_len) - (char *) (e)))

static StoreShared *store = NULL;
static dsa_pointer *store_buckets = NULL;
static void *store_area_place = NULL;
static LWLockPadded *store_locks = NULL;
static dsa_area *store_area = NULL;	/* this backend's attachment */

static Size
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
static void
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

static inline LWLock *
bucket_lock(uint32 bucket)
{
	return &store_locks[bucket % STORE_PARTITIONS].lock;
}

static inline CacheEntry *
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

static bool
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
static bool
entry_is_current(CacheEntry *e)
{
	return slots_current(ENTRY_DEPS(e), e->ndeps);
}

/* Drop one reference; the last one frees the entry.  Takes no lock. */
static void
entry_release(CacheEntry *e)
{
	if (pg_atomic_sub_fetch_u32(&e->refcount, 1) == 0)
	{
		Size		bytes = e->alloc_bytes;

		dsa_free(store_area, e->self);
		pg_atomic_sub_fetch_u64(&store->entry_bytes, bytes);
	}
}

/* Selects entries of a bucket, for the functions below */
typedef bool (*entry_filter) (CacheEntry *e, void *arg);

/* The first entry of one bucket that 'match' selects.  Caller holds its lock. */
static CacheEntry *
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

/*
 * Entries of one key, but for 'keep' (NULL: all of them).  A stored result
 * replaces, not duplicates, older entries of its key.
 */
typedef struct SameKeyArg
{
	uint64		hash;
	const char *key;
	uint32		key_len;
	CacheEntry *keep;
} SameKeyArg;

static bool
same_key_filter(CacheEntry *e, void *arg)
{
	SameKeyArg *k = (SameKeyArg *) arg;

	return e != k->keep && entry_key_equals(e, k->hash, k->key, k->key_len);
}

/* The entry of this key in its bucket, if any.  Caller holds the lock. */
static CacheEntry *
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
static uint64
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

/* CLOCK: dead entries go at once, live ones get a second chance */
static bool
evict_filter(CacheEntry *e, void *arg)
{
	if (!entry_is_current(e))
		return true;
	if (pg_atomic_read_u32(&e->referenced) != 0)
	{
		pg_atomic_write_u32(&e->referenced, 0);
		return false;
	}
	return true;
}

/*
 * Sweep buckets from the clock hand until the entries take at most
 * 'target' bytes, or two full turns found nothing more to take.
 */
static void
evict_down_to(Size target)
{
	uint64		steps = 0;
	uint64		max_steps = (uint64) store->nbuckets * 2;
	uint64		evicted = 0;

	while (pg_atomic_read_u64(&store->entry_bytes) > target &&
		   steps++ < max_steps)
	{
		uint32		bucket = (uint32) (pg_atomic_fetch_add_u64(&store->clock_hand, 1) &
									   (store->nbuckets - 1));

		evicted += bucket_unlink_where(bucket, evict_filter, NULL);
	}
	if (evicted > 0)
		stats_add(STAT_EVICTIONS, evicted);
}

static bool
dead_filter(CacheEntry *e, void *arg)
{
	return !entry_is_current(e);
}

/* Does this bucket hold an entry no one can be served?  (Shared lock.) */
static bool
bucket_has_dead(uint32 bucket)
{
	bool		dead;

	if (!DsaPointerIsValid(store_buckets[bucket]))
		return false;

	LWLockAcquire(bucket_lock(bucket), LW_SHARED);
	dead = bucket_first_where(bucket, dead_filter, NULL) != NULL;
	LWLockRelease(bucket_lock(bucket));
	return dead;
}

/*
 * Reclaim dead entries ahead of eviction pressure.  Invalidation never
 * scans the cache, so an entry whose tables changed stays linked until
 * something visits its bucket; left to eviction alone, a write-heavy
 * table would fill an otherwise idle cache with entries that can never be
 * served.  Instead each store pays for a slice of a sweep proportional to
 * the bytes it adds: a full turn of the index for every 1/STORE_SWEEP_TURNS
 * of the budget stored, so dead entries can never take more than about
 * that share of it.  Buckets are checked under their shared lock and
 * locked exclusively only when they hold something to reclaim, and live
 * entries' clock bits are left alone.
 *
 * Entries only die when a slot's version advances, so once a full turn has
 * passed every bucket with no version advanced since it began, there is
 * nothing to reclaim and stores skip the sweep (a read-only workload pays
 * nothing for it).  The bookkeeping is a hint: a race may leave a dead
 * entry for the next turn or for eviction, never serve one.
 */
static void
reclaim_dead_entries(Size stored_bytes)
{
	uint64		nbuckets = store->nbuckets;
	uint64		advanced = slots_versions_advanced();
	uint64		steps;
	uint64		first;
	uint64		i;
	uint64		reclaimed = 0;
	Size		bytes_per_step;

	if (advanced == pg_atomic_read_u64(&store->sweep_clean_as_of))
		return;

	bytes_per_step = Max(store->budget / (nbuckets * STORE_SWEEP_TURNS), 1);
	steps = STORE_SWEEP_MIN_BUCKETS + stored_bytes / bytes_per_step;
	steps = Min(steps, nbuckets);
	first = pg_atomic_fetch_add_u64(&store->sweep_hand, steps);

	for (i = 0; i < steps; i++)
	{
		uint32		bucket = (uint32) ((first + i) & (nbuckets - 1));

		if (bucket_has_dead(bucket))
			reclaimed += bucket_unlink_where(bucket, dead_filter, NULL);
	}
	if (reclaimed > 0)
		stats_add(STAT_EVICTIONS, reclaimed);

	/* this slice ended a turn: what was dead as it began is gone */
	if ((first + steps) / nbuckets != first / nbuckets)
	{
		pg_atomic_write_u64(&store->sweep_clean_as_of,
							pg_atomic_read_u64(&store->sweep_turn_began));
		pg_atomic_write_u64(&store->sweep_turn_began, advanced);
	}
}

/*
 * Allocate 'size' bytes for an entry, evicting to make room: first to keep
 * within the budget, then, if the area still cannot serve the request
 * (its free space is fragmented among size classes and pages), a further
 * slice of the cache.  Returns InvalidDsaPointer rather than failing.
 */
static dsa_pointer
allocate_entry(Size size)
{
	dsa_pointer dp;
	int			attempt;

	if (pg_atomic_read_u64(&store->entry_bytes) + size > store->budget)
		evict_down_to(store->budget - size);

	for (attempt = 0; attempt < 3; attempt++)
	{
		Size		used;
		Size		slice;

		dp = dsa_allocate_extended(store_area, size,
								   DSA_ALLOC_NO_OOM | DSA_ALLOC_HUGE);
		if (DsaPointerIsValid(dp))
			return dp;

		used = pg_atomic_read_u64(&store->entry_bytes);
		slice = Max(size * 2, store->budget / 32);
		if (used > 0)
			evict_down_to(used > slice ? used - slice : 0);
		else if (attempt > 0)
			break;

		/*
		 * Blocks emptied for small entries stay with their size class until
		 * trimmed; a large entry needs them back as contiguous pages.
		 */
		dsa_trim(store_area);
	}
	return InvalidDsaPointer;
}

/*
 * Find a current entry for this key whose dependencies are exactly 'deps'
 * (the slots the caller read, at the versions it read).  On success the
 * entry is pinned: the caller must cache_entry_unpin() it.
 */
CacheEntry *
cache_lookup(uint64 hash, const char *key, uint32 key_len,
			 const SlotVersion *deps, int ndeps)
{
	uint32		bucket = (uint32) (hash & (store->nbuckets - 1));
	CacheEntry *e;

	store_ensure_ready();

	LWLockAcquire(bucket_lock(bucket), LW_SHARED);
	e = bucket_find_key(bucket, hash, key, key_len);
	if (e != NULL && entry_deps_equal(e, deps, ndeps))
	{
		pg_atomic_fetch_add_u32(&e->refcount, 1);
		/* read first: a hot entry's line need not be written again */
		if (pg_atomic_read_u32(&e->referenced) == 0)
			pg_atomic_write_u32(&e->referenced, 1);
	}
	else
		e = NULL;
	LWLockRelease(bucket_lock(bucket));

	return e;
}

/*
 * Is there an entry for this key that could still be served?  If so, return
 * a palloc'd copy of its dependencies (slots at the versions it was built
 * at) and the plan cost it was stored with.  Nothing is pinned: the caller
 * must still go through cache_lookup() to serve it.
 */
bool
cache_probe(uint64 hash, const char *key, uint32 key_len,
			SlotVersion **deps, int *ndeps, Cost *plan_cost)
{
	uint32		bucket = (uint32) (hash & (store->nbuckets - 1));
	CacheEntry *e;
	bool		found = false;

	store_ensure_ready();

	LWLockAcquire(bucket_lock(bucket), LW_SHARED);
	e = bucket_find_key(bucket, hash, key, key_len);
	if (e != NULL && entry_is_current(e))
	{
		Size		bytes = sizeof(SlotVersion) * e->ndeps;

		*deps = palloc(bytes);
		memcpy(*deps, ENTRY_DEPS(e), bytes);
		*ndeps = e->ndeps;
		*plan_cost = e->plan_cost;
		found = true;
	}
	LWLockRelease(bucket_lock(bucket));

	return found;
}

void
cache_entry_unpin(CacheEntry *entry)
{
	entry_release(entry);
}

uint64
cache_entry_ntuples(CacheEntry *entry)
{
	return entry->ntuples;
}

/*
 * The tuple at byte offset *offset of the entry's tuple data; advances
 * *offset past it.  'index' is only for the assertion.
 */
MinimalTuple
cache_entry_tuple(CacheEntry *entry, uint64 index, Size *offset)
{
	MinimalTuple tuple;

	Assert(index < entry->ntuples);
	Assert(*offset < entry->tuples_len);
	tuple = (MinimalTuple) (ENTRY_TUPLES(entry) + *offset);
	*offset += MAXALIGN(tuple->t_len);
	return tuple;
}

/*
 * Store a complete result.  The entry is built in one piece in the area,
 * then linked; any older entry of the same key is unlinked.  Returns false
 * (and stores nothing) when no memory could be found for it.  Never
 * raises an error for lack of memory.
 */
bool
cache_store(uint64 hash, const char *key, uint32 key_len,
			const SlotVersion *deps, int ndeps, Cost plan_cost,
			MinimalTuple *tuples, uint64 ntuples, Size tuples_len)
{
	Size		head = MAXALIGN(sizeof(CacheEntry));
	Size		size;
	dsa_pointer dp;
	CacheEntry *e;
	char	   *pos;
	uint64		i;
	uint32		bucket = (uint32) (hash & (store->nbuckets - 1));
	SameKeyArg	same;

	store_ensure_ready();

	size = MAXALIGN(head + sizeof(SlotVersion) * ndeps + key_len) + tuples_len;
	if (size > store->budget / 2)
		return false;

	dp = allocate_entry(size);
	if (!DsaPointerIsValid(dp))
		return false;
	pg_atomic_add_fetch_u64(&store->entry_bytes, size);

	e = entry_at(dp);
	e->next = InvalidDsaPointer;
	e->self = dp;
	e->hash = hash;
	pg_atomic_init_u32(&e->refcount, 1);
	pg_atomic_init_u32(&e->referenced, 0);
	e->alloc_bytes = size;
	e->plan_cost = plan_cost;
	e->key_len = key_len;
	e->ndeps = ndeps;
	e->ntuples = ntuples;
	e->tuples_len = tuples_len;
	memcpy(ENTRY_DEPS(e), deps, sizeof(SlotVersion) * ndeps);
	memcpy(ENTRY_KEY(e), key, key_len);
	pos = ENTRY_TUPLES(e);
	for (i = 0; i < ntuples; i++)
	{
		memcpy(pos, tuples[i], tuples[i]->t_len);
		pos += MAXALIGN(tuples[i]->t_len);
	}
	Assert(pos == (char *) e + size);

	LWLockAcquire(bucket_lock(bucket), LW_EXCLUSIVE);
	e->next = store_buckets[bucket];
	store_buckets[bucket] = dp;
	LWLockRelease(bucket_lock(bucket));
	pg_atomic_add_fetch_u64(&store->entries, 1);

	same.hash = hash;
	same.key = key;
	same.key_len = key_len;
	same.keep = e;
	bucket_unlink_where(bucket, same_key_filter, &same);

	reclaim_dead_entries(size);
	return true;
}

static bool
all_filter(CacheEntry *e, void *arg)
{
	return true;
}

/*
 * Drop every entry.  Every slot's version advances too, so that a query
 * that read the old versions cannot store its result afterwards.
 */
uint64
cache_flush_all(void)
{
	uint64		dropped = 0;
	uint32		b;
	uint32		s;

	store_ensure_ready();
	for (s = 0; s < CACHEALOT_NUM_SLOTS; s++)
		slot_version_advance(s);
	for (b = 0; b < store->nbuckets; b++)
		dropped += bucket_unlink_where(b, all_filter, NULL);
	return dropped;
}

typedef struct SlotSetArg
{
	const uint32 *slots;
	int			nslots;
} SlotSetArg;

static bool
slot_set_filter(CacheEntry *e, void *arg)
{
	SlotSetArg *set = (SlotSetArg *) arg;
	SlotVersion *deps = ENTRY_DEPS(e);
	uint32		i;
	int			j;

	for (i = 0; i < e->ndeps; i++)
		for (j = 0; j < set->nslots; j++)
			if (deps[i].slot == set->slots[j])
				return true;
	return false;
}

/*
 * Drop every entry that depends on one of 'slots'.  The caller advances
 * those slots' versions first.
 */
uint64
cache_drop_slots(const uint32 *slots, int nslots)
{
	SlotSetArg	set;
	uint64		dropped = 0;
	uint32		b;

	store_ensure_ready();
	set.slots = slots;
	set.nslots = nslots;
	for (b = 0; b < store->nbuckets; b++)
		dropped += bucket_unlink_where(b, slot_set_filter, &set);
	return dropped;
}

uint64
cache_memory_used(void)
{
	return store->index_bytes + pg_atomic_read_u64(&store->entry_bytes);
}

uint64
cache_memory_limit(void)
{
	return store_total_bytes();
}

uint64
cache_entry_count(void)
{
	return pg_atomic_read_u64(&store->entries);
}

/* The largest result cache_store() can accept, given max_entry_size */
Size
cache_max_entry_bytes(void)
{
	return Min((Size) cachealot_max_entry_size_kb * 1024, store->budget / 2);
}
