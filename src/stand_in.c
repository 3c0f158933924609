/*-------------------------------------------------------------------------
 *
 * stand_in.c
 *		Stand-in plans: how a hit goes through the executor without the
 *		work of its real plan, and, for a statement sent by the client,
 *		without the work of planning it.
 *
 * A hit replays stored rows, so its plan never runs; it still goes through
 * the standard ExecutorStart, which checks permissions on the range table
 * and builds the result descriptor from the plan's target list.  Starting
 * the real plan tree would also build everything the plan needs to run
 * (hash tables sized for the estimated groups, JIT code, parallel state),
 * which can cost more than the rest of the hit.  A stand-in plan is a
 * PlannedStmt with the same range table and a Result node whose columns are
 * NULL constants of the plan's column types.
 *
 * There are two kinds:
 *
 *	- stand_in_for_hit: at ExecutorStart, once a hit is certain, made from
 *	  the real plan;
 *	- stand_in_before_planning: made by the planner hook instead of planning
 *	  a statement that the client sent (simple query protocol, or the Bind
 *	  of a statement without parameters), when the cache holds a current
 *	  entry for its key.  Its range table lists every relation the Query
 *	  names, at any depth, so that ExecutorStart checks the same
 *	  permissions, and ends with a subquery entry that carries the Query
 *	  itself.  The entry's dependencies travel as PlanInvalItems (with
 *	  cacheIds no syscache has, so a plan cache never matches them).  At
 *	  ExecutorStart the hit is decided in full, as for any plan; if it
 *	  cannot be served after all (the entry went, a write is pending, the
 *	  execution is instrumented...), the carried Query is planned then
 *	  (stand_in_plan_for_real) and the real plan takes the stand-in's place
 *	  in the QueryDesc.  A stand-in kept by a plan cache therefore stays
 *	  correct: it is planned for real whenever it cannot be served.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "jit/jit.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"

#include "cachealot.h"
#include "catalog_view.h"
#include "eligibility.h"
#include "hint.h"
#include "key.h"
#include "stand_in.h"
#include "store.h"


/* the alias of the range table entry that carries the Query */
#define STAND_IN_QUERY_ALIAS	"cachealot_stand_in"

/* set while a stand-in is planned for real, so that it is not stood in for */
static bool planning_for_real = false;

/*
 * The key the last stand-in was made for, kept for its ExecutorStart so
 * that the key is built once per execution.  It is the key ExecutorStart
 * would build (same text, query id, catalog-naming constants, no
 * parameters, same columns), provided nothing ran between the planning and
 * the start that could change a setting, the user or the search path: any
 * other ExecutorStart, any utility statement and the end of the
 * transaction forget it (stand_in_forget_key), and so does the start it
 * was kept for.  A
 * stand-in started again later (a plan cache kept it) builds its key anew.
 */
typedef struct StandInKey
{
	uint32		number;			/* the stand-in's, 0: none kept */
	char	   *key;			/* in TopMemoryContext */
	uint32		len;
	uint32		space;
	uint64		hash;
} StandInKey;

static StandInKey last_key;
static uint32 stand_in_count = 0;

static void
keep_key(uint32 number, const char *key, uint32 len, uint64 hash)
{
	if (last_key.space < len)
	{
		if (last_key.key != NULL)
			pfree(last_key.key);
		last_key.key = MemoryContextAlloc(TopMemoryContext, len);
		last_key.space = len;
	}
	memcpy(last_key.key, key, len);
	last_key.len = len;
	last_key.hash = hash;
	last_key.number = number;
}

/* Something ran that may have changed what a key is built from */
void
stand_in_forget_key(void)
{
	last_key.number = 0;
}

/*
 * At the ExecutorStart of a stand-in: the key it was made for, if kept
 * and still the one that start would build (see StandInKey).  Valid until
 * the next stand-in is made.
 */
