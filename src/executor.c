/*-------------------------------------------------------------------------
 *
 * executor.c
 *		Executor hooks: recording writes, deciding whether an execution may
 *		use the cache, serving hits and capturing misses.
 *
 * ExecutorStart records the result relations of a write before the plan
 * can run (triggers and functions in the same statement may read them).
 * For a cacheable SELECT it proves the cache may be used (see
 * lookup_is_safe), builds the key, and looks it up:
 *	- hit: the entry is pinned, the standard ExecutorStart still runs (it
 *	  checks permissions and builds the result descriptor) with JIT off, and
 *	  ExecutorRun replays the stored rows into the query's own DestReceiver;
 *	- miss: ExecutorRun runs the plan with a tee DestReceiver that copies
 *	  each row into local memory; if that one run completed, the result is
 *	  stored, provided nothing it depends on changed meanwhile.
 *
 * Per-query state lives in the query's es_query_cxt and is found again by
 * its QueryDesc in a backend-local list; executor calls nest (SPI inside a
 * query), so there may be several.  A reset callback on es_query_cxt, and
 * the (sub)transaction abort and exit callbacks as a backstop, drop the
 * state and unpin the entry, whether or not ExecutorEnd ever runs.
 *
 * Parallel workers run partial plans under the leader's text: all hooks
 * pass straight through in them.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/gin.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "jit/jit.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "storage/ipc.h"
#include "storage/sinval.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cachealot.h"

typedef enum QueryMode
{
	MODE_DONE,					/* nothing more to do for this query */
	MODE_HIT,					/* replaying a pinned entry */
	MODE_CAPTURE,				/* running the plan, copying its rows */
	MODE_EXHAUSTED				/* the plan ran dry during a look-ahead */
} QueryMode;

typedef struct QueryState
{
	dlist_node	node;			/* in active_queries */
	bool		in_list;
	QueryDesc  *queryDesc;
	SubTransactionId subid;
	QueryMode	mode;

	/* what a store needs again: key and dependencies */
	char	   *key;
	uint32		key_len;
	uint64		hash;
	SlotVersion *deps;
	int			ndeps;

	/* hit */
	CacheEntry *entry;
	bool		plan_started;	/* the real plan, not a stand-in, was started */
	uint64		next_tuple;
	Size		next_offset;
	TupleTableSlot *slot;

	/* capture */
	MemoryContext capture_cxt;
	MinimalTuple *tuples;
	uint64		ntuples;
	uint64		max_tuples;
	Size		tuples_len;
	Size		capture_limit;
	bool		capture_failed; /* rows are still delivered, not stored */
	MinimalTuple held;			/* the look-ahead row, not yet delivered */
	TupleTableSlot *held_slot;
} QueryState;

/*
 * The tee between the executor and the query's receiver while capturing.
 * It forwards at most 'limit' rows (0: all) and holds back one more, so
 * that a run asked for N rows learns whether the plan had more to give;
 * the held row opens the next run.
 */
typedef struct TeeReceiver
{
	DestReceiver pub;
	DestReceiver *inner;
	QueryState *qs;
	uint64		limit;
	uint64		forwarded;
	bool		stopped;		/* the inner receiver asked to stop */
} TeeReceiver;

/* runs for at most this many rows look one row ahead (run_with_capture) */
#define CAPTURE_LOOK_AHEAD_MAX	2

static dlist_head active_queries = DLIST_STATIC_INIT(active_queries);
static bool exit_callback_registered = false;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;

static void cachealot_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void cachealot_ExecutorRun(QueryDesc *queryDesc,
								  ScanDirection direction,
								  uint64 count, bool execute_once);
static void cachealot_ExecutorFinish(QueryDesc *queryDesc);
static void cachealot_ExecutorEnd(QueryDesc *queryDesc);
static void executor_xact_callback(XactEvent event, void *arg);
static void executor_subxact_callback(SubXactEvent event,
									  SubTransactionId mySubid,
									  SubTransactionId parentSubid,
									  void *arg);

void
executor_install_hooks(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = cachealot_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = cachealot_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = cachealot_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = cachealot_ExecutorEnd;
	RegisterXactCallback(executor_xact_callback, NULL);
	RegisterSubXactCallback(executor_subxact_callback, NULL);
}

/* ---------------------------------------------------------------------
 * Query state bookkeeping
 * ---------------------------------------------------------------------
 */

static void
free_capture(QueryState *qs)
{
	if (qs->capture_cxt != NULL)
		MemoryContextDelete(qs->capture_cxt);
	qs->capture_cxt = NULL;
	qs->tuples = NULL;
	qs->ntuples = 0;
	qs->tuples_len = 0;
}

