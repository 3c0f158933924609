/*-------------------------------------------------------------------------
 *
 * functions.c
 *		SQL-callable functions: cachealot_stats(), cachealot_flush(),
 *		cachealot_invalidate(regclass) and cachealot_reset_stats().
 *
 * Each one needs the shared memory that only shared_preload_libraries
 * gives, and says so when it is missing.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "cachealot.h"
#include "eligibility.h"
#include "slots.h"
#include "stats.h"
#include "store.h"
#include "writes.h"

PG_FUNCTION_INFO_V1(cachealot_stats);
PG_FUNCTION_INFO_V1(cachealot_flush);
PG_FUNCTION_INFO_V1(cachealot_invalidate);
PG_FUNCTION_INFO_V1(cachealot_reset_stats);

/* the columns of cachealot_stats(): 1.1 added the admission counters */
#define STATS_COLUMNS_1_0	10
#define STATS_COLUMNS	12

static void
require_preloaded(void)
{
	if (!cachealot_shmem_ready)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cachealot must be loaded via shared_preload_libraries"),
				 errhint("Add cachealot to shared_preload_libraries in postgresql.conf and restart the server.")));
}

Datum
cachealot_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[STATS_COLUMNS];
	bool		nulls[STATS_COLUMNS] = {0};
	int			i = 0;

	require_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	/* an extension not yet updated to this library's version still works */
	if (tupdesc->natts != STATS_COLUMNS && tupdesc->natts != STATS_COLUMNS_1_0)
		elog(ERROR, "cachealot_stats() expects %d columns, got %d",
			 STATS_COLUMNS, tupdesc->natts);

	values[i++] = Int64GetDatum((int64) stats_get(STAT_HITS));
	values[i++] = Int64GetDatum((int64) stats_get(STAT_MISSES));
	values[i++] = Int64GetDatum((int64) stats_get(STAT_STORES));
	values[i++] = Int64GetDatum((int64) stats_get(STAT_BYPASSES));
	values[i++] = Int64GetDatum((int64) stats_get(STAT_INVALIDATIONS));
	values[i++] = Int64GetDatum((int64) stats_get(STAT_EVICTIONS));
	if (tupdesc->natts == STATS_COLUMNS)
	{
		values[i++] = Int64GetDatum((int64) stats_get(STAT_ADMISSION_SKIPS));
		values[i++] = Int64GetDatum((int64) stats_get(STAT_ADMISSION_REJECTS));
	}
	values[i++] = Int64GetDatum((int64) cache_entry_count());
	values[i++] = Int64GetDatum((int64) cache_memory_used());
	values[i++] = Int64GetDatum((int64) cache_memory_limit());
	values[i++] = TimestampTzGetDatum(stats_reset_time());

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

Datum
cachealot_flush(PG_FUNCTION_ARGS)
{
	require_preloaded();
	PG_RETURN_INT64((int64) cache_flush_all());
}

/*
 * Drop the entries of one table, view or materialized view, and of every
 * partition or inheritance child below it.
 */
Datum
cachealot_invalidate(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char		relkind;
	List	   *rels;
	uint32	   *slots;
	int			n = 0;
	ListCell   *lc;

	require_preloaded();

	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!relkind_is_tracked(relkind))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table, view or materialized view",
						get_rel_name(relid)),
				 errhint("cachealot caches results per table, view and materialized view.")));

	if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE)
		rels = find_all_inheritors(relid, AccessShareLock, NULL);
	else
		rels = list_make1_oid(relid);

	slots = palloc(sizeof(uint32) * list_length(rels));
	foreach(lc, rels)
		slots[n++] = slot_for_relation(MyDatabaseId, lfirst_oid(lc));

	/* advance first, so that a miss in flight cannot store old rows */
	invalidate_now(slots, n);
	PG_RETURN_INT64((int64) cache_drop_slots(slots, n));
}

Datum
cachealot_reset_stats(PG_FUNCTION_ARGS)
{
	require_preloaded();
	stats_reset();
	PG_RETURN_VOID();
}