bool
stand_in_take_key(PlannedStmt *stand_in, const char **key, uint32 *len,
				  uint64 *hash)
{
	uint32		number = last_key.number;

	last_key.number = 0;
	if (number == 0 || plan_mark_value(stand_in, PLAN_MARK_STAND_IN) != number)
		return false;
	*key = last_key.key;
	*len = last_key.len;
	*hash = last_key.hash;
	return true;
}

/*
 * What this backend learnt of each query id (a small direct-mapped table):
 * the cost of its last plan, and how many probes for it missed in a row.
 * A statement whose plans cost less than cachealot.min_cost is never
 * stored, and one that keeps missing (its constants never repeat) is
 * unlikely to hit next time; probing for them before planning would be
 * work for nothing, so the first is not probed and the second only every
 * PROBE_RETRY_INTERVAL-th time.  Only a hint: a skipped probe just means
 * the statement is planned, and a hit is still found at ExecutorStart.
 */
#define QUERY_MEMO_SIZE			256
#define PROBE_MISSES_BEFORE_BACKOFF	16
#define PROBE_RETRY_INTERVAL	16

typedef struct QueryMemo
{
	uint64		queryId;
	Cost		last_cost;
	uint32		probe_misses;	/* consecutive */
} QueryMemo;

static QueryMemo query_memo[QUERY_MEMO_SIZE];

static QueryMemo *
query_memo_get(uint64 queryId)
{
	QueryMemo  *m = &query_memo[queryId % QUERY_MEMO_SIZE];

	if (m->queryId != queryId)
	{
		m->queryId = queryId;
		m->last_cost = -1;
		m->probe_misses = 0;
	}
	return m;
}

/* Called by the planner hook with the cost of a cacheable plan it made */
void
stand_in_note_plan_cost(uint64 queryId, Cost cost)
{
	if (queryId != UINT64CONST(0))
		query_memo_get(queryId)->last_cost = cost;
}

static bool
probe_is_worthwhile(QueryMemo *m)
{
	if (m->last_cost >= 0 && m->last_cost < cachealot_min_cost)
		return false;
	if (m->probe_misses >= PROBE_MISSES_BEFORE_BACKOFF &&
		m->probe_misses % PROBE_RETRY_INTERVAL != 0)
	{
		m->probe_misses++;
		return false;
	}
	return true;
}

/* A Result node with NULL constants for the columns of 'tlist' */
static Plan *
stand_in_result(List *tlist, Cost cost)
{
	Result	   *result = makeNode(Result);
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		TargetEntry *column = flatCopyTargetEntry(tle);
		Node	   *expr = (Node *) tle->expr;

		column->expr = (Expr *) makeNullConst(exprType(expr),
											  exprTypmod(expr),
											  exprCollation(expr));
		result->plan.targetlist = lappend(result->plan.targetlist, column);
	}
	result->plan.startup_cost = cost;
	result->plan.total_cost = cost;
	return (Plan *) result;
}

/* Was this plan made by stand_in_before_planning()? */
bool
plan_is_stand_in(PlannedStmt *pstmt)
{
	return plan_has_mark(pstmt, PLAN_MARK_STAND_IN);
}

/*
 * The plan a hit starts instead of its own: the same statement and range
 * table over a stand-in Result.  A stand-in is returned as it is.
 */
PlannedStmt *
stand_in_for_hit(PlannedStmt *pstmt)
{
	PlannedStmt *stand_in;

	if (plan_is_stand_in(pstmt))
		return pstmt;

	stand_in = makeNode(PlannedStmt);
	memcpy(stand_in, pstmt, sizeof(PlannedStmt));
	stand_in->planTree = stand_in_result(pstmt->planTree->targetlist,
										 pstmt->planTree->total_cost);
	stand_in->subplans = NIL;
	stand_in->paramExecTypes = NIL;
	stand_in->parallelModeNeeded = false;
	stand_in->jitFlags = PGJIT_NONE;
	return stand_in;
}

typedef struct RelationsContext
{
	List	   *rtable;			/* the RTE_RELATION entries, at any depth */
	List	   *relids;
} RelationsContext;

