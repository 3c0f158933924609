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
 * not even get a query id: the Query is remembered, and the planner hook
 * plans it without a verdict (parse_analysis_skipped_query()).  No other
 * Query can be mistaken for it: the next planner call, whichever it is,
 * forgets it, and every analysis replaces it.
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
#include "utils/queryjumble.h"

#include "admission.h"
#include "cachealot.h"
#include "key.h"
#include "parse_analysis.h"

static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;

/* the Query admission skipped, until the next planner call */
static Query *skipped_query = NULL;

/*
 * May the result of this Query be cached?  Only a SELECT that reads
 * something: a relation, a function in FROM (which may be inlined into
 * one), a subquery or a CTE.
 */
static bool
query_may_be_cached(Query *query)
{
	return query->commandType == CMD_SELECT && query->utilityStmt == NULL &&
		(query->rtable != NIL || query->hasSubLinks || query->cteList != NIL);
}

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

	skipped_query = NULL;
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
		fingerprint = admission_text_fingerprint(text, len);
		if (admission_skips_text(fingerprint))
		{
			skipped_query = query;
			return;
		}
	}

	if (query->queryId == UINT64CONST(0))
		compute_query_id_now(query, pstate->p_sourcetext);
	if (simple)
		admission_learn_text(fingerprint, query->queryId);
}

/*
 * Did admission skip this Query at its analysis?  Called by the planner
 * hook for every Query it plans; forgets the skipped Query either way.
 */
bool
parse_analysis_skipped_query(Query *parse)
{
	bool		skipped = parse == skipped_query;

	skipped_query = NULL;
	return skipped;
}

/* Called from _PG_init */
void
parse_analysis_init(void)
{
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = cachealot_post_parse_analyze;
}
