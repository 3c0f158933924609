/*-------------------------------------------------------------------------
 *
 * executor.c
 *		Executor hooks: recording writes, deciding whether an execution may
 *		use the cache, serving hits and capturing misses.
 *
 * ExecutorStart records the result relations of a write before the plan
 * can run (triggers and functions in the same statement may read them;
 * writes.c).  For a cacheable SELECT (eligibility.c) it proves the cache
 * may be used (freshness.c), builds the key (key.c), and looks it up:
 *	- hit: the entry is pinned, the standard ExecutorStart still runs (it
 *	  checks permissions and builds the result descriptor) with JIT off, and
 *	  ExecutorRun replays the stored rows into the query's own DestReceiver;
 *	- miss: ExecutorRun runs the plan while capture.c copies its rows; once
 *	  complete, the result is stored, provided nothing it depends on
 *	  changed meanwhile (freshness.c).
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

#include "access/xact.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/memutils.h"

#include "admission.h"
#include "cachealot.h"
#include "capture.h"
#include "catalog_view.h"
#include "eligibility.h"
#include "executor.h"
#include "freshness.h"
#include "hint.h"
#include "key.h"
#include "parse_analysis.h"
#include "stand_in.h"
#include "stats.h"
#include "store.h"
#include "writes.h"

typedef enum QueryMode
{
	MODE_DONE,					/* nothing more to do for this query */
	MODE_HIT,					/* replaying a pinned entry */
	MODE_CAPTURE				/* a miss: capture.c runs the plan */
} QueryMode;

typedef struct QueryState
{
	dlist_node	node;			/* in active_queries */
	bool		in_list;
	QueryDesc  *queryDesc;
	SubTransactionId subid;
	QueryMode	mode;
	bool		timed;			/* admission wants its time */
	instr_time	started;

	/* hit */
	CacheEntry *entry;
	bool		plan_started;	/* the real plan, not a stand-in, was started */
	uint64		next_tuple;
	Size		next_offset;
	TupleTableSlot *replay_tts;

	/* miss */
	Capture    *capture;
} QueryState;

static dlist_head active_queries = DLIST_STATIC_INIT(active_queries);
static bool exit_callback_registered = false;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;

static void cachealot_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void cachealot_ExecutorRun(QueryDesc *queryDesc,
								  ScanDirection direction,
								  uint64 count, bool execute_once);
static void cachealot_ExecutorEnd(QueryDesc *queryDesc);
static void executor_xact_callback(XactEvent event, void *arg);
static void executor_subxact_callback(SubXactEvent event,
									  SubTransactionId mySubid,
									  SubTransactionId parentSubid,
									  void *arg);

/* Called from _PG_init */
void
executor_init(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = cachealot_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = cachealot_ExecutorRun;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = cachealot_ExecutorEnd;
	RegisterXactCallback(executor_xact_callback, NULL);
	RegisterSubXactCallback(executor_subxact_callback, NULL);
}

/* ---------------------------------------------------------------------
 * Query state bookkeeping
 * ---------------------------------------------------------------------
 */

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

	/* the capture goes with the context, which is going away */
	qs->capture = NULL;
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

	/*
	 * A stand-in's key is for a start in the transaction that planned it:
	 * in between two transactions, a fast-path function call may have
	 * changed a setting without an ExecutorStart.
	 */
	stand_in_forget_key();
}

static void
executor_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		drop_queries_of_subxacts(mySubid);
}

/* ---------------------------------------------------------------------
 * ExecutorStart
 * ---------------------------------------------------------------------
 */

/* The statement's own slice of the source text, or false if it has none */
static bool
statement_text(QueryDesc *queryDesc, const char **text, int *len)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;

	return key_statement_text(queryDesc->sourceText, pstmt->stmt_location,
							  pstmt->stmt_len, text, len);
}