static bool
collect_relations_walker(Node *node, RelationsContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
		{
			ctx->rtable = lappend(ctx->rtable, rte);
			ctx->relids = list_append_unique_oid(ctx->relids, rte->relid);
		}
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, collect_relations_walker,
								 (void *) ctx, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, collect_relations_walker,
								  (void *) ctx);
}

/*
 * Is this the planning of a statement the client sent, which the caller
 * will start right away?  exec_simple_query() and exec_bind_message() plan
 * with the statement's text as debug_query_string, outside any portal; a
 * plan for a utility statement (EXPLAIN, COPY, CREATE TABLE AS), a
 * function or a cursor is made inside one, or from other text, or with
 * other cursor options.
 */
static bool
planning_client_statement(const char *query_string, int cursorOptions,
						  ParamListInfo boundParams)
{
	return !planning_for_real &&
		query_string != NULL && query_string == debug_query_string &&
		ActivePortal == NULL &&
		boundParams == NULL &&
		cursorOptions == CURSOR_OPT_PARALLEL_OK;
}

/*
 * The stand-in PlannedStmt for 'parse': 'result' as its plan, the Query's
 * relations (for the permission checks, the executor's locks and the plan
 * cache's invalidation) and the Query itself as its range table, and the
 * entry's dependencies among its invalItems.
 */
static PlannedStmt *
build_stand_in(Query *parse, Plan *result, RelationsContext *rels,
			   SlotVersion *deps, int ndeps, const QueryFindings *findings,
			   uint32 number)
{
	RangeTblEntry *carrier;
	PlannedStmt *stand_in;
	int			i;

	carrier = makeNode(RangeTblEntry);
	carrier->rtekind = RTE_SUBQUERY;
	carrier->subquery = parse;
	carrier->alias = makeAlias(STAND_IN_QUERY_ALIAS, NIL);
	carrier->eref = carrier->alias;

	stand_in = makeNode(PlannedStmt);
	stand_in->commandType = CMD_SELECT;
	stand_in->queryId = parse->queryId;
	stand_in->canSetTag = parse->canSetTag;
	stand_in->jitFlags = PGJIT_NONE;
	stand_in->planTree = result;
	stand_in->rtable = lappend(rels->rtable, carrier);
	stand_in->relationOids = rels->relids;
	plan_mark_cacheable(stand_in, catalog_view_stamp(), findings);
	stand_in->invalItems = lappend(stand_in->invalItems,
								   plan_item(PLAN_MARK_STAND_IN, number));
	for (i = 0; i < ndeps; i++)
		stand_in->invalItems = lappend(stand_in->invalItems,
									   plan_item(PLAN_MARK_STAND_IN_DEPENDENCY,
												 deps[i].slot));
	stand_in->utilityStmt = NULL;
	stand_in->stmt_location = parse->stmt_location;
	stand_in->stmt_len = parse->stmt_len;
	return stand_in;
}

/*
 * Called by the planner hook for a cacheable Query before planning it:
 * a stand-in plan if the cache holds a current entry for it, else NULL
 * (and the caller plans as usual).
 */
