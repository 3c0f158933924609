/*-------------------------------------------------------------------------
 *
 * parse_analysis.h
 *		Parse analysis hook: query ids, and skips by admission (see
 *		parse_analysis.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_PARSE_ANALYSIS_H
#define CACHEALOT_PARSE_ANALYSIS_H

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

extern void parse_analysis_init(void);
extern bool parse_analysis_skipped(Query *parse, uint32 *number);
extern void parse_analysis_start_skipped(PlannedStmt *pstmt);

#endif							/* CACHEALOT_PARSE_ANALYSIS_H */
