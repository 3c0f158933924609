/*-------------------------------------------------------------------------
 *
 * eligibility.c
 *		Which plans may be cached at all: the planner hook's verdict.
 *
 * The verdict depends only on the query tree, so it is reached once, when
 * the plan is made, and travels with the PlannedStmt through plan caches:
 * cacheable plans carry a marker PlanInvalItem whose cacheId is no syscache
 * ID, so the plan cache never matches it against an invalidation.  A plan
 * without the marker is never cached.
 *
 * A query is cacheable when it is a plain SELECT (no data-modifying WITH,
 * no FOR UPDATE/SHARE, no holdable or scrollable cursor) and, on the whole
 * rewritten tree including views and row security quals:
 *	- every function it calls is IMMUTABLE (aggregates by their support
 *	  functions, domains by their constraints);
 *	- it has no SQL value functions (CURRENT_USER ...), sequences, TABLESAMPLE,
 *	  system columns changed by row locks, or transition tables;
 *	- every relation the final plan reads is an ordinary or partitioned
 *	  table, a view or a materialized view, user-defined and not temporary;
 *	- its result has no anonymous record type.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/sysattr.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "cachealot.h"

/* Not a syscache ID: the plan cache never matches it */
#define CACHEALOT_PLAN_MARKER	(-0x43A7)

static planner_hook_type prev_planner_hook = NULL;

static PlannedStmt *cachealot_planner(Query *parse, const char *query_string,
									  int cursorOptions,
									  ParamListInfo boundParams);
static bool uncacheable_walker(Node *node, void *context);

void
eligibility_install_planner_hook(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = cachealot_planner;
}

static bool
function_is_mutable(Oid funcid, void *context)
{
	return func_volatile(funcid) != PROVOLATILE_IMMUTABLE;
}

/*
 * An aggregate's own pg_proc volatility says nothing; its support functions
 * decide.
 */
static bool
aggregate_is_mutable(Oid aggfnoid)
{
	HeapTuple	tup;
	Form_pg_aggregate agg;
	Oid			support[5];
	int			i;
	bool		mutable = false;

	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tup))
		return true;
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	support[0] = agg->aggtransfn;
	support[1] = agg->aggfinalfn;
	support[2] = agg->aggcombinefn;
	support[3] = agg->aggserialfn;
	support[4] = agg->aggdeserialfn;
	ReleaseSysCache(tup);

	for (i = 0; i < lengthof(support) && !mutable; i++)
		mutable = OidIsValid(support[i]) && function_is_mutable(support[i], NULL);
	return mutable;
}

/*
 * A domain whose constraints call anything not immutable.  The constraint
 * reference registers a callback on the context it lives in, so it gets a
 * context of its own, deleted (and the callback run) before returning.
 */
static bool
domain_is_mutable(Oid domaintype)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	DomainConstraintRef *ref;
	ListCell   *lc;
	bool		mutable = false;

	if (!DomainHasConstraints(domaintype))
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "cachealot domain check",
								ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	ref = palloc(sizeof(DomainConstraintRef));
	InitDomainConstraintRef(domaintype, ref, cxt, false);
	foreach(lc, ref->constraints)
	{
		DomainConstraintState *con = (DomainConstraintState *) lfirst(lc);

		if (con->check_expr != NULL &&
			uncacheable_walker((Node *) con->check_expr, NULL))
		{
			mutable = true;
			break;
		}
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return mutable;
}

static bool
type_is_anonymous_record(Oid type)
{
	Oid			base = getBaseType(type);

	return base == RECORDOID || base == RECORDARRAYOID;
}

static bool
rte_is_uncacheable(RangeTblEntry *rte)
{
	switch (rte->rtekind)
	{
		case RTE_RELATION:
			return rte->tablesample != NULL;
		case RTE_NAMEDTUPLESTORE:
			return true;		/* trigger transition tables */
		default:
			return false;
	}
}

