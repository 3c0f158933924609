/*-------------------------------------------------------------------------
 *
 * eligibility.c
 *		Pure verdicts: may this query, relation, session or execution use
 *		the cache?  And the marks that carry a plan's verdict.
 *
 * The query's verdict depends only on the query tree, so it is reached
 * once, when the plan is made (planner.c), and travels with the
 * PlannedStmt through plan caches as marks: PlanInvalItems whose cacheId
 * is no syscache ID, so the plan cache never matches them against an
 * invalidation (eligibility.h lists them; each is found by its value).
 * A plan without the cacheable mark is never cached.
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
 * A session or an execution may still bypass: see session_bypass_reason()
 * and execution_bypass_reason().
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
#include "catalog/pg_language.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "access/gin.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "cachealot.h"
#include "eligibility.h"
#include "key.h"
#include "table_lists.h"
#include "writes.h"


static bool uncacheable_walker(Node *node, void *context);
static bool plan_is_cacheable(PlannedStmt *pstmt);

/*
 * Is this function not immutable?  On the way, note in 'context' (the
 * walk's QueryFindings, if any) whether its result may depend on settings
 * as the query runs: a type's input or output function (float8out reads
 * extra_float_digits, byteaout bytea_output ...), or a function written in
 * a language that may do the same inside (an SQL function the planner
 * inlines, a PL/pgSQL body with a cast to text).  Only C and internal
 * functions that are not I/O functions are taken at their word.
 */
static bool
function_is_mutable(Oid funcid, void *context)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		mutable;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return true;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	mutable = proc->provolatile != PROVOLATILE_IMMUTABLE;
	if (context != NULL && !mutable &&
		(proc->prorettype == CSTRINGOID ||
		 (proc->pronargs > 0 && proc->proargtypes.values[0] == CSTRINGOID) ||
		 (proc->prolang != INTERNALlanguageId &&
		  proc->prolang != ClanguageId)))
		((QueryFindings *) context)->reads_settings = true;
	ReleaseSysCache(tup);
	return mutable;
}

/*
 * An aggregate's own pg_proc volatility says nothing; its support functions
 * decide.  Used as a window function, its moving-aggregate functions may
 * run too.
 */
static bool
aggregate_is_mutable(Oid aggfnoid, bool windowed, void *context)
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
		mutable = OidIsValid(support[i]) &&
			function_is_mutable(support[i], context);
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
type_is_catalog_object_array(Oid type)
{
	switch (type)
	{
		case REGCLASSARRAYOID:
		case REGTYPEARRAYOID:
		case REGPROCARRAYOID:
		case REGPROCEDUREARRAYOID:
		case REGOPERARRAYOID:
		case REGOPERATORARRAYOID:
		case REGCONFIGARRAYOID:
		case REGDICTIONARYARRAYOID:
		case REGNAMESPACEARRAYOID:
		case REGROLEARRAYOID:
		case REGCOLLATIONARRAYOID:
			return true;
		default:
			return false;
	}
}

/* The elements of an array constant of catalog-naming type ('{a}'::regclass[]) */
static void
add_resolved_elements(QueryFindings *walk, Const *c)
{
	ArrayType  *array = DatumGetArrayTypeP(c->constvalue);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	deconstruct_array(array, ARR_ELEMTYPE(array), sizeof(Oid), true,
					  TYPALIGN_INT, &elems, &nulls, &n);
	/* the count too: {a,NULL} and {a} must differ */
	walk->resolved_oids = lappend_oid(walk->resolved_oids, (Oid) n);
	for (i = 0; i < n; i++)
		walk->resolved_oids = lappend_oid(walk->resolved_oids,
										  nulls[i] ? InvalidOid :
										  DatumGetObjectId(elems[i]));
}


/*
 * Does this type's input function read the same value from the same text
 * whatever the settings?  Not the date and time types (DateStyle,
 * TimeZone, timezone_abbreviations, IntervalStyle), arrays (array_nulls),
 * xml (xmloption), money (lc_monetary), nor any type not listed here.
 */
static bool
type_input_ignores_settings(Oid type)
{
	switch (type)
	{
		case BOOLOID:
		case CHAROID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case BYTEAOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case UNKNOWNOID:
			return true;
		default:
			return false;
	}
}

/* a constant's value in the findings: this word, its type, length, bytes */
#define ANALYSED_VALUE_TAG		0xC0257A47
/* at most this many bytes of such values per statement, or no caching */
#define ANALYSED_VALUES_MAX		1024