PlannedStmt *
stand_in_before_planning(Query *parse, const char *query_string,
						 int cursorOptions, ParamListInfo boundParams,
						 const QueryFindings *findings)
{
	const char *text;
	int			len;
	Plan	   *result;
	StringInfoData key;
	uint64		hash;
	SlotVersion *deps;
	int			ndeps;
	Cost		cost;
	bool		found;
	RelationsContext rels = {NIL, NIL};
	QueryMemo  *memo;
	PlannedStmt *stand_in;
	Oid			temp_namespace;
	Oid			temp_toast_namespace;

	if (!planning_client_statement(query_string, cursorOptions, boundParams))
		return NULL;
	if (parse->queryId == UINT64CONST(0) || parse->hasRowSecurity ||
		parse->rowMarks != NIL || parse->hasModifyingCTE)
		return NULL;
	if (session_bypass_reason() != NULL)
		return NULL;

	/*
	 * The key does not say where the session's temporary namespace sits in
	 * its search path, so with one, a name (or the body of a SQL function
	 * the planner would inline) may resolve to a temporary object under a
	 * key stored when it did not.  The planner sees such an object; without
	 * planning, only a session with no temporary namespace is safe.
	 */
	GetTempNamespaceState(&temp_namespace, &temp_toast_namespace);
	if (OidIsValid(temp_namespace))
		return NULL;
	memo = query_memo_get(parse->queryId);
	if (!probe_is_worthwhile(memo))
		return NULL;
	if (!key_statement_text(query_string, parse->stmt_location,
							parse->stmt_len, &text, &len) ||
		statement_hint_says_off(text, len))
		return NULL;

	/* a query that reads no relation is never cached: no key to build */
	(void) query_tree_walker(parse, collect_relations_walker, (void *) &rels,
							 QTW_EXAMINE_RTES_BEFORE);
	if (rels.relids == NIL)
		return NULL;

	result = stand_in_result(parse->targetList, 0);
	initStringInfo(&key);
	key_build(&key, text, len, parse->queryId, findings->resolved_oids, NULL,
			  result->targetlist);
	hash = key_hash(key.data, key.len);
	found = cache_probe(hash, key.data, key.len, &deps, &ndeps, &cost);
	if (!found)
	{
		pfree(key.data);
		memo->probe_misses++;
		return NULL;
	}
	memo->probe_misses = 0;
	if (cost < cachealot_min_cost || !relations_are_cacheable(rels.relids))
	{
		pfree(key.data);
		pfree(deps);
		return NULL;
	}
	result->startup_cost = cost;
	result->total_cost = cost;

	/* numbered, so that its ExecutorStart finds the key kept for it */
	if (++stand_in_count == 0)
		stand_in_count = 1;
	stand_in = build_stand_in(parse, result, &rels, deps, ndeps, findings,
							  stand_in_count);
	keep_key(stand_in_count, key.data, key.len, hash);
	pfree(key.data);
	pfree(deps);
	return stand_in;
}

/*
 * The dependencies of the entry a stand-in was made for: its slots, in the
 * entry's order, versions to be read.
 */
SlotVersion *
stand_in_dependencies(PlannedStmt *pstmt, int *ndeps)
{
	SlotVersion *deps = palloc0(sizeof(SlotVersion) *
								Max(list_length(pstmt->invalItems), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, pstmt->invalItems)
	{
		PlanInvalItem *item = (PlanInvalItem *) lfirst(lc);

		if (item->cacheId == (int) PLAN_MARK_STAND_IN_DEPENDENCY)
			deps[n++].slot = item->hashValue;
	}
	*ndeps = n;
	return deps;
}

/*
 * Plan the statement a stand-in stood for, after all.  The carried Query
 * is copied first: planning scribbles on it, and a plan cache may start
 * the same stand-in again.
 */
PlannedStmt *
stand_in_plan_for_real(PlannedStmt *stand_in, const char *source_text,
					   ParamListInfo params)
{
	RangeTblEntry *carrier = llast_node(RangeTblEntry, stand_in->rtable);
	bool		was_planning_for_real = planning_for_real;
	PlannedStmt *result;

	Assert(plan_is_stand_in(stand_in));
	Assert(carrier->rtekind == RTE_SUBQUERY && carrier->subquery != NULL);

	planning_for_real = true;
	PG_TRY();
	{
		result = planner(copyObject(carrier->subquery), source_text,
						 CURSOR_OPT_PARALLEL_OK, params);
	}
	PG_FINALLY();
	{
		planning_for_real = was_planning_for_real;
	}
	PG_END_TRY();
	/* its Query was analysed when the stand-in was made */
	plan_set_catalog_stamp(result, plan_catalog_stamp(stand_in));
	return result;
}
