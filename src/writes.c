/*-------------------------------------------------------------------------
 *
 * writes.c
 *		Per-transaction write tracking and the commit protocol that makes
 *		cached results unreachable the moment a write commits.
 *
 * A transaction records the slot of every relation it writes (executor.c
 * at ExecutorStart, utility.c before the utility runs), before anything in
 * the transaction can read the relation.  Then:
 *
 *	PRE_COMMIT	pending++ on every written slot (slots.c).  A write
 *				recorded later (another library's pre-commit work) raises
 *				pending at once.
 *	COMMIT		the transaction is already visible to new snapshots;
 *				version++ then pending-- on every written slot.  If the
 *				transaction changed the catalog, this waits until its
 *				catalog invalidation messages are out (the resource-release
 *				callback after locks): until then a backend could still plan
 *				with the old definitions and store under the new version.
 *	ABORT		if pending was raised: version++ then pending--.
 *	exit		a backend that dies with pending raised releases it.
 *
 * Readers (freshness.c) bypass while any slot they depend on is pending, and
 * only serve or store results built at the versions they read, so a reader
 * can neither miss a commit it sees nor store rows older than one.
 *
 * The release runs after the commit is durable and visible, where an error
 * would be a PANIC: it uses only atomics, no allocation, no catalog access.
 *
 * A transaction that wrote a relation bypasses the cache for queries that
 * depend on its slot until it ends; one that changed the catalog, or wrote
 * through a partitioned table (whose partitions are known only as rows are
 * routed), bypasses the cache entirely until it ends.
 *
 * Two-phase commit: COMMIT PREPARED run as a statement holds the global
 * slot pending across itself (utility.c).  A logical replication worker
 * applies COMMIT PREPARED without any statement: a transaction it prepares
 * holds its database's slot pending from PRE_PREPARE until the worker sees
 * it finished, at the pre-commit of a later transaction of its own (or at
 * its exit).
 *
 * All state here is backend-local; the shared slots and the ordering of
 * their atomic steps are slots.c's ("Note about the slot protocol").
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "replication/logicalworker.h"
#include "storage/ipc.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "cachealot.h"
#include "catalog_view.h"
#include "slots.h"
#include "stats.h"
#include "writes.h"

/* slots written by the current transaction, as a set and as a list */
static uint8 written_bitmap[CACHEALOT_NUM_SLOTS / 8];
static uint32 *written_slots = NULL;
static int	n_written = 0;
static int	max_written = 0;

static bool xact_changed_catalog = false;
static bool xact_changed_shared_catalog = false;
static bool xact_changed_meaning = false;	/* see record_catalog_change() */
static bool xact_unlisted_writes = false;
static bool pending_raised = false;
static bool release_deferred = false;
static bool exit_callback_registered = false;
static int	global_holds = 0;	/* see global_pending_hold() */

/* catalog-writing utility statements running, see utility_writes_begin() */
static int	utility_depth = 0;
static int	utility_meaning_depth = 0;	/* of them, ones that change meaning */
static bool utility_shared = false;

/*
 * Transactions a logical replication worker prepared (two_phase
 * subscriptions), each holding its database's slot pending until the worker
 * sees it finished: COMMIT PREPARED makes it visible inside the worker with
 * no callback of ours in between.
 */
static TransactionId *worker_prepared = NULL;
static int	n_worker_prepared = 0;
static int	max_worker_prepared = 0;

static void record_catalog_write(bool shared_catalog, bool changes_meaning);
static void writes_xact_callback(XactEvent event, void *arg);
static void writes_resource_callback(ResourceReleasePhase phase,
									 bool isCommit, bool isTopLevel,
									 void *arg);
static void writes_on_exit(int code, Datum arg);

/* Called from _PG_init */
void
writes_init(void)
{
	RegisterXactCallback(writes_xact_callback, NULL);
	RegisterResourceReleaseCallback(writes_resource_callback, NULL);
}