/*
 * A constant whose value the text alone does not fix: parse analysis read
 * it under the settings of that moment, which need not be those of the
 * execution ('01/02/2024'::date under DateStyle MDY, run under DMY).  Its
 * value, as the key holds a parameter's, goes into the key.  False if the
 * statement has too many such bytes.
 */
static bool
add_analysed_value(QueryFindings *walk, Const *c)
{
	StringInfoData value;
	int			i;

	initStringInfo(&value);
	key_append_datum(&value, c->consttype, c->constvalue);
	walk->analysed_bytes += value.len;
	if (walk->analysed_bytes > ANALYSED_VALUES_MAX)
	{
		pfree(value.data);
		return false;
	}
	walk->resolved_oids = lappend_oid(walk->resolved_oids, ANALYSED_VALUE_TAG);
	walk->resolved_oids = lappend_oid(walk->resolved_oids, c->consttype);
	walk->resolved_oids = lappend_oid(walk->resolved_oids, (Oid) value.len);
	for (i = 0; i < value.len; i += sizeof(uint32))
	{
		uint32		word = 0;

		memcpy(&word, value.data + i, Min(sizeof(uint32), value.len - i));
		walk->resolved_oids = lappend_oid(walk->resolved_oids, (Oid) word);
	}
	pfree(value.data);
	return true;
}

