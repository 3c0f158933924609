/*-------------------------------------------------------------------------
 *
 * cachealot.h
 *		Types and functions shared between the files of cachealot.
 *
 * cachealot caches the results of read-only queries in shared memory and
 * makes them unreachable, per table, the moment a write to that table
 * commits.  The pieces are:
 *
 *	cachealot.c		_PG_init: GUCs and hook installation
 *	store.c			shared memory: invalidation slots, entry index, entries,
 *					eviction
 *	stats.c			striped statistics counters
 *	catalog_view.c	catalog epochs: was a plan built from the catalog its
 *					result would be stored under?
 *	key.c			building the lookup key of an execution
 *	eligibility.c	planner hook: which plans may be cached at all
 *	stand_in.c		stand-in plans: hits without the real plan's start, and
 *					client statements served without planning
 *	executor.c		executor hooks: lookup, replay, capture, store
 *	writes.c		per-transaction write tracking and the commit protocol
 *	utility.c		ProcessUtility hook: writes outside the executor
 *	functions.c		SQL-callable functions
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_H
#define CACHEALOT_H

#include "executor/execdesc.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "nodes/plannodes.h"
#include "port/atomics.h"
#include "utils/dsa.h"

/* GUC variables (cachealot.c) */
extern bool cachealot_enabled;
extern int	cachealot_max_memory_kb;
extern int	cachealot_max_entry_size_kb;
extern int	cachealot_test_commit_delay_ms;
extern double cachealot_min_cost;

/*
 * Invalidation slots.  A relation maps to slot hash(database, relation); each
 * database has one slot (hash(database, InvalidOid)); slot 0 is global.  Two
 * relations sharing a slot only over-invalidate.
 */
#define CACHEALOT_NUM_SLOTS		16384	/* power of two */
#define CACHEALOT_GLOBAL_SLOT	0

typedef struct CacheSlot
{
	pg_atomic_uint32 pending;	/* writers between pre-commit and release */
	pg_atomic_uint64 version;	/* advanced by fetch-add only */
} CacheSlot;

/* One dependency of a cached result: a slot and the version it was built at */
typedef struct SlotVersion
{
	uint32		slot;
	uint64		version;
} SlotVersion;

/* A pinned entry being replayed; see store.c */
typedef struct CacheEntry CacheEntry;

/* store.c */
extern void store_shmem_request(void);
extern void store_shmem_startup(void);
extern bool store_is_ready(void);
extern void store_ensure_ready(void);
extern uint32 slot_for_relation(Oid dbid, Oid relid);
extern uint32 slot_for_database(Oid dbid);
extern CacheSlot *slot_get(uint32 slot);
extern void slot_advance_version(uint32 slot);
extern CacheEntry *cache_lookup(uint64 hash, const char *key, uint32 key_len,
								const SlotVersion *deps, int ndeps);
extern bool cache_probe(uint64 hash, const char *key, uint32 key_len,
						SlotVersion **deps, int *ndeps, Cost *plan_cost);
extern void cache_entry_unpin(CacheEntry *entry);
extern uint64 cache_entry_ntuples(CacheEntry *entry);
extern MinimalTuple cache_entry_tuple(CacheEntry *entry, uint64 index,
									  Size *offset);
extern bool cache_store(uint64 hash, const char *key, uint32 key_len,
						const SlotVersion *deps, int ndeps, Cost plan_cost,
						MinimalTuple *tuples, uint64 ntuples, Size tuples_len);
extern uint64 cache_flush_all(void);
extern uint64 cache_drop_slots(const uint32 *slots, int nslots);
extern uint64 cache_memory_used(void);
extern uint64 cache_memory_limit(void);
extern uint64 cache_entry_count(void);
extern Size cache_max_entry_bytes(void);

/* stats.c */
typedef enum CacheStat
{
	STAT_HITS,
	STAT_MISSES,
	STAT_STORES,
	STAT_BYPASSES,
	STAT_INVALIDATIONS,
	STAT_EVICTIONS,
	STAT_COUNT
} CacheStat;

extern Size stats_shmem_size(void);
extern void stats_shmem_init(void *place, bool found);
extern void stats_add(CacheStat stat, uint64 n);
extern uint64 stats_get(CacheStat stat);
extern void stats_reset(void);
extern TimestampTz stats_reset_time(void);

/* catalog_view.c */
extern Size catalog_view_shmem_size(void);
extern void catalog_view_shmem_init(void *place, bool found);
extern void catalog_view_advance(bool shared_catalog);
extern void catalog_view_init(void);
extern void catalog_view_transaction_end(void);
extern uint32 catalog_view_stamp(void);

/* the catalog epochs as an execution read them */
typedef struct CatalogEpochsSeen
{
	uint64		database;
	uint64		shared;
} CatalogEpochsSeen;

extern void catalog_view_read(CatalogEpochsSeen *seen);
extern bool catalog_view_allows_store(PlannedStmt *pstmt,
									  const CatalogEpochsSeen *seen);

/* key.c */
extern bool key_text_is_storable(const char *text, int len);
extern bool key_statement_text(const char *src, int location, int stmt_len,
							   const char **text, int *len);
extern void key_build(StringInfo buf, const char *text, int len,
					  uint64 queryId, List *resolved_oids,
					  ParamListInfo params, List *tlist);
extern bool key_settings_unchanged(const char *key, uint32 key_len);
extern uint64 key_hash(const char *key, uint32 len);

/* eligibility.c */
extern void eligibility_install_planner_hook(void);
extern bool plan_is_cacheable(PlannedStmt *pstmt);
extern PlanInvalItem *plan_item(int cacheId, uint32 value);
extern PlanInvalItem *plan_cacheable_marker(void);
extern uint32 plan_catalog_stamp(PlannedStmt *pstmt);
extern List *plan_resolved_items(List *resolved_oids);
extern List *plan_resolved_oids(PlannedStmt *pstmt);
extern bool plan_reads_settings(PlannedStmt *pstmt);
extern void plan_set_catalog_stamp(PlannedStmt *pstmt, uint32 stamp);
extern bool relations_are_cacheable(List *relationOids);

/* stand_in.c */
extern bool plan_is_stand_in(PlannedStmt *pstmt);
extern PlannedStmt *stand_in_for_hit(PlannedStmt *pstmt);
extern PlannedStmt *stand_in_before_planning(Query *parse,
											 const char *query_string,
											 int cursorOptions,
											 ParamListInfo boundParams,
											 List *resolved_oids);
extern void stand_in_note_plan_cost(uint64 queryId, Cost cost);
extern SlotVersion *stand_in_dependencies(PlannedStmt *pstmt, int *ndeps);
extern PlannedStmt *stand_in_plan_for_real(PlannedStmt *stand_in,
										   const char *source_text,
										   ParamListInfo params);

/* writes.c */
extern void writes_register_callbacks(void);
extern void record_written_relation(Oid relid);
extern void record_written_database(void);
extern void record_written_global(void);
extern void record_catalog_change(bool shared_catalog);
extern void record_unlisted_writes(void);
extern void utility_writes_begin(bool shared_catalog);
extern void utility_writes_end(void);
extern bool xact_blocks_cache(void);
extern bool xact_wrote_slot(uint32 slot);
extern void slots_advance(const uint32 *slots, int nslots);
extern void global_pending_hold(void);
extern void global_pending_release(void);

/* executor.c */
extern void executor_install_hooks(void);
extern const char *session_bypass_reason(void);

/* utility.c */
extern void utility_install_hook(void);

#endif							/* CACHEALOT_H */
