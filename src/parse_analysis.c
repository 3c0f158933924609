/*-------------------------------------------------------------------------
 *
 * parse_analysis.c
 *		Parse analysis hook: the query id of the statements that may be
 *		cached, and the skip of a COLD statement sent as a simple query.
 *
 * The key holds the query id (key.c), and admission learns per query id
 * (admission.c).  Having core compute it for every statement, as
 * EnableQueryId() would, costs every statement, those that read no table
 * (SELECT 1, SET, writes) too.  Instead the id is computed here, and only
 * for a SELECT that reads something; when core computes ids anyway
 * (compute_query_id = on, or another module asked for them), its id is
 * used.  compute_query_id = off turns them off for cachealot too, and then
 * nothing is cached.
 *
 * A statement sent as a simple query is analysed, planned and run at once.
 * When admission knows it as COLD by the fingerprint of its text, it need
 * not even get a query id: it gets a stand-in id instead, SKIPPED_ID_TAG
 * and the fingerprint, which survives the copies a plan cache makes, and
 * the planner hook plans it without a verdict (parse_analysis_skipped()).
 * Only when no one else asked for query ids: otherwise the id is core's,
 * and such a statement is just looked up.  (That stand-in id is what
 * pg_stat_activity shows for it.)  (A statement prepared without
 * parameters is analysed again at Bind when its plan was invalidated, and
 * that analysis looks like a simple query's: see
 * parse_analysis_start_skipped() for the plan it leaves in the cache.)
 *
 * Backend-local: no lock.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/plancache.h"
#include "utils/queryjumble.h"

#include "admission.h"
#include "cachealot.h"
#include "eligibility.h"
#include "key.h"
#include "parse_analysis.h"

static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;

/*
 * The query id of a statement admission skipped at analysis: this tag in
 * the high 16 bits, the low 48 of its text's fingerprint below.  (A real
 * query id in that range is only taken for a skip: it bypasses.)
 */
#define SKIPPED_ID_TAG		UINT64CONST(0xCA11)
#define SKIPPED_ID_SHIFT	48
#define FINGERPRINT_MASK	((UINT64CONST(1) << SKIPPED_ID_SHIFT) - 1)

/* skips are numbered: the number of the last skipped plan made */
static uint32 skip_count = 0;
static uint32 current_skip = 0;

/*
 * Is this the analysis of a statement the client sent as a simple query?
 * exec_simple_query() analyses with the statement's string as
 * debug_query_string, outside any portal, without parameters; a
 * statement prepared by the extended protocol or by PREPARE, or
 * analysed again by a plan cache, sets up parameters or is a copy that
 * the plan cache plans, and a function's statement is analysed inside a
 * portal.
 */
static bool
analysing_simple_query(ParseState *pstate)
{
	return pstate->p_sourcetext != NULL &&
		pstate->p_sourcetext == debug_query_string &&
		pstate->p_paramref_hook == NULL &&
		ActivePortal == NULL;
}

/* JumbleQuery() asserts that query ids are on: they are, for this call */
static void
compute_query_id_now(Query *query, const char *source_text)
{
	bool		was_enabled = query_id_enabled;

	query_id_enabled = true;
	PG_TRY();
	{
		(void) JumbleQuery(query, source_text);
	}
	PG_FINALLY();
	{
		query_id_enabled = was_enabled;
	}
	PG_END_TRY();
}

static void
cachealot_post_parse_analyze(ParseState *pstate, Query *query,
							 JumbleState *jstate)
{
	bool		simple;
	uint64		fingerprint = 0;

	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);

	if (!cachealot_active() || compute_query_id == COMPUTE_QUERY_ID_OFF ||
		!query_may_be_cached(query))
		return;

	/* a session with the cache off skips it anyway: not admission's skip */
	simple = cachealot_enabled && analysing_simple_query(pstate);
	if (simple)
	{
		const char *text;
		int			len;

		if (!key_statement_text(pstate->p_sourcetext, query->stmt_location,
								query->stmt_len, &text, &len))
			return;
		fingerprint = admission_text_fingerprint(text, len) & FINGERPRINT_MASK;
		if (query->queryId == UINT64CONST(0) &&
			admission_skips_text(fingerprint))
		{
			query->queryId = (SKIPPED_ID_TAG << SKIPPED_ID_SHIFT) | fingerprint;
			return;
		}
	}

	if (query->queryId == UINT64CONST(0))
		compute_query_id_now(query, pstate->p_sourcetext);
	if (simple)
		admission_learn_text(fingerprint, query->queryId);
}

/*
 * Did admission skip this Query at its analysis?  If so, its plan is
 * marked with a new skip number; it keeps the stand-in query id, which
 * holds the text's fingerprint.
 */
bool
parse_analysis_skipped(Query *parse, uint32 *number)
{
	if ((parse->queryId >> SKIPPED_ID_SHIFT) != SKIPPED_ID_TAG)
		return false;
	if (++skip_count == 0)
		skip_count = 1;
	current_skip = skip_count;
	*number = skip_count;
	return true;
}

/*
 * ExecutorStart of a plan marked skipped.  Normally it is the plan just
 * made for the skip, started right away.  But a plan cache may keep it: a
 * statement prepared without parameters is analysed again at Bind when its
 * plan was invalidated, and that analysis looks like a simple query's; the
 * plan cache then keeps the skipped Query and its plan.  Started again,
 * such a plan asks admission by its text's fingerprint whether the
 * statement still skips (and counts the skip); once it does not, or cannot
 * tell, this backend's saved plans are all marked for analysis again
 * (ResetPlanCache, as a catalog change does), so that the statement gets
 * its query id and a verdict on its next use.  This start runs it as it is.
 */
void
parse_analysis_start_skipped(PlannedStmt *pstmt)
{
	uint32		number = plan_mark_value(pstmt, PLAN_MARK_SKIPPED);

	if (number == current_skip)
	{
		current_skip = 0;
		return;
	}
	if (admission_skips_text(pstmt->queryId & FINGERPRINT_MASK))
		return;
	ResetPlanCache();
}

/* Called from _PG_init */
void
parse_analysis_init(void)
{
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = cachealot_post_parse_analyze;
}
