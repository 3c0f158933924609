/*-------------------------------------------------------------------------
 *
 * catalog_view.c
 *		Whether the catalog a plan was built from is still the catalog its
 *		result would be stored under.
 *
 * A plan is built from the catalog as this backend saw it during parse
 * analysis, rewriting and planning: the children of an inherited table,
 * the partitions of a partitioned one, the bodies of inlined functions,
 * what every name resolved to.  A catalog change that commits while the
 * plan is being built (a lock wait during analysis or planning absorbs its
 * invalidation messages after part of the plan was already made), or that
 * commits after a cached plan was built, leaves the plan older than the
 * catalog.  PostgreSQL runs such a plan with the old meaning; its result
 * must not be stored under the new catalog's versions, or every later
 * execution would be served the old meaning.
 *
 * The mechanism:
 *
 *	1. Catalog epochs (shared).  Every catalog change (writes.c: any
 *	   transaction that records one, and COMMIT PREPARED) advances the
 *	   epoch of its database, and the shared epoch for shared catalogs,
 *	   after its invalidation messages are sent and before its slots are
 *	   released.  Epochs are atomics, advanced by fetch-add only; databases
 *	   share an epoch only by hash, which over-counts, never under-counts.
 *
 *	2. The backend's generation: catalog epochs it has absorbed.  At the
 *	   end of every top-level transaction (after its own release) the
 *	   backend reads the two epochs; the next transaction's start accepts
 *	   every invalidation message sent before that read.  So everything
 *	   analysed and planned in the transactions that follow sees every
 *	   catalog change those epochs count.  When the epochs moved, a new
 *	   generation starts there, and every saved plan is marked invalid
 *	   (ResetPlanCache) so that it is analysed and planned again on its
 *	   next use.
 *
 *	3. The plan's stamp.  The planner hook stamps each cacheable plan with
 *	   the number of the transaction it was made in (eligibility.c, in the
 *	   plan marker).  A miss may store when its plan was made during the
 *	   current generation and the epochs, read after the dependency slots
 *	   were found not pending, are still the generation's: no catalog
 *	   change committed since the plan's catalog view was fixed.  One that
 *	   commits later is caught by the store's own check of the database
 *	   and global slots.
 *
 *	4. Plans made in the current transaction.  A catalog change that
 *	   commits after the last transaction ended moves the epochs, yet its
 *	   messages are absorbed as the next transaction starts, before
 *	   anything of it is analysed.  A plan of the current transaction saw
 *	   the change if no message was absorbed while the transaction ran
 *	   (a lock wait during analysis or planning, or an ExecutorStart):
 *	   the message counter is where it was once the transaction had
 *	   started.  Then its result may be stored, and the backend starts its
 *	   new generation right there.  A transaction open while the change
 *	   committed does not store until it ends: its plans may be older than
 *	   the change, in ways the plan cache does not track (a text search
 *	   configuration folded into the plan, a regclass[] constant).
 *
 * Hits do not need this: the entry they serve was stored by a plan that
 * passed it, under versions the hit checks as always.
 *
 * Plan stamps keep the low 32 bits of the transaction number; a plan is
 * taken to be younger than 2^32 transactions of its backend (saved plans
 * are made again at every generation, others do not outlive a statement).
 *
 * Cost: two atomic reads per transaction and per lookup.  After a catalog
 * change in a database, each of its backends plans its saved plans again
 * once; its transactions open while the change committed do not store.
 * Changes that keep every meaning (VACUUM FULL, CLUSTER, REINDEX rewrite
 * tables and indexes) do not advance the epochs (writes.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_am.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/sinval.h"
#include "utils/inval.h"
#include "utils/plancache.h"

#include "catalog_view.h"

/* per-database epochs, by hash of the database OID */
#define CATALOG_EPOCHS			256

typedef struct CatalogEpochs
{
	pg_atomic_uint64 shared;	/* shared catalogs: roles, databases ... */
	pg_atomic_uint64 database[CATALOG_EPOCHS];
} CatalogEpochs;

static CatalogEpochs *epochs = NULL;

/* this backend's transactions: top-level transaction ends seen */
static uint64 transactions = 0;

/* its generation: the epochs absorbed, and since which transaction */
static bool have_generation = false;
static uint64 generation_start = 0;
static uint64 generation_database_epoch = 0;
static uint64 generation_shared_epoch = 0;

/*
 * SharedInvalidMessageCounter when this backend last absorbed invalidation
 * messages outside a running transaction (as one started), or at the end
 * of the last one: see 4. above.
 */
static uint64 quiet_message_count = 0;

void
catalog_view_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(CatalogEpochs)));
}