static void
ensure_exit_callback(void)
{
	if (!exit_callback_registered)
	{
		before_shmem_exit(writes_on_exit, (Datum) 0);
		exit_callback_registered = true;
	}
}

/* Room for one more element in a backend-lifetime array of 'used' */
static void *
make_room(void *array, int used, int *max, Size element_size)
{
	if (used < *max)
		return array;
	*max = Max(16, *max * 2);
	if (array == NULL)
		return MemoryContextAlloc(TopMemoryContext, element_size * *max);
	return repalloc(array, element_size * *max);
}

static void
record_written_slot(uint32 slot)
{
	if (written_bitmap[slot / 8] & (1 << (slot % 8)))
		return;

	ensure_exit_callback();
	written_slots = make_room(written_slots, n_written, &max_written,
							  sizeof(uint32));
	written_slots[n_written++] = slot;
	written_bitmap[slot / 8] |= (1 << (slot % 8));

	/* written after our pre-commit step: this slot must be pending too */
	if (pending_raised)
		slot_pending_raise(slot);
}

void
record_written_relation(Oid relid)
{
	if (!cachealot_active())
		return;

	/*
	 * A system catalog written as a table (a superuser's UPDATE of pg_proc,
	 * COPY into a catalog) changes what queries mean, even inside a
	 * statement that only rewrites (a function of an index expression run
	 * by REINDEX): no cached result depends on the catalog itself, only on
	 * what it defines.
	 */
	if (relid < FirstNormalObjectId)
		record_catalog_write(IsSharedRelation(relid), true);
	record_written_slot(slot_for_relation(MyDatabaseId, relid));
}

static void
record_written_database(void)
{
	if (!cachealot_active())
		return;
	record_written_slot(slot_for_database(MyDatabaseId));
}

static void
record_written_global(void)
{
	if (!cachealot_active())
		return;
	record_written_slot(CACHEALOT_GLOBAL_SLOT);
}

/*
 * The transaction changed the catalog: what queries mean may have changed
 * for the whole database (or, for shared catalogs such as roles, for every
 * database).
 */
static void
record_catalog_write(bool shared_catalog, bool changes_meaning)
{
	if (!cachealot_active())
		return;
	xact_changed_catalog = true;
	xact_changed_shared_catalog |= shared_catalog;
	xact_changed_meaning |= changes_meaning;
	record_written_database();
	if (shared_catalog)
		record_written_global();
}

void
record_catalog_change(bool shared_catalog)
{
	/*
	 * What queries mean changes unless the change comes only from
	 * statements that rewrite tables and indexes (VACUUM FULL, CLUSTER,
	 * REINDEX): those keep plans as they were, and do not advance the
	 * catalog epochs (catalog_view.c).
	 */
	record_catalog_write(shared_catalog,
						 utility_depth == 0 || utility_meaning_depth > 0);
}

/* A table or index rewrite: a catalog write that keeps every meaning */
void
record_catalog_rewrite(bool shared_catalog)
{
	record_catalog_write(shared_catalog, false);
}

/*
 * A utility statement that changes the catalog (or rewrites tables) runs
 * from begin to end.  Some commit internally, one transaction per table
 * (VACUUM FULL, CLUSTER, DETACH PARTITION CONCURRENTLY ...): every
 * transaction that commits meanwhile counts as a catalog change of its own.
 */
void
utility_writes_begin(bool shared_catalog, bool keeps_meaning)
{
	utility_depth++;
	if (!keeps_meaning)
		utility_meaning_depth++;
	utility_shared |= shared_catalog;
	record_catalog_change(shared_catalog);
}

void
utility_writes_end(bool keeps_meaning)
{
	Assert(utility_depth > 0);
	if (!keeps_meaning)
		utility_meaning_depth--;
	if (--utility_depth == 0)
		utility_shared = false;
}

