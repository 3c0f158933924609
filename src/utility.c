/*-------------------------------------------------------------------------
 *
 * utility.c
 *		ProcessUtility hook: writes and meaning changes that do not pass
 *		through the executor.
 *
 * Every utility statement is one of:
 *	- known not to change what any cached query returns (transaction
 *	  control, SET, EXPLAIN, cursors, plain VACUUM, COPY TO ...);
 *	- a data write to the tables it names (COPY FROM, TRUNCATE, REFRESH
 *	  MATERIALIZED VIEW): what it wrote (those tables, the partitions rows
 *	  were routed to, descendants and, for TRUNCATE CASCADE, the tables
 *	  referencing them) is recorded like executor writes once it ran, from
 *	  the locks it holds; until the transaction ends it stays away from the
 *	  cache;
 *	- anything else, treated as a catalog change: the whole database's
 *	  entries become unreachable when it commits (every database's, for
 *	  statements on shared catalogs such as roles), and the transaction
 *	  stays away from the cache until it ends.  Broad, but never stale.
 *
 * Statements that commit internally (VACUUM FULL or CLUSTER of several
 * tables, DETACH PARTITION CONCURRENTLY) make each of their transactions a
 * catalog change (writes.c), and are recorded again after they return, in
 * the transaction they end in.
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

#include "access/transam.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "tcop/utility.h"

#include "cachealot.h"
#include "stand_in.h"
#include "utility.h"
#include "writes.h"

typedef enum UtilityKind
{
	UTILITY_READ_ONLY,			/* changes nothing a cached query returns */
	UTILITY_WRITES_TABLES,		/* data of tables it names: COPY FROM ... */
	UTILITY_WRITES_DATABASE,	/* data or catalog of this database */
	UTILITY_REWRITES,			/* rewrites tables or indexes: VACUUM FULL ... */
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

/* Called from _PG_init */
void
utility_init(void)
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
			if (!((CopyStmt *) parsetree)->is_from)
				return UTILITY_READ_ONLY;
			return ((CopyStmt *) parsetree)->relation != NULL ?
				UTILITY_WRITES_TABLES : UTILITY_WRITES_DATABASE;

		case T_TruncateStmt:
		case T_RefreshMatViewStmt:
			return UTILITY_WRITES_TABLES;

		case T_VacuumStmt:
			return vacuum_is_full((VacuumStmt *) parsetree) ?
				UTILITY_REWRITES : UTILITY_READ_ONLY;

		case T_ClusterStmt:
		case T_ReindexStmt:
			return UTILITY_REWRITES;

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

/*
 * The tables a data-writing utility statement wrote: every relation of this
 * database that the backend holds a lock of RowExclusiveLock or stronger on
 * once it ran.  Whatever the statement opened to write, it locked, and the
 * lock lasts until the transaction ends: the named table, the partitions
 * its rows were routed to, descendants, and what TRUNCATE ... CASCADE
 * reached.  Reading the lock table records what the statement actually
 * wrote, where resolving its names again could find other tables (a
 * trigger may change search_path, a table may appear earlier in it).
 * Relations locked so for other reasons earlier in the transaction are
 * recorded too, which only over-invalidates.
 *
 * System catalogs are left out: the statement updates pg_class for its
 * own bookkeeping, which changes no query's meaning.  A catalog named as
 * the target is recorded as a catalog change (record_named_catalogs).
 */
static void
record_locked_relations(void)
{
	LockData   *locks = GetLockStatusData();
	LOCKMASK	write_modes = 0;
	LOCKMODE	mode;
	int			i;

	for (mode = RowExclusiveLock; mode <= MaxLockMode; mode++)
		write_modes |= LOCKBIT_ON(mode);

	for (i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *lock = &locks->locks[i];

		if (lock->pid != MyProcPid ||
			lock->locktag.locktag_type != LOCKTAG_RELATION ||
			lock->locktag.locktag_field1 != MyDatabaseId ||
			(lock->holdMask & write_modes) == 0 ||
			lock->locktag.locktag_field2 < FirstNormalObjectId)
			continue;
		record_written_relation((Oid) lock->locktag.locktag_field2);
	}
}

/* A system catalog named as a statement's target changes the catalog */
static void
record_named_catalogs(List *rangevars)
{
	ListCell   *lc;

	foreach(lc, rangevars)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc),
											 NoLock, true);

		if (OidIsValid(relid) && relid < FirstNormalObjectId)
			record_written_relation(relid);
	}
}

static void
record_utility_targets(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CopyStmt:
			record_named_catalogs(list_make1(((CopyStmt *) parsetree)->relation));
			break;
		case T_TruncateStmt:
			record_named_catalogs(((TruncateStmt *) parsetree)->relations);
			break;
		case T_RefreshMatViewStmt:
			break;
		default:
			elog(ERROR, "unexpected utility statement type: %d",
				 (int) nodeTag(parsetree));
	}
	record_locked_relations();
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

/*
 * A statement that changes the catalog: every transaction committing while
 * it runs counts as a catalog change, and so does the one it ends in.
 */
static void
run_catalog_writer(bool shared_catalog, bool keeps_meaning,
				   PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	utility_writes_begin(shared_catalog, keeps_meaning);
	PG_TRY();
	{
		run_standard_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		utility_writes_end(keeps_meaning);
	}
	PG_END_TRY();
	/* it may have committed internally and be in a new transaction */
	if (keeps_meaning)
		record_catalog_rewrite(shared_catalog);
	else
		record_catalog_change(shared_catalog);
}

/* COMMIT PREPARED: everything is pending while it makes writes visible */
static void
run_commit_prepared(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	global_pending_hold();
	PG_TRY();
	{
		run_standard_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		global_pending_release();
	}
	PG_END_TRY();
}

static void
cachealot_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
						 bool readOnlyTree, ProcessUtilityContext context,
						 ParamListInfo params, QueryEnvironment *queryEnv,
						 DestReceiver *dest, QueryCompletion *qc)
{
	UtilityKind kind = UTILITY_READ_ONLY;

	if (cachealot_active())
	{
		/* SET, SET ROLE and the like change what a key is built from */
		stand_in_forget_key();
		kind = classify_utility(pstmt->utilityStmt);
	}

	switch (kind)
	{
		case UTILITY_READ_ONLY:
			run_standard_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
			break;

		case UTILITY_WRITES_TABLES:
			/* triggers may read the tables while it runs: keep them off */
			record_unlisted_writes();
			run_standard_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
			record_utility_targets(pstmt->utilityStmt);
			break;

		case UTILITY_WRITES_DATABASE:
		case UTILITY_WRITES_SHARED:
		case UTILITY_REWRITES:
			run_catalog_writer(kind == UTILITY_WRITES_SHARED,
							   kind == UTILITY_REWRITES, pstmt,
							   queryString, readOnlyTree, context, params,
							   queryEnv, dest, qc);
			break;

		case UTILITY_COMMIT_PREPARED:
			run_commit_prepared(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
			break;
	}
}