/* Forget a query: unpin its entry.  Safe to call more than once. */
static void
query_state_drop(QueryState *qs)
{
	if (qs->in_list)
	{
		dlist_delete(&qs->node);
		qs->in_list = false;
	}
	if (qs->entry != NULL)
	{
		CacheEntry *entry = qs->entry;

		qs->entry = NULL;
		cache_entry_unpin(entry);
	}
	qs->mode = MODE_DONE;
}

static void
query_state_reset_callback(void *arg)
{
	QueryState *qs = (QueryState *) arg;

	/* the capture context is a child of the context going away */
	qs->capture_cxt = NULL;
	query_state_drop(qs);
}

static QueryState *
query_state_find(QueryDesc *queryDesc)
{
	dlist_iter	iter;

	dlist_foreach(iter, &active_queries)
	{
		QueryState *qs = dlist_container(QueryState, node, iter.cur);

		if (qs->queryDesc == queryDesc)
			return qs;
	}
	return NULL;
}

static void
drop_queries_of_subxacts(SubTransactionId from_subid)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &active_queries)
	{
		QueryState *qs = dlist_container(QueryState, node, iter.cur);

		if (qs->subid >= from_subid)
			query_state_drop(qs);
	}
}

static void
executor_on_exit(int code, Datum arg)
{
	drop_queries_of_subxacts(InvalidSubTransactionId);
}

static void
executor_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		drop_queries_of_subxacts(InvalidSubTransactionId);
}

static void
executor_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		drop_queries_of_subxacts(mySubid);
}

/* ---------------------------------------------------------------------
 * Writes
 * ---------------------------------------------------------------------
 */

/*
 * Record every relation this statement may write, before it runs.  Rows
 * routed through a partitioned table land in partitions known only at run
 * time: those are recorded at ExecutorEnd, and until then the transaction
 * keeps away from the cache altogether.
 */
static void
record_statement_writes(PlannedStmt *pstmt)
{
	ListCell   *lc;

	if (pstmt->resultRelations == NIL)
		return;

	foreach(lc, pstmt->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), pstmt->rtable);

		record_written_relation(rte->relid);
	}
	foreach(lc, pstmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION &&
			rte->relkind == RELKIND_PARTITIONED_TABLE &&
			rte->rellockmode >= RowExclusiveLock)
		{
			record_written_relation(rte->relid);
			record_unlisted_writes();
		}
	}
}

static void
record_routed_writes(EState *estate)
{
	ListCell   *lc;

	foreach(lc, estate->es_tuple_routing_result_relations)
	{
		ResultRelInfo *rri = (ResultRelInfo *) lfirst(lc);

		record_written_relation(RelationGetRelid(rri->ri_RelationDesc));
	}
}

/* ---------------------------------------------------------------------
 * Eligibility of one execution
 * ---------------------------------------------------------------------
 */

/*
 * Where may replayed or captured rows go?  Receivers that write (SELECT
 * INTO, materialized views) are set before ExecutorStart and refused here.
 * Portals set theirs only at ExecutorRun, so ExecutorStart sees DestNone;
 * whatever they set then only transmits or collects rows.
 */
static bool
dest_is_cacheable(CommandDest dest)
{
	switch (dest)
	{
		case DestNone:
		case DestRemote:
		case DestRemoteExecute:
		case DestRemoteSimple:
		case DestSPI:
		case DestTuplestore:
		case DestCopyOut:
		case DestSQLFunction:
			return true;
		default:
			return false;
	}
}

/*
 * Why this session may not use the cache now, whatever the plan, or NULL if
 * it may.  Also asked before planning (stand_in.c).
 */
const char *
session_bypass_reason(void)
{
	if (!cachealot_enabled)
		return "cachealot.enabled is off";
	/* GetLatestSnapshot() is not allowed in parallel mode */
	if (IsInParallelMode())
		return "parallel mode";
	/* until hits take the predicate locks SSI needs */
	if (XactIsoLevel == XACT_SERIALIZABLE)
		return "SERIALIZABLE transaction";
	/* until invalidation can follow WAL on a standby */
	if (RecoveryInProgress())
		return "recovery is in progress";
	if (GinFuzzySearchLimit != 0)
		return "gin_fuzzy_search_limit is set";
	if (xact_blocks_cache())
		return "the transaction changed the catalog or wrote through a partitioned table";
	return NULL;
}