/*
 * The transaction writes relations it cannot list yet (rows routed through a
 * partitioned table, a utility statement whose targets are known only once
 * it holds their locks): it stays away from the cache until it ends.
 */
void
record_unlisted_writes(void)
{
	xact_unlisted_writes = true;
}

/*
 * Record every relation this statement may write, before it runs.  Rows
 * routed through a partitioned table land in partitions known only at run
 * time: those are recorded at ExecutorEnd, and until then the transaction
 * keeps away from the cache altogether.
 */
void
record_plan_writes(PlannedStmt *pstmt)
{
	ListCell   *lc;

	if (pstmt->resultRelations == NIL)
		return;

	foreach(lc, pstmt->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), pstmt->rtable);

		record_written_relation(rte->relid);
	}
	foreach(lc, pstmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION &&
			rte->relkind == RELKIND_PARTITIONED_TABLE &&
			rte->rellockmode >= RowExclusiveLock)
		{
			record_written_relation(rte->relid);
			record_unlisted_writes();
		}
	}
}

/* Rows routed to partitions, known once the statement ran (ExecutorEnd) */
void
record_routed_writes(EState *estate)
{
	ListCell   *lc;

	foreach(lc, estate->es_tuple_routing_result_relations)
	{
		ResultRelInfo *rri = (ResultRelInfo *) lfirst(lc);

		record_written_relation(RelationGetRelid(rri->ri_RelationDesc));
	}
}

/* Must this transaction stay away from the cache entirely? */
bool
xact_blocks_cache(void)
{
	return xact_changed_catalog || xact_unlisted_writes;
}

bool
xact_wrote_slot(uint32 slot)
{
	return (written_bitmap[slot / 8] & (1 << (slot % 8))) != 0;
}

/* Advance versions now, outside any transaction protocol */
void
invalidate_now(const uint32 *slots, int nslots)
{
	int			i;

	for (i = 0; i < nslots; i++)
		slot_version_advance(slots[i]);
	stats_add(STAT_INVALIDATIONS, nslots);
}

/*
 * Hold the global slot pending while something makes writes visible that
 * no callback of ours sees (COMMIT PREPARED): readers bypass meanwhile, and
 * the release makes every entry built before it unreachable.
 */
void
global_pending_hold(void)
{
	ensure_exit_callback();
	slot_pending_raise(CACHEALOT_GLOBAL_SLOT);
	global_holds++;
}

void
global_pending_release(void)
{
	Assert(global_holds > 0);
	/* what became visible may have changed the catalog: its messages are out */
	catalog_view_advance(true);
	slot_release(CACHEALOT_GLOBAL_SLOT);
	stats_add(STAT_INVALIDATIONS, 1);
	global_holds--;
}

/* A logical worker is preparing its transaction: hold its database pending */
static void
hold_worker_prepared(void)
{
	TransactionId xid = GetTopTransactionIdIfAny();

	if (!TransactionIdIsValid(xid))
		return;
	ensure_exit_callback();
	worker_prepared = make_room(worker_prepared, n_worker_prepared,
								&max_worker_prepared, sizeof(TransactionId));
	slot_pending_raise(slot_for_database(MyDatabaseId));
	worker_prepared[n_worker_prepared++] = xid;
}

/*
 * Release the holds of prepared transactions that have finished (committed
 * or rolled back: no longer in progress), or all of them at exit.  The
 * version advances before pending drops, as at any commit.
 */
static void
release_worker_prepared(bool all)
{
	uint32		slot = slot_for_database(MyDatabaseId);
	int			i = 0;

	while (i < n_worker_prepared)
	{
		if (all || !TransactionIdIsInProgress(worker_prepared[i]))
		{
			slot_release(slot);
			stats_add(STAT_INVALIDATIONS, 1);
			worker_prepared[i] = worker_prepared[--n_worker_prepared];
		}
		else
			i++;
	}
}

static void
raise_pending(void)
{
	int			i;

	for (i = 0; i < n_written; i++)
		slot_pending_raise(written_slots[i]);
	pending_raised = true;
}

