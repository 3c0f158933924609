/*-------------------------------------------------------------------------
 *
 * capture.c
 *		Capturing a miss: the rows of a run of the plan, copied into local
 *		memory as they go to the query's receiver, stored once complete.
 *
 * A capture goes through these phases:
 *
 *	1. Each run of the plan (ExecutorRun; cursors and SPI fetch in several)
 *	   goes through a tee receiver that copies every row, detoasted, before
 *	   passing it on.  A result larger than cachealot.max_entry_size stops
 *	   the copying; the rows still flow.
 *	2. A run for one or two rows asks the plan for one more and holds it
 *	   back (the look-ahead): fewer rows than asked means the plan is
 *	   exhausted.  The held row opens the next run.
 *	3. When a run shows the plan exhausted, the copy is complete: it is
 *	   stored if the settings it was keyed under still hold and nothing it
 *	   depends on changed (freshness.c).
 *	4. The plan must not be called past its end (some plans restart):
 *	   later runs do what the executor does on an exhausted plan.
 *
 * A capture lives in its query's es_query_cxt, its rows in a child
 * context; both go with the query.  Backend-local: no lock.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "executor/executor.h"
#include "utils/memutils.h"

#include "admission.h"
#include "capture.h"
#include "eligibility.h"
#include "freshness.h"
#include "key.h"
#include "stats.h"
#include "store.h"

/* runs for at most this many rows look one row ahead (run_capturing) */
#define CAPTURE_LOOK_AHEAD_MAX	2

struct Capture
{
	QueryDesc  *queryDesc;
	RunPlanFunction run_plan;	/* how the plan itself is run */

	/* what the store needs: key and dependencies */
	char	   *key;
	uint32		key_len;
	uint64		hash;
	SlotVersion *deps;
	int			ndeps;

	/* the copy */
	MemoryContext cxt;
	MinimalTuple *tuples;
	uint64		ntuples;
	uint64		max_tuples;
	Size		tuples_len;
	Size		limit;			/* cache_max_entry_bytes() */
	bool		failed;			/* rows are still delivered, not stored */
	MinimalTuple held;			/* the look-ahead row, not yet delivered */
	TupleTableSlot *held_slot;
	bool		exhausted;		/* phase 4 */
};

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
	Capture    *cap;
	uint64		limit;
	uint64		forwarded;
	bool		stopped;		/* the inner receiver asked to stop */
} TeeReceiver;

/*
 * A run that moves, served without standard_ExecutorRun: keep its check
 * that a query flagged for single execution runs only once.
 */
void
note_execution(QueryDesc *queryDesc, bool execute_once)
{
	if (execute_once && queryDesc->already_executed)
		elog(ERROR, "can't re-execute query flagged for single execution");
	queryDesc->already_executed = true;
}

static void
free_capture(Capture *cap)
{
	if (cap->cxt != NULL)
		MemoryContextDelete(cap->cxt);
	cap->cxt = NULL;
	cap->tuples = NULL;
	cap->ntuples = 0;
	cap->tuples_len = 0;
}

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
capture_row(Capture *cap, TupleTableSlot *slot)
{
	MemoryContext oldcxt;
	MinimalTuple tuple;

	if (cap->cxt == NULL)
		cap->cxt = AllocSetContextCreate(cap->queryDesc->estate->es_query_cxt,
												"cachealot capture",
												ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cap->cxt);
	tuple = copy_row(slot);
	cap->tuples_len += MAXALIGN(tuple->t_len);
	if (cap->tuples_len > cap->limit)
	{
		/* too large to cache: stop copying, the query runs on */
		MemoryContextSwitchTo(oldcxt);
		cap->failed = true;
		free_capture(cap);
		return;
	}
	if (cap->ntuples == cap->max_tuples)
	{
		cap->max_tuples = Max(64, cap->max_tuples * 2);
		if (cap->tuples == NULL)
			cap->tuples = palloc(sizeof(MinimalTuple) * cap->max_tuples);
		else
			cap->tuples = repalloc_huge(cap->tuples,
									   sizeof(MinimalTuple) * cap->max_tuples);
	}
	cap->tuples[cap->ntuples++] = tuple;
	MemoryContextSwitchTo(oldcxt);
}

static bool
tee_receive(TupleTableSlot *slot, DestReceiver *self)
{
	TeeReceiver *tee = (TeeReceiver *) self;
	Capture    *cap = tee->cap;

	if (!cap->failed)
		capture_row(cap, slot);

	if (tee->limit > 0 && tee->forwarded == tee->limit)
	{
		/* the look-ahead row: keep it for the next run */
		cap->held = ExecCopySlotMinimalTuple(slot);
		return true;
	}
	tee->forwarded++;
	if (!tee->inner->receiveSlot(slot, tee->inner))
	{
		tee->stopped = true;
		cap->failed = true;
		return false;
	}
	return true;
}