/*
 * Why this execution may not use the cache, or NULL if it may.  The reason
 * is reported at DEBUG2, to explain a bypass to whoever asks.
 */
static const char *
execution_bypass_reason(QueryDesc *queryDesc, int eflags)
{
	Snapshot	snap = queryDesc->snapshot;
	const char *reason = session_bypass_reason();

	if (reason != NULL)
		return reason;
	if (!plan_is_cacheable(queryDesc->plannedstmt))
		return "the query is not cacheable";
	if (queryDesc->plannedstmt->planTree->total_cost < cachealot_min_cost)
		return "the plan costs less than cachealot.min_cost";
	if (eflags & (EXEC_FLAG_EXPLAIN_ONLY | EXEC_FLAG_BACKWARD |
				  EXEC_FLAG_REWIND | EXEC_FLAG_WITH_NO_DATA))
		return "the plan may be rescanned or run backward";
	if (queryDesc->instrument_options != 0)
		return "the execution is instrumented";
	if (!dest_is_cacheable(queryDesc->dest->mydest))
		return "the rows do not go to a client, SPI or a tuplestore";
	if (snap == NULL || !IsMVCCSnapshot(snap) || HistoricSnapshotActive() ||
		snap->takenDuringRecovery)
		return "not an MVCC snapshot";
	if (queryDesc->plannedstmt->queryId == UINT64CONST(0))
		return "the statement has no query id";
	return NULL;
}

/* The statement's own slice of the source text, or false if it has none */
static bool
statement_text(QueryDesc *queryDesc, const char **text, int *len)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;

	return key_statement_text(queryDesc->sourceText, pstmt->stmt_location,
							  pstmt->stmt_len, text, len);
}

static int
slot_cmp(const void *a, const void *b)
{
	uint32		x = ((const SlotVersion *) a)->slot;
	uint32		y = ((const SlotVersion *) b)->slot;

	return (x > y) - (x < y);
}

/*
 * The slots a result depends on: the global slot, the database's, and one
 * per relation the plan reads (views and unpruned partitions included).
 * Sorted, without duplicates, versions zeroed.
 */
static SlotVersion *
collect_dependencies(PlannedStmt *pstmt, int *ndeps)
{
	int			max = list_length(pstmt->relationOids) + 2;
	SlotVersion *deps = palloc0(sizeof(SlotVersion) * max);
	ListCell   *lc;
	int			n = 0;
	int			i;
	int			out;

	deps[n++].slot = CACHEALOT_GLOBAL_SLOT;
	deps[n++].slot = slot_for_database(MyDatabaseId);
	foreach(lc, pstmt->relationOids)
		deps[n++].slot = slot_for_relation(MyDatabaseId, lfirst_oid(lc));

	qsort(deps, n, sizeof(SlotVersion), slot_cmp);
	for (i = 1, out = 1; i < n; i++)
		if (deps[i].slot != deps[out - 1].slot)
			deps[out++].slot = deps[i].slot;
	*ndeps = out;
	return deps;
}

/*
 * Is any dependency being written (between a writer's pre-commit and its
 * release)?  A full read barrier follows, so that versions read after this
 * returns false are at least as new as the pending counts seen.
 */
static bool
any_dependency_pending(const SlotVersion *deps, int ndeps)
{
	int			i;

	for (i = 0; i < ndeps; i++)
		if (pg_atomic_read_u32(&slot_get(deps[i].slot)->pending) != 0)
			return true;
	pg_read_barrier();
	return false;
}

/* Nothing pending on any dependency; then read their versions */
static bool
read_dependency_versions(SlotVersion *deps, int ndeps)
{
	int			i;

	if (any_dependency_pending(deps, ndeps))
		return false;
	for (i = 0; i < ndeps; i++)
		deps[i].version = pg_atomic_read_u64(&slot_get(deps[i].slot)->version);
	return true;
}

/* Are the dependencies still exactly as read, with nothing pending? */
static bool
dependencies_unchanged(const SlotVersion *deps, int ndeps)
{
	int			i;

	if (any_dependency_pending(deps, ndeps))
		return false;
	for (i = 0; i < ndeps; i++)
		if (pg_atomic_read_u64(&slot_get(deps[i].slot)->version) !=
			deps[i].version)
			return false;
	return true;
}

static int
xid_cmp(const void *a, const void *b)
{
	TransactionId x = *(const TransactionId *) a;
	TransactionId y = *(const TransactionId *) b;

	return (x > y) - (x < y);
}

