/*-------------------------------------------------------------------------
 *
 * freshness.c
 *		The reader's half of the freshness proof (README, "Freshness"):
 *		what an execution depends on, and whether it may use the cache at
 *		the versions it reads.
 *
 * An execution depends on the global slot, its database's slot, and the
 * slot of every relation its plan reads.  It may be served from the cache,
 * or store into it, only if it proves that its snapshot sees every write
 * those slots stand for (lookup_is_safe); a store checks again at the end
 * that nothing changed meanwhile (store_is_safe).  The writer's half is in
 * writes.c, the atomic steps both sides rely on in slots.c.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/sinval.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"

#include "freshness.h"
#include "slots.h"
#include "writes.h"

static int
slot_cmp(const void *a, const void *b)
{
	uint32		x = ((const SlotVersion *) a)->slot;
	uint32		y = ((const SlotVersion *) b)->slot;

	return (x > y) - (x < y);
}

/*
 * The slots a result depends on: the global slot, the database's, and one
 * per relation the plan reads (views and unpruned partitions included).
 * Sorted, without duplicates, versions zeroed.
 */
SlotVersion *
collect_dependencies(PlannedStmt *pstmt, int *ndeps)
{
	int			max = list_length(pstmt->relationOids) + 2;
	SlotVersion *deps = palloc0(sizeof(SlotVersion) * max);
	ListCell   *lc;
	int			n = 0;
	int			i;
	int			out;

	deps[n++].slot = CACHEALOT_GLOBAL_SLOT;
	deps[n++].slot = slot_for_database(MyDatabaseId);
	foreach(lc, pstmt->relationOids)
		deps[n++].slot = slot_for_relation(MyDatabaseId, lfirst_oid(lc));

	qsort(deps, n, sizeof(SlotVersion), slot_cmp);
	for (i = 1, out = 1; i < n; i++)
		if (deps[i].slot != deps[out - 1].slot)
			deps[out++].slot = deps[i].slot;
	*ndeps = out;
	return deps;
}

static int
xid_cmp(const void *a, const void *b)
{
	TransactionId x = *(const TransactionId *) a;
	TransactionId y = *(const TransactionId *) b;

	return (x > y) - (x < y);
}

static bool
xid_sets_equal(const TransactionId *a, const TransactionId *b, int n)
{
	TransactionId *sa;
	TransactionId *sb;
	bool		equal;

	if (n == 0 || memcmp(a, b, sizeof(TransactionId) * n) == 0)
		return true;
	sa = palloc(sizeof(TransactionId) * n);
	sb = palloc(sizeof(TransactionId) * n);
	memcpy(sa, a, sizeof(TransactionId) * n);
	memcpy(sb, b, sizeof(TransactionId) * n);
	qsort(sa, n, sizeof(TransactionId), xid_cmp);
	qsort(sb, n, sizeof(TransactionId), xid_cmp);
	equal = memcmp(sa, sb, sizeof(TransactionId) * n) == 0;
	pfree(sa);
	pfree(sb);
	return equal;
}

/*
 * Does the query's snapshot see every transaction that has finished?  If
 * the latest snapshot has the same bounds and the same in-progress sets,
 * no transaction with an xid finished since the query's was taken.
 */
static bool
snapshot_is_current(Snapshot snap)
{
	Snapshot	latest = GetLatestSnapshot();

	if (latest->xmin != snap->xmin || latest->xmax != snap->xmax ||
		latest->xcnt != snap->xcnt || latest->subxcnt != snap->subxcnt ||
		latest->suboverflowed != snap->suboverflowed ||
		latest->takenDuringRecovery != snap->takenDuringRecovery)
		return false;
	return xid_sets_equal(latest->xip, snap->xip, snap->xcnt) &&
		xid_sets_equal(latest->subxip, snap->subxip, snap->subxcnt);
}

/*
 * Prove that this execution may be served from, or stored into, the cache
 * at the versions read into 'deps':
 *	1. nothing it depends on is pending, nor written by this transaction;
 *	2. the versions are read after that check;
 *	3. this backend has processed every catalog invalidation sent so far,
 *	   and none arrived now (else the plan may predate a definition that
 *	   committed, and must not be stored under the new versions); the
 *	   catalog epochs are read before, for catalog_view_allows_store();
 *	4. the query's snapshot sees every finished transaction.
 */
bool
lookup_is_safe(QueryDesc *queryDesc, SlotVersion *deps, int ndeps,
			   CatalogEpochsSeen *epochs)
{
	uint64		inval_before;
	int			i;

	for (i = 0; i < ndeps; i++)
		if (xact_wrote_slot(deps[i].slot))
			return false;
	if (!slots_read_versions(deps, ndeps))
		return false;
	/* for a store: read before the invalidation messages are accepted */
	catalog_view_read(epochs);

	inval_before = SharedInvalidMessageCounter;
	AcceptInvalidationMessages();
	if (SharedInvalidMessageCounter != inval_before)
		return false;

	return snapshot_is_current(queryDesc->snapshot);
}

/*
 * May a result computed at the versions in 'deps' be stored now?  Not if
 * the transaction changed the catalog or wrote what it depends on (its own
 * rows are visible to it alone), nor if anything it depends on is pending
 * or changed since the versions were read.
 */
bool
store_is_safe(const SlotVersion *deps, int ndeps)
{
	int			i;

	if (xact_blocks_cache())
		return false;
	for (i = 0; i < ndeps; i++)
		if (xact_wrote_slot(deps[i].slot))
			return false;
	return slots_unchanged(deps, ndeps);
}