static bool
uncacheable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;

	if (check_functions_in_node(node, function_is_mutable, context))
		return true;

	switch (nodeTag(node))
	{
		case T_Aggref:
			if (aggregate_is_mutable(((Aggref *) node)->aggfnoid))
				return true;
			break;
		case T_SQLValueFunction:
		case T_NextValueExpr:
		case T_CurrentOfExpr:
			return true;
		case T_CoerceToDomain:
			if (domain_is_mutable(((CoerceToDomain *) node)->resulttype))
				return true;
			break;
		case T_Var:
			{
				AttrNumber	attno = ((Var *) node)->varattno;

				/* row locks change these without a write */
				if (attno == MaxTransactionIdAttributeNumber ||
					attno == MinCommandIdAttributeNumber ||
					attno == MaxCommandIdAttributeNumber)
					return true;
			}
			break;
		case T_RangeTblEntry:
			return rte_is_uncacheable((RangeTblEntry *) node);
		case T_Query:
			{
				Query	   *query = (Query *) node;

				if (query->commandType != CMD_SELECT ||
					query->rowMarks != NIL || query->hasModifyingCTE)
					return true;
				return query_tree_walker(query, uncacheable_walker, context,
										 QTW_EXAMINE_RTES_BEFORE);
			}
		default:
			break;
	}
	return expression_tree_walker(node, uncacheable_walker, context);
}

/* Every relation the final plan reads must be one cachealot can track */
bool
relations_are_cacheable(List *relationOids)
{
	ListCell   *lc;

	if (relationOids == NIL)
		return false;			/* SELECT 1 gains nothing */

	foreach(lc, relationOids)
	{
		Oid			relid = lfirst_oid(lc);
		char		relkind;

		/* system catalogs change without passing through the executor */
		if (relid < FirstNormalObjectId)
			return false;
		relkind = get_rel_relkind(relid);
		if (relkind != RELKIND_RELATION &&
			relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_VIEW &&
			relkind != RELKIND_MATVIEW)
			return false;
		if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
			return false;
	}
	return true;
}

static bool
result_is_cacheable(Query *parse)
{
	ListCell   *lc;

	foreach(lc, parse->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!tle->resjunk &&
			type_is_anonymous_record(exprType((Node *) tle->expr)))
			return false;
	}
	return true;
}

static bool
query_is_cacheable(Query *parse, int cursorOptions)
{
	if (parse->commandType != CMD_SELECT || parse->utilityStmt != NULL)
		return false;
	/* reads no relation (SELECT 1): nothing to cache, no need to look */
	if (parse->rtable == NIL && !parse->hasSubLinks)
		return false;
	if (cursorOptions & (CURSOR_OPT_HOLD | CURSOR_OPT_SCROLL))
		return false;
	if (!result_is_cacheable(parse))
		return false;
	return !uncacheable_walker((Node *) parse, NULL);
}

static PlannedStmt *
cachealot_planner(Query *parse, const char *query_string, int cursorOptions,
				  ParamListInfo boundParams)
{
	bool		cacheable;
	PlannedStmt *result;

	/* decide before planning: the planner scribbles on the tree */
	cacheable = store_is_ready() && query_is_cacheable(parse, cursorOptions);

	/* a statement whose result is cached need not be planned at all */
	if (cacheable)
	{
		result = stand_in_before_planning(parse, query_string, cursorOptions,
										  boundParams);
		if (result != NULL)
			return result;
	}

	if (prev_planner_hook)
		result = prev_planner_hook(parse, query_string, cursorOptions,
								   boundParams);
	else
		result = standard_planner(parse, query_string, cursorOptions,
								  boundParams);

	if (cacheable && relations_are_cacheable(result->relationOids))
	{
		result->invalItems = lcons(plan_cacheable_marker(), result->invalItems);
		stand_in_note_plan_cost(result->queryId, result->planTree->total_cost);
	}
	return result;
}

/* The mark of a cacheable plan: first in its invalItems */
PlanInvalItem *
plan_cacheable_marker(void)
{
	PlanInvalItem *marker = makeNode(PlanInvalItem);

	marker->cacheId = CACHEALOT_PLAN_MARKER;
	marker->hashValue = 0;
	return marker;
}

/* Did the planner hook find this plan cacheable? */
bool
plan_is_cacheable(PlannedStmt *pstmt)
{
	PlanInvalItem *first;

	if (pstmt->invalItems == NIL)
		return false;
	first = (PlanInvalItem *) linitial(pstmt->invalItems);
	return first->cacheId == CACHEALOT_PLAN_MARKER;
}