static bool
xid_sets_equal(const TransactionId *a, const TransactionId *b, int n)
{
	TransactionId *sa;
	TransactionId *sb;
	bool		equal;

	if (n == 0 || memcmp(a, b, sizeof(TransactionId) * n) == 0)
		return true;
	sa = palloc(sizeof(TransactionId) * n);
	sb = palloc(sizeof(TransactionId) * n);
	memcpy(sa, a, sizeof(TransactionId) * n);
	memcpy(sb, b, sizeof(TransactionId) * n);
	qsort(sa, n, sizeof(TransactionId), xid_cmp);
	qsort(sb, n, sizeof(TransactionId), xid_cmp);
	equal = memcmp(sa, sb, sizeof(TransactionId) * n) == 0;
	pfree(sa);
	pfree(sb);
	return equal;
}

/*
 * Does the query's snapshot see every transaction that has finished?  If
 * the latest snapshot has the same bounds and the same in-progress sets,
 * no transaction with an xid finished since the query's was taken.
 */
static bool
snapshot_is_current(Snapshot snap)
{
	Snapshot	latest = GetLatestSnapshot();

	if (latest->xmin != snap->xmin || latest->xmax != snap->xmax ||
		latest->xcnt != snap->xcnt || latest->subxcnt != snap->subxcnt ||
		latest->suboverflowed != snap->suboverflowed ||
		latest->takenDuringRecovery != snap->takenDuringRecovery)
		return false;
	return xid_sets_equal(latest->xip, snap->xip, snap->xcnt) &&
		xid_sets_equal(latest->subxip, snap->subxip, snap->subxcnt);
}

/*
 * Prove that this execution may be served from, or stored into, the cache
 * at the versions read into 'deps':
 *	1. nothing it depends on is pending, nor written by this transaction;
 *	2. the versions are read after that check;
 *	3. this backend has processed every catalog invalidation sent so far,
 *	   and none arrived now (else the plan may predate a definition that
 *	   committed, and must not be stored under the new versions); the
 *	   catalog epochs are read before, for catalog_view_allows_store();
 *	4. the query's snapshot sees every finished transaction.
 */
static bool
lookup_is_safe(QueryDesc *queryDesc, SlotVersion *deps, int ndeps,
			   CatalogEpochsSeen *epochs)
{
	uint64		inval_before;
	int			i;

	for (i = 0; i < ndeps; i++)
		if (xact_wrote_slot(deps[i].slot))
			return false;
	if (!read_dependency_versions(deps, ndeps))
		return false;
	/* for a store: read before the invalidation messages are accepted */
	catalog_view_read(epochs);

	inval_before = SharedInvalidMessageCounter;
	AcceptInvalidationMessages();
	if (SharedInvalidMessageCounter != inval_before)
		return false;

	return snapshot_is_current(queryDesc->snapshot);
}

/* ---------------------------------------------------------------------
 * ExecutorStart
 * ---------------------------------------------------------------------
 */

