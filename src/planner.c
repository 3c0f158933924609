/*-------------------------------------------------------------------------
 *
 * planner.c
 *		Planner hook: the query's verdict, the pre-planning probe, and the
 *		marks the plan carries from then on.
 *
 * The verdict is reached before planning (the planner scribbles on the
 * tree).  A cacheable statement the client sent whose result is cached
 * need not be planned at all: stand_in.c returns a stand-in instead.
 * Otherwise the plan is made as usual, and, if it reads only relations
 * cachealot tracks, marked cacheable with the stamp of the transaction
 * whose catalog view it was made from (catalog_view.c) and what the
 * verdict found (eligibility.h).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "optimizer/planner.h"

#include "cachealot.h"
#include "catalog_view.h"
#include "eligibility.h"
#include "parse_analysis.h"
#include "planner.h"
#include "stand_in.h"

static planner_hook_type prev_planner_hook = NULL;

static PlannedStmt *
run_standard_planner(Query *parse, const char *query_string,
					 int cursorOptions, ParamListInfo boundParams)
{
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions,
								 boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

static PlannedStmt *
cachealot_planner(Query *parse, const char *query_string, int cursorOptions,
				  ParamListInfo boundParams)
{
	QueryFindings findings = {NIL, false};
	bool		cacheable;
	uint32		skip_number;
	PlannedStmt *result;

	/* the transaction whose catalog view this plan is made from */
	uint32		stamp = catalog_view_stamp();

	/*
	 * Decide before planning: the planner scribbles on the tree.  Without a
	 * query id nothing is cached; a statement admission skipped at its
	 * analysis needs no verdict.
	 */
	if (!cachealot_active())
		cacheable = false;
	else if (parse_analysis_skipped(parse, &skip_number))
	{
		result = run_standard_planner(parse, query_string, cursorOptions,
									  boundParams);
		plan_mark_skipped(result, skip_number);
		return result;
	}
	else
		cacheable = parse->queryId != UINT64CONST(0) &&
			query_is_cacheable(parse, cursorOptions, &findings);

	/*
	 * A statement whose result is cached need not be planned at all, unless
	 * its rows read settings: then a hit fetched in several runs may have to
	 * run its plan after all (see plan_reads_settings()).
	 */
	if (cacheable && !findings.reads_settings)
	{
		result = stand_in_before_planning(parse, query_string, cursorOptions,
										  boundParams, &findings);
		if (result != NULL)
			return result;
	}

	result = run_standard_planner(parse, query_string, cursorOptions,
								  boundParams);

	if (cacheable && relations_are_cacheable(result->relationOids))
	{
		plan_mark_cacheable(result, stamp, &findings);
		stand_in_note_plan_cost(result->queryId, result->planTree->total_cost);
	}
	return result;
}

/* Called from _PG_init */
void
planner_init(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = cachealot_planner;
}