/*
 * Make every entry built on the written slots unreachable, then let readers
 * use the slots again.  Only atomics: this runs where errors are PANICs.
 */
static void
release_pending(bool allow_delay)
{
	int			i;

	if (allow_delay && cachealot_test_commit_delay_ms > 0 && n_written > 0)
		pg_usleep((long) cachealot_test_commit_delay_ms * 1000L);

	for (i = 0; i < n_written; i++)
		slot_release(written_slots[i]);
	pending_raised = false;
	if (n_written > 0)
		stats_add(STAT_INVALIDATIONS, n_written);
}

static void
forget_writes(void)
{
	int			i;

	for (i = 0; i < n_written; i++)
		written_bitmap[written_slots[i] / 8] = 0;
	n_written = 0;
	xact_changed_catalog = false;
	xact_changed_shared_catalog = false;
	xact_changed_meaning = false;
	xact_unlisted_writes = false;
	release_deferred = false;
}

static void
writes_xact_callback(XactEvent event, void *arg)
{
	if (!cachealot_active())
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/*
			 * Logical replication apply and table sync write without the
			 * executor hooks: count each transaction of theirs that has an
			 * xid as a write to the whole database.  (Their many read-only
			 * transactions must not flush the cache; COMMIT PREPARED, which
			 * needs no xid, is covered by the hold released below.)
			 */
			if (IsLogicalWorker() &&
				TransactionIdIsValid(GetTopTransactionIdIfAny()))
				record_written_database();
			if (utility_depth > 0)
				record_catalog_change(utility_shared);
			if (xact_changed_meaning)
				catalog_view_mark_change();
			raise_pending();

			/*
			 * A prepared transaction this worker has finished (COMMIT
			 * PREPARED runs inside the worker's transaction, before this,
			 * and its rows are visible already) releases its hold on the
			 * database: version first, then pending, as at any commit.
			 */
			if (n_worker_prepared > 0)
				release_worker_prepared(false);
			break;

		case XACT_EVENT_COMMIT:
			if (pending_raised && xact_changed_catalog)
			{
				/* released once the invalidation messages are sent */
				release_deferred = true;
				return;
			}
			if (pending_raised)
				release_pending(true);
			forget_writes();
			break;

		case XACT_EVENT_ABORT:
			if (pending_raised)
				release_pending(false);
			forget_writes();
			break;

		case XACT_EVENT_PRE_PREPARE:
			if (xact_changed_meaning)
				catalog_view_mark_change();
			if (IsLogicalWorker())
				hold_worker_prepared();
			break;

		case XACT_EVENT_PREPARE:
			/*
			 * The prepared transaction's writes become visible at COMMIT
			 * PREPARED: run as a statement, utility.c treats it as a write
			 * to everything; run by a logical worker, the hold taken above
			 * covers it.
			 */
			forget_writes();
			break;

		default:
			break;
	}
}

/*
 * After the locks of a top-level transaction are released: its catalog
 * invalidation messages are out, so a deferred release may proceed, the
 * catalog epochs first (catalog_view.c).  Then, whatever the transaction
 * did, the backend looks whether the catalog changed.
 */
static void
writes_resource_callback(ResourceReleasePhase phase, bool isCommit,
						 bool isTopLevel, void *arg)
{
	if (phase != RESOURCE_RELEASE_AFTER_LOCKS || !isTopLevel ||
		!cachealot_active())
		return;
	if (release_deferred)
	{
		if (xact_changed_meaning)
			catalog_view_advance(xact_changed_shared_catalog);
		if (pending_raised)
			release_pending(true);
		forget_writes();
	}
	catalog_view_transaction_end();
}

static void
writes_on_exit(int code, Datum arg)
{
	release_worker_prepared(true);
	while (global_holds > 0)
		global_pending_release();
	if (pending_raised)
		release_pending(false);
	forget_writes();
}