static void
run_standard_start(QueryDesc *queryDesc, int eflags)
{
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static QueryState *
query_state_create(QueryDesc *queryDesc, QueryMode mode)
{
	EState	   *estate = queryDesc->estate;
	QueryState *qs;
	MemoryContextCallback *cb;

	qs = MemoryContextAllocZero(estate->es_query_cxt, sizeof(QueryState));
	qs->queryDesc = queryDesc;
	qs->subid = GetCurrentSubTransactionId();
	qs->mode = mode;

	cb = MemoryContextAlloc(estate->es_query_cxt, sizeof(MemoryContextCallback));
	cb->func = query_state_reset_callback;
	cb->arg = qs;
	MemoryContextRegisterResetCallback(estate->es_query_cxt, cb);

	if (!exit_callback_registered)
	{
		before_shmem_exit(executor_on_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	dlist_push_head(&active_queries, &qs->node);
	qs->in_list = true;
	return qs;
}

/*
 * Start a hit: the standard ExecutorStart over the stand-in plan, then the
 * query state that replays the entry.  A plan whose rows read settings
 * (plan_reads_settings) is started itself instead: if its first run takes
 * fewer rows than the entry holds, it runs after all (see replay_hit).  The
 * entry is unpinned if the start fails.
 */
static void
start_for_hit(QueryDesc *queryDesc, int eflags, CacheEntry *entry)
{
	bool		plan_started = plan_reads_settings(queryDesc->plannedstmt);

	PG_TRY();
	{
		QueryState *qs;

		if (!plan_started)
			queryDesc->plannedstmt = stand_in_for_hit(queryDesc->plannedstmt);
		run_standard_start(queryDesc, eflags);

		qs = query_state_create(queryDesc, MODE_HIT);
		qs->plan_started = plan_started;
		qs->slot = ExecAllocTableSlot(&queryDesc->estate->es_tupleTable,
									  queryDesc->tupDesc,
									  &TTSOpsMinimalTuple);
		/* last: from here on the query state owns the pin */
		qs->entry = entry;
	}
	PG_CATCH();
	{
		cache_entry_unpin(entry);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * The hit a stand-in plan was made for cannot be served: replace it with
 * the real plan of its statement and start that as any other plan.
 */
static void
start_planned_for_real(QueryDesc *queryDesc, int eflags)
{
	queryDesc->plannedstmt = stand_in_plan_for_real(queryDesc->plannedstmt,
													queryDesc->sourceText,
													queryDesc->params);
	cachealot_ExecutorStart(queryDesc, eflags);
}

static void
cachealot_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;
	const char *text;
	int			text_len;
	SlotVersion *deps = NULL;
	int			ndeps = 0;
	StringInfoData key;
	uint64		hash = 0;
	CacheEntry *entry = NULL;
	const char *reason;
	QueryState *qs;
	CatalogEpochsSeen epochs;
	bool		stand_in = plan_is_stand_in(pstmt);

	if (IsParallelWorker() || !store_is_ready())
	{
		if (stand_in)
			start_planned_for_real(queryDesc, eflags);
		else
			run_standard_start(queryDesc, eflags);
		return;
	}

	record_statement_writes(pstmt);

	if (queryDesc->operation != CMD_SELECT || pstmt->hasModifyingCTE)
	{
		run_standard_start(queryDesc, eflags);
		return;
	}

	reason = execution_bypass_reason(queryDesc, eflags);
	if (reason == NULL && !statement_text(queryDesc, &text, &text_len))
		reason = "the statement has no text of its own";
	if (reason == NULL)
	{
		deps = stand_in ? stand_in_dependencies(pstmt, &ndeps) :
			collect_dependencies(pstmt, &ndeps);
		if (!lookup_is_safe(queryDesc, deps, ndeps, &epochs))
			reason = "a dependency is being written or the snapshot is not current";
	}
	if (reason != NULL && stand_in)
	{
		/* the real plan comes back here and is counted there */
		start_planned_for_real(queryDesc, eflags);
		return;
	}
	if (reason != NULL)
	{
		elog(DEBUG2, "cachealot: bypass: %s", reason);
		stats_add(STAT_BYPASSES, 1);
		run_standard_start(queryDesc, eflags);
		return;
	}

	initStringInfo(&key);
	key_build(&key, text, text_len, pstmt->queryId, plan_resolved_oids(pstmt),
			  queryDesc->params, pstmt->planTree->targetlist);
	hash = key_hash(key.data, key.len);
	entry = cache_lookup(hash, key.data, key.len, deps, ndeps);

	if (entry != NULL)
	{
		stats_add(STAT_HITS, 1);
		start_for_hit(queryDesc, eflags, entry);
	}
	else if (stand_in)
	{
		/* the entry went between planning and now */
		start_planned_for_real(queryDesc, eflags);
	}
	else if (!key_text_is_storable(text, text_len))
	{
		/* never stored, so the lookup could not have found it either */
		elog(DEBUG2, "cachealot: bypass: a constant is a special datetime input, or may spell one");
		stats_add(STAT_BYPASSES, 1);
		run_standard_start(queryDesc, eflags);
	}
	else if (!catalog_view_allows_store(pstmt, &epochs))
	{
		/* the plan may predate a catalog change: its rows must not be kept */
		elog(DEBUG2, "cachealot: bypass: the catalog changed since the statement was planned");
		stats_add(STAT_BYPASSES, 1);
		run_standard_start(queryDesc, eflags);
	}
	else
	{
		MemoryContext cxt;

		stats_add(STAT_MISSES, 1);
		run_standard_start(queryDesc, eflags);

		qs = query_state_create(queryDesc, MODE_CAPTURE);
		cxt = queryDesc->estate->es_query_cxt;
		qs->key = MemoryContextAlloc(cxt, key.len);
		memcpy(qs->key, key.data, key.len);
		qs->key_len = key.len;
		qs->hash = hash;
		qs->deps = MemoryContextAlloc(cxt, sizeof(SlotVersion) * ndeps);
		memcpy(qs->deps, deps, sizeof(SlotVersion) * ndeps);
		qs->ndeps = ndeps;
		qs->capture_limit = cache_max_entry_bytes();
	}
	pfree(key.data);
	pfree(deps);
}

/*
 * A run that moves, served without standard_ExecutorRun: keep its check
 * that a query flagged for single execution runs only once.
 */
static void
note_execution(QueryDesc *queryDesc, bool execute_once)
{
	if (execute_once && queryDesc->already_executed)
		elog(ERROR, "can't re-execute query flagged for single execution");
	queryDesc->already_executed = true;
}

/* ---------------------------------------------------------------------
 * ExecutorRun: replay a hit
 * ---------------------------------------------------------------------
 */

static void
replay_hit(QueryState *qs, ScanDirection direction, uint64 count,
		   bool execute_once)
{
	QueryDesc  *queryDesc = qs->queryDesc;
	EState	   *estate = queryDesc->estate;
	DestReceiver *dest = queryDesc->dest;
	uint64		ntuples = cache_entry_ntuples(qs->entry);
	uint64		sent = 0;
	MemoryContext oldcxt;

	oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);
	estate->es_processed = 0;
	dest->rStartup(dest, CMD_SELECT, queryDesc->tupDesc);

	if (!ScanDirectionIsNoMovement(direction))
	{
		note_execution(queryDesc, execute_once);
		/* backward scans were refused at ExecutorStart */
		if (!ScanDirectionIsForward(direction))
			elog(ERROR, "cachealot cannot replay a cached result backward");

		if (queryDesc->totaltime)
			InstrStartNode(queryDesc->totaltime);
		while (qs->next_tuple < ntuples && (count == 0 || sent < count))
		{
			MinimalTuple tuple;

			/* a cancel or timeout must stop a replay as it stops a plan */
			CHECK_FOR_INTERRUPTS();
			tuple = cache_entry_tuple(qs->entry, qs->next_tuple,
									  &qs->next_offset);

			qs->next_tuple++;
			ExecStoreMinimalTuple(tuple, qs->slot, false);
			if (!dest->receiveSlot(qs->slot, dest))
				break;
			sent++;
		}
		ExecClearTuple(qs->slot);
		estate->es_processed = sent;
		if (queryDesc->totaltime)
			InstrStopNode(queryDesc->totaltime, (double) sent);
	}

	dest->rShutdown(dest);
	MemoryContextSwitchTo(oldcxt);
}

/* ---------------------------------------------------------------------
 * ExecutorRun: capture a miss
 * ---------------------------------------------------------------------
 */

/* Copy one row; TOAST pointers are fetched, they would dangle later */
static MinimalTuple
copy_row(TupleTableSlot *slot)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Datum	   *values = NULL;
	int			i;

	slot_getallattrs(slot);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		struct varlena *v;

		if (att->attlen != -1 || slot->tts_isnull[i])
			continue;
		v = (struct varlena *) DatumGetPointer(slot->tts_values[i]);
		if (!VARATT_IS_EXTERNAL(v) || VARATT_IS_EXTERNAL_EXPANDED(v))
			continue;
		if (values == NULL)
		{
			values = palloc(sizeof(Datum) * desc->natts);
			memcpy(values, slot->tts_values, sizeof(Datum) * desc->natts);
		}
		values[i] = PointerGetDatum(detoast_external_attr(v));
	}
	if (values == NULL)
		return ExecCopySlotMinimalTuple(slot);
	return heap_form_minimal_tuple(desc, values, slot->tts_isnull);
}

static void
capture_row(QueryState *qs, TupleTableSlot *slot)
{
	MemoryContext oldcxt;
	MinimalTuple tuple;

	if (qs->capture_cxt == NULL)
		qs->capture_cxt = AllocSetContextCreate(qs->queryDesc->estate->es_query_cxt,
												"cachealot capture",
												ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(qs->capture_cxt);
	tuple = copy_row(slot);
	qs->tuples_len += MAXALIGN(tuple->t_len);
	if (qs->tuples_len > qs->capture_limit)
	{
		/* too large to cache: stop copying, the query runs on */
		MemoryContextSwitchTo(oldcxt);
		qs->capture_failed = true;
		free_capture(qs);
		return;
	}
	if (qs->ntuples == qs->max_tuples)
	{
		qs->max_tuples = Max(64, qs->max_tuples * 2);
		if (qs->tuples == NULL)
			qs->tuples = palloc(sizeof(MinimalTuple) * qs->max_tuples);
		else
			qs->tuples = repalloc_huge(qs->tuples,
									   sizeof(MinimalTuple) * qs->max_tuples);
	}
	qs->tuples[qs->ntuples++] = tuple;
	MemoryContextSwitchTo(oldcxt);
}

static bool
tee_receive(TupleTableSlot *slot, DestReceiver *self)
{
	TeeReceiver *tee = (TeeReceiver *) self;
	QueryState *qs = tee->qs;

	if (!qs->capture_failed)
		capture_row(qs, slot);

	if (tee->limit > 0 && tee->forwarded == tee->limit)
	{
		/* the look-ahead row: keep it for the next run */
		qs->held = ExecCopySlotMinimalTuple(slot);
		return true;
	}
	tee->forwarded++;
	if (!tee->inner->receiveSlot(slot, tee->inner))
	{
		tee->stopped = true;
		qs->capture_failed = true;
		return false;
	}
	return true;
}

/* Start the inner receiver, then deliver the row held from the last run */
static void
tee_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	TeeReceiver *tee = (TeeReceiver *) self;
	QueryState *qs = tee->qs;

	tee->inner->rStartup(tee->inner, operation, typeinfo);
	if (qs->held != NULL)
	{
		MinimalTuple held = qs->held;

		qs->held = NULL;
		ExecStoreMinimalTuple(held, qs->held_slot, true);
		tee->forwarded++;
		if (!tee->inner->receiveSlot(qs->held_slot, tee->inner))
		{
			tee->stopped = true;
			qs->capture_failed = true;
		}
		ExecClearTuple(qs->held_slot);
	}
}

static void
tee_shutdown(DestReceiver *self)
{
	TeeReceiver *tee = (TeeReceiver *) self;

	tee->inner->rShutdown(tee->inner);
}

static void
tee_destroy(DestReceiver *self)
{
	/* the inner receiver belongs to whoever created it */
}

/* Store the captured result if it is complete and still valid */
static void
store_capture(QueryState *qs)
{
	if (xact_blocks_cache())
		return;
	/*
	 * Rows were computed under the settings of each run, which need not be
	 * those the key was built under at ExecutorStart (a SET between Bind
	 * and Execute, or between the fetches of a cursor).
	 */
	if (!key_settings_unchanged(qs->key, qs->key_len))
		return;
	for (int i = 0; i < qs->ndeps; i++)
		if (xact_wrote_slot(qs->deps[i].slot))
			return;
	if (!dependencies_unchanged(qs->deps, qs->ndeps))
		return;
	if (cache_store(qs->hash, qs->key, qs->key_len, qs->deps, qs->ndeps,
					qs->queryDesc->plannedstmt->planTree->total_cost,
					qs->tuples, qs->ntuples, qs->tuples_len))
		stats_add(STAT_STORES, 1);
}

static void
run_standard(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
			 bool execute_once)
{
	if (prev_ExecutorRun)
		prev_ExecutorRun(queryDesc, direction, count, execute_once);
	else
		standard_ExecutorRun(queryDesc, direction, count, execute_once);
}

/* Run the plan with 'dest' in place of the query's receiver */
static void
run_through(QueryDesc *queryDesc, DestReceiver *dest, ScanDirection direction,
			uint64 count, bool execute_once)
{
	DestReceiver *original = queryDesc->dest;

	queryDesc->dest = dest;
	PG_TRY();
	{
		run_standard(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		queryDesc->dest = original;
	}
	PG_END_TRY();
}

/*
 * Run the plan for a miss, copying its rows.  The copy is complete, and is
 * stored, when a run shows the plan exhausted:
 *	- a run for all rows, or one that got fewer rows than it asked for;
 *	- a run for one or two rows (a SQL function's statement, PL/pgSQL's
 *	  SELECT INTO) asks the plan for one more and holds it back: their
 *	  callers never ask again once they have what they need, so without
 *	  the look-ahead such results could never be stored.  Larger runs do
 *	  not look ahead, nor do plans whose rows read settings: a row
 *	  computed a run early would be computed under the settings of that
 *	  run, not of the one that delivers it.
 * Capture continues across runs (cursors, SPI fetches); ExecutorRewind has
 * no hook, but plans that may rewind never get here.
 */
static void
run_with_capture(QueryState *qs, ScanDirection direction, uint64 count,
				 bool execute_once)
{
	QueryDesc  *queryDesc = qs->queryDesc;
	EState	   *estate = queryDesc->estate;
	DestReceiver *original = queryDesc->dest;
	TeeReceiver tee;
	uint64		ask;
	bool		look_ahead;
	bool		exhausted;

	if (!ScanDirectionIsForward(direction))
	{
		/* no movement: nothing is fetched, the held row stays held */
		run_standard(queryDesc, direction, count, execute_once);
		return;
	}
	if (qs->held_slot == NULL)
		qs->held_slot = ExecAllocTableSlot(&estate->es_tupleTable,
										   queryDesc->tupDesc,
										   &TTSOpsMinimalTuple);

	memset(&tee, 0, sizeof(tee));
	tee.pub.receiveSlot = tee_receive;
	tee.pub.rStartup = tee_startup;
	tee.pub.rShutdown = tee_shutdown;
	tee.pub.rDestroy = tee_destroy;
	tee.pub.mydest = original->mydest;
	tee.inner = original;
	tee.qs = qs;
	look_ahead = count > 0 && count <= CAPTURE_LOOK_AHEAD_MAX &&
		!plan_reads_settings(queryDesc->plannedstmt);
	tee.limit = look_ahead ? count : 0;

	if (count == 1 && qs->held != NULL)
	{
		/* the held row is all this run wants: the plan need not run */
		MemoryContext oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);

		note_execution(queryDesc, execute_once);
		tee_startup(&tee.pub, CMD_SELECT, queryDesc->tupDesc);
		tee_shutdown(&tee.pub);
		MemoryContextSwitchTo(oldcxt);
		estate->es_processed = tee.forwarded;
		return;
	}

	/* the held row counts toward this run's rows */
	ask = 0;
	if (count > 0)
		ask = count - (qs->held != NULL ? 1 : 0) + (look_ahead ? 1 : 0);

	run_through(queryDesc, &tee.pub, direction, ask, execute_once);

	if (look_ahead)
		exhausted = !tee.stopped && qs->held == NULL;
	else
		exhausted = !tee.stopped && (count == 0 || tee.forwarded < count);
	estate->es_processed = tee.forwarded;
	if (exhausted && !qs->capture_failed)
		store_capture(qs);
	if (exhausted || qs->capture_failed)
		free_capture(qs);
	/* the plan returned its end already: it must not be run again */
	if (exhausted)
		qs->mode = MODE_EXHAUSTED;
}

/*
 * A run after the look-ahead found the end: what the executor would do on
 * an exhausted plan, without calling the plan again (some plans restart
 * when called past their end).
 */
static void
run_exhausted(QueryDesc *queryDesc, ScanDirection direction,
			  bool execute_once)
{
	EState	   *estate = queryDesc->estate;
	DestReceiver *dest = queryDesc->dest;
	MemoryContext oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);

	if (!ScanDirectionIsNoMovement(direction))
		note_execution(queryDesc, execute_once);
	estate->es_processed = 0;
	dest->rStartup(dest, CMD_SELECT, queryDesc->tupDesc);
	dest->rShutdown(dest);
	MemoryContextSwitchTo(oldcxt);
}

