/*-------------------------------------------------------------------------
 *
 * cachealot.c
 *		Module entry point: settings, shared memory, and the installation
 *		of every subsystem's hooks and callbacks.
 *
 * The cache needs shared memory, so it only activates when loaded through
 * shared_preload_libraries; loaded any other way (for instance by calling
 * one of its SQL functions), the module defines nothing and its functions
 * report how to preload it.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "utils/guc.h"

#include "admission.h"
#include "cachealot.h"
#include "catalog_view.h"
#include "executor.h"
#include "parse_analysis.h"
#include "planner.h"
#include "slots.h"
#include "stats.h"
#include "store.h"
#include "table_lists.h"
#include "utility.h"
#include "writes.h"

PG_MODULE_MAGIC;

bool		cachealot_enabled = true;
int			cachealot_max_memory_kb = 64 * 1024;
int			cachealot_max_entry_size_kb = 1024;
int			cachealot_test_commit_delay_ms = 0;
double		cachealot_min_cost = 0.0;
bool		cachealot_admission = true;
int			cachealot_max_statements = 5000;

bool		cachealot_shmem_ready = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);

static void
cachealot_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	admission_shmem_request();
	slots_shmem_request();
	store_shmem_request();
	stats_shmem_request();
	catalog_view_shmem_request();
}

static void
cachealot_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	admission_shmem_init();
	slots_shmem_init();
	store_shmem_init();
	stats_shmem_init();
	catalog_view_shmem_init();
	LWLockRelease(AddinShmemInitLock);

	cachealot_shmem_ready = true;
}

static void
define_settings(void)
{
	DefineCustomBoolVariable("cachealot.enabled",
							 "Serve and fill the query result cache in this session.",
							 "When off, queries neither read nor fill the cache; "
							 "writes are still tracked and invalidate at commit.",
							 &cachealot_enabled,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("cachealot.max_memory",
							"Shared memory reserved for cached results and their index.",
							NULL,
							&cachealot_max_memory_kb,
							64 * 1024,
							1024,
							INT_MAX / 2,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("cachealot.max_entry_size",
							"Results larger than this are not cached.",
							"The query still runs normally; it is counted as a miss.",
							&cachealot_max_entry_size_kb,
							1024,
							1,
							1024 * 1024,
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomRealVariable("cachealot.min_cost",
							 "Plans estimated to cost less than this are not cached.",
							 "Cheap queries gain little from the cache and would "
							 "take room from expensive ones; 0 caches every "
							 "eligible query.",
							 &cachealot_min_cost,
							 0.0,
							 0.0,
							 1e12,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("cachealot.admission",
							 "Learn which statements the cache pays for, and skip it for the others.",
							 "When off, every miss of a cacheable statement is "
							 "captured and stored; cachealot.min_cost still applies.",
							 &cachealot_admission,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("cachealot.max_statements",
							"Statements whose use of the cache is tracked.",
							"The least used statement is forgotten to make "
							"room for a new one.",
							&cachealot_max_statements,
							5000,
							100,
							INT_MAX / 2,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("cachealot.exclude_tables",
							   "Results that read one of these tables are never cached.",
							   "Comma-separated table names, optionally "
							   "schema-qualified; a partition is listed when "
							   "an ancestor is.",
							   &cachealot_exclude_tables,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   table_list_check, table_list_assign, NULL);

	DefineCustomStringVariable("cachealot.include_tables",
							   "If set, only results all of whose tables are listed are cached.",
							   "Comma-separated table names, optionally "
							   "schema-qualified; a partition is listed when "
							   "an ancestor is.",
							   &cachealot_include_tables,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   table_list_check, table_list_assign, NULL);

	DefineCustomIntVariable("cachealot.test_commit_delay",
							"Testing aid: sleep this long after a writing commit "
							"becomes visible, before its invalidation completes.",
							"Holds open the window that the commit protocol must "
							"make safe; never set it in production.",
							&cachealot_test_commit_delay_ms,
							0,
							0,
							60 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("cachealot");
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	define_settings();


	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cachealot_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cachealot_shmem_startup;

	/* each saves and installs only its own hooks and callbacks */
	catalog_view_init();
	parse_analysis_init();
	writes_init();
	planner_init();
	executor_init();
	utility_init();
}