/* The rest of the ExecutorRun chain: for misses, and what bypasses */
static void
run_standard(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
			 bool execute_once)
{
	if (prev_ExecutorRun)
		prev_ExecutorRun(queryDesc, direction, count, execute_once);
	else
		standard_ExecutorRun(queryDesc, direction, count, execute_once);
}

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
static QueryState *
start_for_hit(QueryDesc *queryDesc, int eflags, CacheEntry *entry)
{
	bool		plan_started = plan_reads_settings(queryDesc->plannedstmt);
	QueryState *qs = NULL;

	PG_TRY();
	{
		if (!plan_started)
			queryDesc->plannedstmt = stand_in_for_hit(queryDesc->plannedstmt);
		run_standard_start(queryDesc, eflags);

		qs = query_state_create(queryDesc, MODE_HIT);
		qs->plan_started = plan_started;
		qs->replay_tts = ExecAllocTableSlot(&queryDesc->estate->es_tupleTable,
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
	return qs;
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

/* An execution that bypasses the cache: counted, and why, at DEBUG2 */
static void
start_bypassing(QueryDesc *queryDesc, int eflags, const char *reason)
{
	if (message_level_is_interesting(DEBUG2))
		elog(DEBUG2, "cachealot: bypass: %s", reason);
	stats_add(STAT_BYPASSES, 1);
	run_standard_start(queryDesc, eflags);
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
	const char *key_data;
	uint32		key_len;
	bool		key_built = false;
	uint64		hash = 0;
	CacheEntry *entry = NULL;
	const char *reason;
	QueryState *qs;
	CatalogEpochsSeen epochs;
	bool		stand_in = plan_is_stand_in(pstmt);
	AdmissionMemo *memo = NULL;
	bool		timed;
	instr_time	started;

	if (!cachealot_active())
	{
		if (stand_in)
			start_planned_for_real(queryDesc, eflags);
		else
			run_standard_start(queryDesc, eflags);
		return;
	}

	/* the key kept for a stand-in is for its own start, right after planning */
	if (!stand_in || !stand_in_take_key(pstmt, &key_data, &key_len, &hash))
	{
		stand_in_forget_key();
		key_data = NULL;
	}

	record_plan_writes(pstmt);

	if (queryDesc->operation != CMD_SELECT || pstmt->hasModifyingCTE)
	{
		run_standard_start(queryDesc, eflags);
		return;
	}
	/* a skip by admission before planning was counted there */
	if (plan_was_skipped(pstmt))
	{
		parse_analysis_start_skipped(pstmt);
		run_standard_start(queryDesc, eflags);
		return;
	}

	reason = execution_bypass_reason(queryDesc, eflags);
	if (reason == NULL)
	{
		memo = admission_statement(pstmt->queryId);
		/* a stand-in was made for an entry that is there: no skip */
		if (!stand_in && admission_skips(memo))
		{
			run_standard_start(queryDesc, eflags);
			return;
		}
	}
	if (reason == NULL && !statement_text(queryDesc, &text, &text_len))
		reason = "the statement has no text of its own";
	if (reason == NULL && statement_hint_says_off(text, text_len))
		reason = "the statement's hint says cachealot(off)";
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
		start_bypassing(queryDesc, eflags, reason);
		return;
	}

	if (key_data == NULL)
	{
		initStringInfo(&key);
		key_build(&key, text, text_len, pstmt->queryId,
				  plan_resolved_oids(pstmt), queryDesc->params,
				  pstmt->planTree->targetlist);
		key_data = key.data;
		key_len = key.len;
		key_built = true;
		hash = key_hash(key_data, key_len);
	}
	entry = cache_lookup(hash, key_data, key_len, deps, ndeps);
	timed = admission_times(memo);
	if (timed)
		INSTR_TIME_SET_CURRENT(started);

	if (entry != NULL)
	{
		stats_add(STAT_HITS, 1);
		admission_note_hit(memo);
		qs = start_for_hit(queryDesc, eflags, entry);
		qs->timed = timed;
		qs->started = started;
	}
	else if (stand_in)
	{
		/* the entry went between planning and now */
		start_planned_for_real(queryDesc, eflags);
	}
	else if (!key_text_is_storable(text, text_len))
	{
		/* never stored, so the lookup could not have found it either */
		start_bypassing(queryDesc, eflags,
						"a constant is a special datetime input, or may spell one");
	}
	else if (!catalog_view_allows_store(plan_catalog_stamp(pstmt), &epochs))
	{
		/* the plan may predate a catalog change: its rows must not be kept */
		start_bypassing(queryDesc, eflags,
						"the catalog changed since the statement was planned");
	}
	else if (!admission_note_miss(memo, hash, pstmt->planTree->total_cost))
	{
		/* not worth capturing: counted as a miss, and as rejected */
		stats_add(STAT_MISSES, 1);
		run_standard_start(queryDesc, eflags);
	}
	else
	{
		stats_add(STAT_MISSES, 1);
		run_standard_start(queryDesc, eflags);

		qs = query_state_create(queryDesc, MODE_CAPTURE);
		qs->timed = timed;
		qs->started = started;
		qs->capture = capture_begin(queryDesc, run_standard, key_data, key_len,
									hash, deps, ndeps);
	}
	if (key_built)
		pfree(key.data);
	pfree(deps);
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
			ExecStoreMinimalTuple(tuple, qs->replay_tts, false);
			if (!dest->receiveSlot(qs->replay_tts, dest))
				break;
			sent++;
		}
		ExecClearTuple(qs->replay_tts);
		estate->es_processed = sent;
		if (queryDesc->totaltime)
			InstrStopNode(queryDesc->totaltime, (double) sent);
	}

	dest->rShutdown(dest);
	MemoryContextSwitchTo(oldcxt);
}

/* ---------------------------------------------------------------------
 * ExecutorRun
 * ---------------------------------------------------------------------
 */

static void
cachealot_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
					  uint64 count, bool execute_once)
{
	QueryState *qs = NULL;

	if (cachealot_active() && !dlist_is_empty(&active_queries))
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
		capture_run(qs->capture, direction, count, execute_once);
	else
		run_standard(queryDesc, direction, count, execute_once);
}

/* ---------------------------------------------------------------------
 * ExecutorEnd
 * ---------------------------------------------------------------------
 */

/* A timed hit or miss: what it took, from ExecutorStart on, for admission */
static void
note_time_taken(QueryDesc *queryDesc)
{
	QueryState *qs = query_state_find(queryDesc);
	instr_time	elapsed;

	if (qs == NULL || !qs->timed || qs->mode == MODE_DONE)
		return;
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, qs->started);
	admission_note_time(queryDesc->plannedstmt->queryId, qs->mode == MODE_HIT,
						elapsed);
	qs->timed = false;
}

static void
cachealot_ExecutorEnd(QueryDesc *queryDesc)
{
	if (cachealot_active())
	{
		record_routed_writes(queryDesc->estate);
		if (!dlist_is_empty(&active_queries))
			note_time_taken(queryDesc);
	}

	/* freeing es_query_cxt drops the query state, see the reset callback */
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}
