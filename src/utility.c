/*-------------------------------------------------------------------------
 *
 * utility.c
 *		ProcessUtility hook: writes and meaning changes that do not pass
 *		through the executor.
 *
 * Every utility statement is either known not to change what any cached
 * query returns (transaction control, SET, EXPLAIN, cursors, plain VACUUM,
 * COPY TO ...) or is treated as a catalog change: the whole database's
 * entries become unreachable when it commits (every database's, for
 * statements on shared catalogs such as roles), and the transaction stays
 * away from the cache until it ends.  That is broad but never stale.
 *
 * Statements that commit internally (VACUUM FULL or CLUSTER of several
 * tables, DETACH PARTITION CONCURRENTLY) are recorded again after they
 * return, in the transaction they end in, so their last commit invalidates
 * too.
 *
 * COMMIT PREPARED makes another transaction's writes visible without any of
 * that transaction's callbacks: the global slot is held pending across it
 * and advanced afterwards.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#include "cachealot.h"

typedef enum UtilityKind
{
	UTILITY_READ_ONLY,			/* changes nothing a cached query returns */
	UTILITY_WRITES_DATABASE,	/* data or catalog of this database */
	UTILITY_WRITES_SHARED,		/* shared catalogs: roles, databases ... */
	UTILITY_COMMIT_PREPARED		/* another transaction becomes visible */
} UtilityKind;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void cachealot_ProcessUtility(PlannedStmt *pstmt,
									 const char *queryString,
									 bool readOnlyTree,
									 ProcessUtilityContext context,
									 ParamListInfo params,
									 QueryEnvironment *queryEnv,
									 DestReceiver *dest,
									 QueryCompletion *qc);

void
utility_install_hook(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = cachealot_ProcessUtility;
}

static bool
vacuum_is_full(VacuumStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0)
			return defGetBoolean(opt);
	}
	return false;
}

static UtilityKind
classify_utility(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_TransactionStmt:
			if (((TransactionStmt *) parsetree)->kind ==
				TRANS_STMT_COMMIT_PREPARED)
				return UTILITY_COMMIT_PREPARED;
			return UTILITY_READ_ONLY;

		case T_CopyStmt:
			return ((CopyStmt *) parsetree)->is_from ?
				UTILITY_WRITES_DATABASE : UTILITY_READ_ONLY;

		case T_VacuumStmt:
			return vacuum_is_full((VacuumStmt *) parsetree) ?
				UTILITY_WRITES_DATABASE : UTILITY_READ_ONLY;

			/* the statements these run go through the hooks themselves */
		case T_ExplainStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_DeclareCursorStmt:
		case T_FetchStmt:
		case T_ClosePortalStmt:
		case T_CallStmt:
		case T_DoStmt:
			/* session state, or nothing queries can read */
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_ListenStmt:
		case T_UnlistenStmt:
		case T_NotifyStmt:
		case T_LoadStmt:
		case T_DiscardStmt:
		case T_CheckPointStmt:
		case T_LockStmt:
		case T_ConstraintsSetStmt:
			return UTILITY_READ_ONLY;

		case T_CreateRoleStmt:
		case T_AlterRoleStmt:
		case T_AlterRoleSetStmt:
		case T_DropRoleStmt:
		case T_GrantRoleStmt:
		case T_CreatedbStmt:
		case T_AlterDatabaseStmt:
		case T_AlterDatabaseRefreshCollStmt:
		case T_AlterDatabaseSetStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_AlterTableSpaceOptionsStmt:
			return UTILITY_WRITES_SHARED;

		case T_RenameStmt:
			switch (((RenameStmt *) parsetree)->renameType)
			{
				case OBJECT_ROLE:
				case OBJECT_DATABASE:
				case OBJECT_TABLESPACE:
					return UTILITY_WRITES_SHARED;
				default:
					return UTILITY_WRITES_DATABASE;
			}

		default:
			return UTILITY_WRITES_DATABASE;
	}
}

static void
run_standard_utility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

static void
cachealot_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
						 bool readOnlyTree, ProcessUtilityContext context,
						 ParamListInfo params, QueryEnvironment *queryEnv,
						 DestReceiver *dest, QueryCompletion *qc)
{
	UtilityKind kind = UTILITY_READ_ONLY;

	if (!IsParallelWorker() && store_is_ready())
		kind = classify_utility(pstmt->utilityStmt);

	switch (kind)
	{
		case UTILITY_READ_ONLY:
			run_standard_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
			break;

		case UTILITY_WRITES_DATABASE:
		case UTILITY_WRITES_SHARED:
			record_catalog_change(kind == UTILITY_WRITES_SHARED);
			run_standard_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
			/* it may have committed internally and be in a new transaction */
			record_catalog_change(kind == UTILITY_WRITES_SHARED);
			break;

		case UTILITY_COMMIT_PREPARED:
			global_pending_hold();
			PG_TRY();
			{
				run_standard_utility(pstmt, queryString, readOnlyTree,
									 context, params, queryEnv, dest, qc);
			}
			PG_FINALLY();
			{
				global_pending_release();
			}
			PG_END_TRY();
			break;
	}
}