/* Called with AddinShmemInitLock held */
void
catalog_view_shmem_init(void)
{
	bool		found;
	int			i;

	epochs = ShmemInitStruct("cachealot catalog epochs",
							 sizeof(CatalogEpochs), &found);
	if (found)
		return;
	pg_atomic_init_u64(&epochs->shared, 1);
	for (i = 0; i < CATALOG_EPOCHS; i++)
		pg_atomic_init_u64(&epochs->database[i], 1);
}

static pg_atomic_uint64 *
database_epoch(void)
{
	return &epochs->database[murmurhash32(MyDatabaseId) % CATALOG_EPOCHS];
}

/*
 * A catalog change of this database (and of the shared catalogs) is
 * committed and its invalidation messages are out.  Atomics only: this
 * runs where errors are PANICs.
 */
void
catalog_view_advance(bool shared_catalog)
{
	pg_atomic_fetch_add_u64(database_epoch(), 1);
	if (shared_catalog)
		pg_atomic_fetch_add_u64(&epochs->shared, 1);
}

static void
start_generation(const CatalogEpochsSeen *seen)
{
	/* plans made before may predate the change: analyse them again */
	if (have_generation)
		ResetPlanCache();
	have_generation = true;
	generation_start = transactions;
	generation_database_epoch = seen->database;
	generation_shared_epoch = seen->shared;
}

/*
 * The end of a top-level transaction: the next one starts by accepting
 * every invalidation message sent so far.  No allocation and no catalog
 * access: ResetPlanCache() only marks plans invalid.
 */
void
catalog_view_transaction_end(void)
{
	CatalogEpochsSeen now;

	catalog_view_read(&now);
	transactions++;
	quiet_message_count = SharedInvalidMessageCounter;
	if (!have_generation || now.database != generation_database_epoch ||
		now.shared != generation_shared_epoch)
		start_generation(&now);
}

/*
 * The relation cache callback: messages absorbed outside a running
 * transaction (StartTransaction accepts them in TRANS_START; a backend
 * idle absorbs them in a transaction of its own) precede everything the
 * transaction will analyse and plan.  Every catalog change cachealot
 * records ends its messages with a relation cache message of its own
 * (catalog_view_mark_change), so this sees the last of them; a batch
 * ending otherwise only leaves the counter ahead, which refuses a store.
 */
static void
note_absorbed(Datum arg, Oid relid)
{
	/*
	 * Not while a transaction or a subtransaction aborts (its own local
	 * messages replayed): only as a top-level transaction starts, or outside
	 * one.
	 */
	if (!IsTransactionState() && !IsTransactionOrTransactionBlock())
		quiet_message_count = SharedInvalidMessageCounter;
}

/* Called from _PG_init */
void
catalog_view_init(void)
{
	CacheRegisterRelcacheCallback(note_absorbed, (Datum) 0);
}

/*
 * Called at the pre-commit (or pre-prepare) of a transaction that changes
 * what queries mean: end its invalidation messages with one the callback
 * above sees.  The relation is pg_am's: its cache entry is rebuilt from
 * one row, and no plan depends on it.
 */
void
catalog_view_mark_change(void)
{
	CacheInvalidateRelcacheByRelid(AccessMethodRelationId);
}

/* The stamp of a plan made now: this transaction's number */
uint32
catalog_view_stamp(void)
{
	return (uint32) transactions;
}

/* Read the epochs, after the result's dependency slots were found not
 * pending (and the barrier that follows that check) */
void
catalog_view_read(CatalogEpochsSeen *seen)
{
	seen->database = pg_atomic_read_u64(database_epoch());
	seen->shared = pg_atomic_read_u64(&epochs->shared);
}

/*
 * May a result of a cacheable plan stamped 'plan_stamp' be stored, given
 * the epochs 'seen' read before this backend last accepted invalidation
 * messages (with none arriving then)?
 */
bool
catalog_view_allows_store(uint32 plan_stamp, const CatalogEpochsSeen *seen)
{
	/* transactions since the plan was made */
	uint64		age = (uint32) ((uint32) transactions - plan_stamp);

	if (!have_generation)
		return false;
	if (age <= transactions - generation_start &&
		seen->database == generation_database_epoch &&
		seen->shared == generation_shared_epoch)
		return true;

	/*
	 * The catalog changed since.  A plan of this transaction saw the change
	 * if every message was absorbed as the transaction started: then every
	 * plan of it did, and the generation starts now.
	 */
	if (age != 0 || SharedInvalidMessageCounter != quiet_message_count)
		return false;
	start_generation(seen);
	return true;
}
