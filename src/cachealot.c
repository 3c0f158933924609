/*-------------------------------------------------------------------------
 *
 * cachealot.c
 *		Module entry point: GUC definitions and hook installation.
 *
 * Everything else lives in the files named in cachealot.h.  The cache needs
 * shared memory, so it only activates when loaded through
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
#include "utils/guc.h"
#include "utils/queryjumble.h"

#include "cachealot.h"

PG_MODULE_MAGIC;

bool		cachealot_enabled = true;
int			cachealot_max_memory_kb = 64 * 1024;
int			cachealot_max_entry_size_kb = 1024;
int			cachealot_test_commit_delay_ms = 0;
double		cachealot_min_cost = 0.0;

void		_PG_init(void);

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

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

	/* the key needs the statement's query id, so have core compute it */
	EnableQueryId();

	store_shmem_request();
	catalog_view_init();
	writes_register_callbacks();
	eligibility_install_planner_hook();
	executor_install_hooks();
	utility_install_hook();
}
