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

/* Not syscache IDs: the plan cache never matches them */
#define CACHEALOT_PLAN_MARKER	(-0x43A7)
#define CACHEALOT_RESOLVED_OID	(-0x43AA)
#define CACHEALOT_SETTINGS_READ	(-0x43AB)

/*
 * What the walk over a query collects besides its verdict: the values of
 * constants that name catalog objects ('t'::regclass, 'english'::regconfig
 * ...).  Parse analysis resolved them through the search path as it was
 * then, and core's query jumble leaves constants' values out, so they go
 * into the key (key.c).
 */
typedef struct WalkContext
{
	List	   *resolved_oids;
	bool		reads_settings; /* see plan_reads_settings() */
} WalkContext;

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
 * decide.  Used as a window function, its moving-aggregate functions may
 * run too.
 */
static bool
aggregate_is_mutable(Oid aggfnoid, bool windowed)
{
	HeapTuple	tup;
	Form_pg_aggregate agg;
	Oid			support[9];
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
	/* the moving-aggregate functions serve window frames that move */
	support[5] = windowed ? agg->aggmtransfn : InvalidOid;
	support[6] = windowed ? agg->aggminvtransfn : InvalidOid;
	support[7] = windowed ? agg->aggmfinalfn : InvalidOid;
	/* min() and max() may become an index scan ordered by this operator */
	support[8] = OidIsValid(agg->aggsortop) ? get_opcode(agg->aggsortop) :
		InvalidOid;
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

/* Types whose values are catalog OIDs that parse analysis looked up */
static bool
type_names_catalog_object(Oid type)
{
	switch (type)
	{
		case REGCLASSOID:
		case REGTYPEOID:
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
		case REGNAMESPACEOID:
		case REGROLEOID:
		case REGCOLLATIONOID:
			return true;
		default:
			return false;
	}
}

static bool
uncacheable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;

	if (IsA(node, Const) && context != NULL)
	{
		Const	   *c = (Const *) node;
		WalkContext *walk = (WalkContext *) context;

		if (!c->constisnull && type_names_catalog_object(c->consttype))
			walk->resolved_oids = lappend_oid(walk->resolved_oids,
											  DatumGetObjectId(c->constvalue));
		return false;
	}
	if (IsA(node, CoerceViaIO) && context != NULL)
		((WalkContext *) context)->reads_settings = true;

	if (check_functions_in_node(node, function_is_mutable, context))
		return true;

	switch (nodeTag(node))
	{
		case T_Aggref:
			if (aggregate_is_mutable(((Aggref *) node)->aggfnoid, false))
				return true;
			break;
		case T_WindowFunc:
			{
				Oid			winfnoid = ((WindowFunc *) node)->winfnoid;

				/* an aggregate used as a window function: as an Aggref */
				if (get_func_prokind(winfnoid) == PROKIND_AGGREGATE &&
					aggregate_is_mutable(winfnoid, true))
					return true;
			}
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
query_is_cacheable(Query *parse, int cursorOptions, WalkContext *walk)
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
	return !uncacheable_walker((Node *) parse, walk);
}

static PlannedStmt *
cachealot_planner(Query *parse, const char *query_string, int cursorOptions,
				  ParamListInfo boundParams)
{
	bool		cacheable;
	PlannedStmt *result;
	WalkContext walk = {NIL, false};

	/* the transaction whose catalog view this plan is made from */
	uint32		stamp = catalog_view_stamp();

	/* decide before planning: the planner scribbles on the tree */
	cacheable = store_is_ready() &&
		query_is_cacheable(parse, cursorOptions, &walk);

	/*
	 * A statement whose result is cached need not be planned at all, unless
	 * its rows read settings: then a hit fetched in several runs may have to
	 * run its plan after all (see plan_reads_settings()).
	 */
	if (cacheable && !walk.reads_settings)
	{
		result = stand_in_before_planning(parse, query_string, cursorOptions,
										  boundParams, walk.resolved_oids);
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
		plan_set_catalog_stamp(result, stamp);
		result->invalItems = list_concat(result->invalItems,
										 plan_resolved_items(walk.resolved_oids));
		if (walk.reads_settings)
			result->invalItems = lappend(result->invalItems,
										 plan_item(CACHEALOT_SETTINGS_READ, 0));
		stand_in_note_plan_cost(result->queryId, result->planTree->total_cost);
	}
	return result;
}

/*
 * The mark of a cacheable plan: first in its invalItems, with the stamp of
 * the transaction the plan was made in (catalog_view.c) as its hash value.
 */
PlanInvalItem *
plan_cacheable_marker(void)
{
	return plan_item(CACHEALOT_PLAN_MARKER, catalog_view_stamp());
}

static PlanInvalItem *
plan_marker(PlannedStmt *pstmt)
{
	PlanInvalItem *first;

	if (pstmt->invalItems == NIL)
		return NULL;
	first = (PlanInvalItem *) linitial(pstmt->invalItems);
	return first->cacheId == CACHEALOT_PLAN_MARKER ? first : NULL;
}

/* A PlanInvalItem of cachealot's: a cacheId no syscache has, and a value */
PlanInvalItem *
plan_item(int cacheId, uint32 value)
{
	PlanInvalItem *item = makeNode(PlanInvalItem);

	item->cacheId = cacheId;
	item->hashValue = value;
	return item;
}

/* The constants naming catalog objects, as items of a plan's invalItems */
List *
plan_resolved_items(List *resolved_oids)
{
	List	   *items = NIL;
	ListCell   *lc;

	foreach(lc, resolved_oids)
		items = lappend(items, plan_item(CACHEALOT_RESOLVED_OID,
										 lfirst_oid(lc)));
	return items;
}

/*
 * Do the plan's rows depend on settings as it runs?  Conversions through a
 * type's text form (float8 to text reads extra_float_digits, date to text
 * DateStyle, bytea to text bytea_output) are immutable, yet give other
 * text when a setting changes.  A result fetched in several runs is then
 * computed under the settings of each run: a hit may be replayed only when
 * its first run takes every row, and a miss looks no row ahead.
 */
bool
plan_reads_settings(PlannedStmt *pstmt)
{
	ListCell   *lc;

	foreach(lc, pstmt->invalItems)
		if (((PlanInvalItem *) lfirst(lc))->cacheId == CACHEALOT_SETTINGS_READ)
			return true;
	return false;
}

/* ... and back: the OIDs those constants named, in the query's order */
List *
plan_resolved_oids(PlannedStmt *pstmt)
{
	List	   *oids = NIL;
	ListCell   *lc;

	foreach(lc, pstmt->invalItems)
	{
		PlanInvalItem *item = (PlanInvalItem *) lfirst(lc);

		if (item->cacheId == CACHEALOT_RESOLVED_OID)
			oids = lappend_oid(oids, item->hashValue);
	}
	return oids;
}

/* Did the planner hook find this plan cacheable? */
bool
plan_is_cacheable(PlannedStmt *pstmt)
{
	return plan_marker(pstmt) != NULL;
}

/* The stamp of the transaction a cacheable plan was made in */
uint32
plan_catalog_stamp(PlannedStmt *pstmt)
{
	PlanInvalItem *marker = plan_marker(pstmt);

	return marker != NULL ? marker->hashValue : 0;
}

/*
 * A plan made now from a Query analysed earlier (a stand-in planned for
 * real) carries the stamp of that analysis.
 */
void
plan_set_catalog_stamp(PlannedStmt *pstmt, uint32 stamp)
{
	PlanInvalItem *marker = plan_marker(pstmt);

	if (marker != NULL)
		marker->hashValue = stamp;
}
