/*-------------------------------------------------------------------------
 *
 * eligibility.h
 *		Verdicts on queries, relations, sessions and executions, and the
 *		marks that carry a plan's verdict (see eligibility.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_ELIGIBILITY_H
#define CACHEALOT_ELIGIBILITY_H

#include "executor/execdesc.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

/*
 * cachealot's PlanInvalItems.  The values are no syscache IDs, so the plan
 * cache never matches them; each is found by its value, in any position.
 */
typedef enum PlanMark
{
	PLAN_MARK_CACHEABLE = -0x43A7,	/* value: the catalog stamp of the plan */
	PLAN_MARK_STAND_IN = -0x43A8,	/* a stand-in (stand_in.c); value: its
									 * number */
	PLAN_MARK_STAND_IN_DEPENDENCY = -0x43A9,	/* value: a slot it depends on */
	PLAN_MARK_RESOLVED_OID = -0x43AA,	/* value: a catalog-naming constant */
	PLAN_MARK_READS_SETTINGS = -0x43AB,	/* see plan_reads_settings() */
	PLAN_MARK_SKIPPED = -0x43AC	/* admission skipped it before planning;
								 * value: the skip's number */
} PlanMark;

/*
 * What the walk over a query finds besides its verdict: the values of
 * constants that name catalog objects ('t'::regclass, 'english'::regconfig
 * ...), which parse analysis resolved through the search path as it was
 * then and core's query jumble leaves out, so they go into the key; and
 * whether its rows read settings as it runs.
 */
typedef struct QueryFindings
{
	List	   *resolved_oids;	/* and values read under settings, see
								 * add_analysed_value() */
	bool		reads_settings;
	Size		analysed_bytes;
} QueryFindings;

/* verdicts */
extern bool query_may_be_cached(Query *query);
extern bool query_is_cacheable(Query *parse, int cursorOptions,
							   QueryFindings *findings);
extern bool relkind_is_tracked(char relkind);
extern bool relations_are_cacheable(List *relationOids);
extern const char *session_bypass_reason(void);
extern const char *execution_bypass_reason(QueryDesc *queryDesc, int eflags);

/* plan marks */
extern PlanInvalItem *plan_item(PlanMark mark, uint32 value);
extern bool plan_has_mark(PlannedStmt *pstmt, PlanMark mark);
extern uint32 plan_mark_value(PlannedStmt *pstmt, PlanMark mark);
extern void plan_mark_cacheable(PlannedStmt *pstmt, uint32 stamp,
								const QueryFindings *findings);
extern uint32 plan_catalog_stamp(PlannedStmt *pstmt);
extern void plan_set_catalog_stamp(PlannedStmt *pstmt, uint32 stamp);
extern List *plan_resolved_oids(PlannedStmt *pstmt);
extern bool plan_reads_settings(PlannedStmt *pstmt);
extern void plan_mark_skipped(PlannedStmt *pstmt, uint32 number);
extern bool plan_was_skipped(PlannedStmt *pstmt);

#endif							/* CACHEALOT_ELIGIBILITY_H */