static void
cachealot_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
					  uint64 count, bool execute_once)
{
	QueryState *qs = NULL;

	if (!IsParallelWorker() && !dlist_is_empty(&active_queries))
		qs = query_state_find(queryDesc);

	/*
	 * A hit whose rows read settings, fetched in several runs: the rows of
	 * later runs would be computed under the settings of those runs, which
	 * the stored ones were not.  Its plan was started: it runs instead.
	 */
	if (qs != NULL && qs->mode == MODE_HIT && qs->plan_started &&
		qs->next_tuple == 0 && count > 0 && ScanDirectionIsForward(direction) &&
		count < cache_entry_ntuples(qs->entry))
		query_state_drop(qs);

	if (qs != NULL && qs->mode == MODE_HIT)
		replay_hit(qs, direction, count, execute_once);
	else if (qs != NULL && qs->mode == MODE_CAPTURE)
		run_with_capture(qs, direction, count, execute_once);
	else if (qs != NULL && qs->mode == MODE_EXHAUSTED)
		run_exhausted(queryDesc, direction, execute_once);
	else
		run_standard(queryDesc, direction, count, execute_once);
}

/* ---------------------------------------------------------------------
 * ExecutorFinish, ExecutorEnd
 * ---------------------------------------------------------------------
 */

static void
cachealot_ExecutorFinish(QueryDesc *queryDesc)
{
	if (prev_ExecutorFinish)
		prev_ExecutorFinish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);
}

static void
cachealot_ExecutorEnd(QueryDesc *queryDesc)
{
	if (!IsParallelWorker() && store_is_ready())
		record_routed_writes(queryDesc->estate);

	/* freeing es_query_cxt drops the query state, see the reset callback */
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}