static bool
uncacheable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;

	if (IsA(node, Const) && context != NULL)
	{
		Const	   *c = (Const *) node;
		QueryFindings *walk = (QueryFindings *) context;

		if (c->constisnull)
			return false;
		if (type_names_catalog_object(c->consttype))
			walk->resolved_oids = lappend_oid(walk->resolved_oids,
											  DatumGetObjectId(c->constvalue));
		else if (type_is_catalog_object_array(c->consttype))
			add_resolved_elements(walk, c);
		else if (!type_input_ignores_settings(c->consttype))
			return !add_analysed_value(walk, c);
		return false;
	}
	if (IsA(node, CoerceViaIO) && context != NULL)
		((QueryFindings *) context)->reads_settings = true;

	if (check_functions_in_node(node, function_is_mutable, context))
		return true;

	switch (nodeTag(node))
	{
		case T_Aggref:
			if (aggregate_is_mutable(((Aggref *) node)->aggfnoid, false, context))
				return true;
			break;
		case T_WindowFunc:
			{
				Oid			winfnoid = ((WindowFunc *) node)->winfnoid;

				/* an aggregate used as a window function: as an Aggref */
				if (get_func_prokind(winfnoid) == PROKIND_AGGREGATE &&
					aggregate_is_mutable(winfnoid, true, context))
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

/* The kinds of relation whose writes cachealot tracks */
bool
relkind_is_tracked(char relkind)
{
	return relkind == RELKIND_RELATION ||
		relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_VIEW ||
		relkind == RELKIND_MATVIEW;
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
		if (!relkind_is_tracked(relkind))
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

/*
 * Could a result of this Query ever be cached?  Only a SELECT that reads
 * something: a relation, a function in FROM (which may be inlined into
 * one) or a subquery.  SELECT 1 has nothing to cache: no need to look.
 */
bool
query_may_be_cached(Query *query)
{
	return query->commandType == CMD_SELECT && query->utilityStmt == NULL &&
		(query->rtable != NIL || query->hasSubLinks);
}

/*
 * Is this Query, about to be planned, cacheable at all?  What the walk
 * finds besides its verdict goes into 'findings' (see eligibility.h).
 */
bool
query_is_cacheable(Query *parse, int cursorOptions, QueryFindings *findings)
{
	if (!query_may_be_cached(parse))
		return false;

	/*
	 * Only the statement as written: the queries a rule adds share its query
	 * id and its text (a rule action read from the catalog has no position
	 * of its own), so two SELECT actions of one rule would share a key.
	 */
	if (parse->querySource != QSRC_ORIGINAL || !parse->canSetTag)
		return false;
	if (cursorOptions & (CURSOR_OPT_HOLD | CURSOR_OPT_SCROLL))
		return false;
	if (!result_is_cacheable(parse))
		return false;
	return !uncacheable_walker((Node *) parse, findings);
}

/* ---------------------------------------------------------------------
 * Sessions and executions
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
const char *
execution_bypass_reason(QueryDesc *queryDesc, int eflags)
{
	Snapshot	snap = queryDesc->snapshot;
	const char *reason;

	if (!plan_is_cacheable(queryDesc->plannedstmt))
		return "the query is not cacheable";
	reason = session_bypass_reason();
	if (reason != NULL)
		return reason;
	if (queryDesc->plannedstmt->planTree->total_cost < cachealot_min_cost)
		return "the plan costs less than cachealot.min_cost";
	reason = table_lists_bypass_reason(queryDesc->plannedstmt->relationOids);
	if (reason != NULL)
		return reason;
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

/* ---------------------------------------------------------------------
 * Plan marks: cachealot's PlanInvalItems (see eligibility.h)
 * ---------------------------------------------------------------------
 */

/* A PlanInvalItem of cachealot's: a mark and its value */
PlanInvalItem *
plan_item(PlanMark mark, uint32 value)
{
	PlanInvalItem *item = makeNode(PlanInvalItem);

	item->cacheId = (int) mark;
	item->hashValue = value;
	return item;
}

/* The plan's first item of this mark, or NULL */
static PlanInvalItem *
plan_find_mark(PlannedStmt *pstmt, PlanMark mark)
{
	ListCell   *lc;

	foreach(lc, pstmt->invalItems)
	{
		PlanInvalItem *item = (PlanInvalItem *) lfirst(lc);

		if (item->cacheId == (int) mark)
			return item;
	}
	return NULL;
}

bool
plan_has_mark(PlannedStmt *pstmt, PlanMark mark)
{
	return plan_find_mark(pstmt, mark) != NULL;
}

/* The value of the plan's first item of this mark, or 0 */
uint32
plan_mark_value(PlannedStmt *pstmt, PlanMark mark)
{
	PlanInvalItem *item = plan_find_mark(pstmt, mark);

	return item != NULL ? item->hashValue : 0;
}

/*
 * Mark a plan (or a stand-in) cacheable: made in the transaction 'stamp'
 * (catalog_view.c), with what query_is_cacheable() found.
 */
void
plan_mark_cacheable(PlannedStmt *pstmt, uint32 stamp,
					const QueryFindings *findings)
{
	ListCell   *lc;

	pstmt->invalItems = lappend(pstmt->invalItems,
								plan_item(PLAN_MARK_CACHEABLE, stamp));
	foreach(lc, findings->resolved_oids)
		pstmt->invalItems = lappend(pstmt->invalItems,
									plan_item(PLAN_MARK_RESOLVED_OID,
											  lfirst_oid(lc)));
	if (findings->reads_settings)
		pstmt->invalItems = lappend(pstmt->invalItems,
									plan_item(PLAN_MARK_READS_SETTINGS, 0));
}

/* Did the planner hook find this plan cacheable? */
static bool
plan_is_cacheable(PlannedStmt *pstmt)
{
	return plan_has_mark(pstmt, PLAN_MARK_CACHEABLE);
}

/* The stamp of the transaction a cacheable plan was made in */
uint32
plan_catalog_stamp(PlannedStmt *pstmt)
{
	PlanInvalItem *mark = plan_find_mark(pstmt, PLAN_MARK_CACHEABLE);

	return mark != NULL ? mark->hashValue : 0;
}

/*
 * A plan made now from a Query analysed earlier (a stand-in planned for
 * real) carries the stamp of that analysis.
 */
void
plan_set_catalog_stamp(PlannedStmt *pstmt, uint32 stamp)
{
	PlanInvalItem *mark = plan_find_mark(pstmt, PLAN_MARK_CACHEABLE);

	if (mark != NULL)
		mark->hashValue = stamp;
}

/* The OIDs the query's catalog-naming constants held, in the query's order */
List *
plan_resolved_oids(PlannedStmt *pstmt)
{
	List	   *oids = NIL;
	ListCell   *lc;

	foreach(lc, pstmt->invalItems)
	{
		PlanInvalItem *item = (PlanInvalItem *) lfirst(lc);

		if (item->cacheId == (int) PLAN_MARK_RESOLVED_OID)
			oids = lappend_oid(oids, item->hashValue);
	}
	return oids;
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
	return plan_has_mark(pstmt, PLAN_MARK_READS_SETTINGS);
}

/*
 * A plan made without a verdict, because admission skipped its statement
 * at parse analysis: it runs as it is, and the skip was counted already.
 * It carries the skip's number (parse_analysis.c).
 */
void
plan_mark_skipped(PlannedStmt *pstmt, uint32 number)
{
	pstmt->invalItems = lappend(pstmt->invalItems,
								plan_item(PLAN_MARK_SKIPPED, number));
}

bool
plan_was_skipped(PlannedStmt *pstmt)
{
	return plan_has_mark(pstmt, PLAN_MARK_SKIPPED);
}
