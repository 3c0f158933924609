/*-------------------------------------------------------------------------
 *
 * stand_in.h
 *		Stand-in plans: hits without the real plan, client statements
 *		served without planning (see stand_in.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_STAND_IN_H
#define CACHEALOT_STAND_IN_H

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#include "eligibility.h"
#include "slots.h"

extern bool plan_is_stand_in(PlannedStmt *pstmt);
extern PlannedStmt *stand_in_for_hit(PlannedStmt *pstmt);
extern PlannedStmt *stand_in_before_planning(Query *parse,
											 const char *query_string,
											 int cursorOptions,
											 ParamListInfo boundParams,
											 const QueryFindings *findings);
extern void stand_in_note_plan_cost(uint64 queryId, Cost cost);
extern bool stand_in_take_key(PlannedStmt *stand_in, const char **key,
							  uint32 *len, uint64 *hash);
extern void stand_in_forget_key(void);
extern SlotVersion *stand_in_dependencies(PlannedStmt *pstmt, int *ndeps);
extern PlannedStmt *stand_in_plan_for_real(PlannedStmt *stand_in,
										   const char *source_text,
										   ParamListInfo params);

#endif							/* CACHEALOT_STAND_IN_H */
