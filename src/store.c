/*-------------------------------------------------------------------------
 *
 * store.c
 *		The cache of results: looking entries up, storing them, making room
 *		(CLOCK eviction), reclaiming dead entries, dropping them in bulk.
 *
 * The entries, their index and its locks are store_index.c's; see there
 * for the layout and an entry's lifetime.  An entry depends on slots at
 * versions (slots.c): once one of those versions advances, it can never be
 * served again and is dead, reclaimed by the sweep or first in line for
 * eviction.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "utils/memutils.h"

#include "cachealot.h"
#include "slots.h"
#include "stats.h"
#include "store.h"
#include "store_index.h"

/*
 * The dead-entry sweep (reclaim_dead_entries): every store advances it by
 * at least this many buckets, plus its share of a full turn for every
 * 1/STORE_SWEEP_TURNS of the budget it stores.
 */
#define STORE_SWEEP_MIN_BUCKETS	4
#define STORE_SWEEP_TURNS		4

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

	if (bucket_is_empty(bucket))
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

	bucket_link(bucket, e);

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
