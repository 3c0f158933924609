/*-------------------------------------------------------------------------
 *
 * store_index.h
 *		The entries, their index and area (see store_index.c).  Included
 *		by store.c only.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_STORE_INDEX_H
#define CACHEALOT_STORE_INDEX_H

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "utils/dsa.h"

#include "slots.h"
#include "store.h"

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

extern StoreShared *store;
extern dsa_area *store_area;

/* Selects entries of a bucket, for the functions below */
typedef bool (*entry_filter) (CacheEntry *e, void *arg);

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

extern Size store_total_bytes(void);
extern void store_ensure_ready(void);
extern LWLock *bucket_lock(uint32 bucket);
extern CacheEntry *entry_at(dsa_pointer dp);
extern bool entry_deps_equal(CacheEntry *e, const SlotVersion *deps,
							 int ndeps);
extern bool entry_is_current(CacheEntry *e);
extern void entry_release(CacheEntry *e);
extern CacheEntry *bucket_first_where(uint32 bucket, entry_filter match,
									  void *arg);
extern bool same_key_filter(CacheEntry *e, void *arg);
extern CacheEntry *bucket_find_key(uint32 bucket, uint64 hash,
								   const char *key, uint32 key_len);
extern uint64 bucket_unlink_where(uint32 bucket, entry_filter drop,
								  void *arg);
extern bool bucket_is_empty(uint32 bucket);
extern void bucket_link(uint32 bucket, CacheEntry *e);

#endif							/* CACHEALOT_STORE_INDEX_H */