/* Start the inner receiver, then deliver the row held from the last run */
static void
tee_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	TeeReceiver *tee = (TeeReceiver *) self;
	Capture    *cap = tee->cap;

	tee->inner->rStartup(tee->inner, operation, typeinfo);
	if (cap->held != NULL)
	{
		MinimalTuple held = cap->held;

		cap->held = NULL;
		ExecStoreMinimalTuple(held, cap->held_slot, true);
		tee->forwarded++;
		if (!tee->inner->receiveSlot(cap->held_slot, tee->inner))
		{
			tee->stopped = true;
			cap->failed = true;
		}
		ExecClearTuple(cap->held_slot);
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

/* Phase 3: store the captured result if it is complete and still valid */
static void
store_capture(Capture *cap)
{
	/*
	 * Rows were computed under the settings of each run, which need not be
	 * those the key was built under at ExecutorStart (a SET between Bind
	 * and Execute, or between the fetches of a cursor).
	 */
	if (!key_settings_unchanged(cap->key, cap->key_len))
		return;
	if (!store_is_safe(cap->deps, cap->ndeps))
		return;
	if (cache_store(cap->hash, cap->key, cap->key_len, cap->deps, cap->ndeps,
					cap->queryDesc->plannedstmt->planTree->total_cost,
					cap->tuples, cap->ntuples, cap->tuples_len))
	{
		stats_add(STAT_STORES, 1);
		admission_note_store(cap->queryDesc->plannedstmt->queryId);
	}
}

/* Run the plan with 'dest' in place of the query's receiver */
static void
run_through(Capture *cap, DestReceiver *dest, ScanDirection direction,
			uint64 count, bool execute_once)
{
	QueryDesc  *queryDesc = cap->queryDesc;
	DestReceiver *original = queryDesc->dest;

	queryDesc->dest = dest;
	PG_TRY();
	{
		cap->run_plan(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		queryDesc->dest = original;
	}
	PG_END_TRY();
}

/*
 * Phases 1 and 2: run the plan, copying its rows.  The copy is complete,
 * and is stored, when a run shows the plan exhausted:
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
run_capturing(Capture *cap, ScanDirection direction, uint64 count,
			  bool execute_once)
{
	QueryDesc  *queryDesc = cap->queryDesc;
	EState	   *estate = queryDesc->estate;
	DestReceiver *original = queryDesc->dest;
	TeeReceiver tee;
	uint64		ask;
	bool		look_ahead;
	bool		exhausted;

	if (!ScanDirectionIsForward(direction))
	{
		/* no movement: nothing is fetched, the held row stays held */
		cap->run_plan(queryDesc, direction, count, execute_once);
		return;
	}
	if (cap->held_slot == NULL)
		cap->held_slot = ExecAllocTableSlot(&estate->es_tupleTable,
										   queryDesc->tupDesc,
										   &TTSOpsMinimalTuple);

	memset(&tee, 0, sizeof(tee));
	tee.pub.receiveSlot = tee_receive;
	tee.pub.rStartup = tee_startup;
	tee.pub.rShutdown = tee_shutdown;
	tee.pub.rDestroy = tee_destroy;
	tee.pub.mydest = original->mydest;
	tee.inner = original;
	tee.cap = cap;
	look_ahead = count > 0 && count <= CAPTURE_LOOK_AHEAD_MAX &&
		!plan_reads_settings(queryDesc->plannedstmt);
	tee.limit = look_ahead ? count : 0;

	if (count == 1 && cap->held != NULL)
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
		ask = count - (cap->held != NULL ? 1 : 0) + (look_ahead ? 1 : 0);

	run_through(cap, &tee.pub, direction, ask, execute_once);

	if (look_ahead)
		exhausted = !tee.stopped && cap->held == NULL;
	else
		exhausted = !tee.stopped && (count == 0 || tee.forwarded < count);
	estate->es_processed = tee.forwarded;
	if (exhausted && !cap->failed)
		store_capture(cap);
	if (exhausted || cap->failed)
		free_capture(cap);
	/* the plan returned its end already: it must not be run again */
	if (exhausted)
		cap->exhausted = true;
}

/*
 * Phase 4: a run after a run found the end: what the executor would do on
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

/*
 * Begin capturing the rows of 'queryDesc' (started, not yet run), to be
 * stored under this key and these dependencies.  'run_plan' runs the plan
 * (the executor hook chain).
 */
Capture *
capture_begin(QueryDesc *queryDesc, RunPlanFunction run_plan,
			  const char *key, uint32 key_len, uint64 hash,
			  const SlotVersion *deps, int ndeps)
{
	MemoryContext cxt = queryDesc->estate->es_query_cxt;
	Capture    *cap = MemoryContextAllocZero(cxt, sizeof(Capture));

	cap->queryDesc = queryDesc;
	cap->run_plan = run_plan;
	cap->key = MemoryContextAlloc(cxt, key_len);
	memcpy(cap->key, key, key_len);
	cap->key_len = key_len;
	cap->hash = hash;
	cap->deps = MemoryContextAlloc(cxt, sizeof(SlotVersion) * ndeps);
	memcpy(cap->deps, deps, sizeof(SlotVersion) * ndeps);
	cap->ndeps = ndeps;
	cap->limit = cache_max_entry_bytes();
	return cap;
}

/* One ExecutorRun of a captured query */
void
capture_run(Capture *cap, ScanDirection direction, uint64 count,
			bool execute_once)
{
	if (cap->exhausted)
		run_exhausted(cap->queryDesc, direction, execute_once);
	else
		run_capturing(cap, direction, count, execute_once);
}
