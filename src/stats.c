/*-------------------------------------------------------------------------
 *
 * stats.c
 *		The counters behind cachealot_stats().
 *
 * Every query bumps a counter, so one shared atomic per counter would be a
 * cache line that every core fights over.  Counters are striped instead:
 * a backend adds to the stripe of its PGPROC number, and readers sum the
 * stripes.  Each stripe is padded to its own cache line.  No lock; a reset
 * racing with an increment may keep or lose that increment.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/atomics.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "stats.h"

#define STAT_STRIPES	64

typedef union StatStripe
{
	pg_atomic_uint64 counters[STAT_COUNT];
	char		pad[PG_CACHE_LINE_SIZE * 2];
} StatStripe;

StaticAssertDecl(sizeof(pg_atomic_uint64) * STAT_COUNT <= PG_CACHE_LINE_SIZE * 2,
				 "stat stripe too small");

typedef struct StatsShared
{
	pg_atomic_uint64 reset_time;	/* TimestampTz of the last reset */
	char		pad[PG_CACHE_LINE_SIZE - sizeof(pg_atomic_uint64)];
	StatStripe	stripes[STAT_STRIPES];
} StatsShared;

static StatsShared *stats = NULL;

static Size
stats_shmem_size(void)
{
	return sizeof(StatsShared) + PG_CACHE_LINE_SIZE;
}

void
stats_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(stats_shmem_size()));
}

/* Called with AddinShmemInitLock held */
void
stats_shmem_init(void)
{
	bool		found;
	void	   *place = ShmemInitStruct("cachealot stats", stats_shmem_size(),
										&found);
	int			i;
	int			c;

	/* align the stripes to cache lines so that none shares a line */
	stats = (StatsShared *) TYPEALIGN(PG_CACHE_LINE_SIZE, place);
	if (found)
		return;
	pg_atomic_init_u64(&stats->reset_time, (uint64) GetCurrentTimestamp());
	for (i = 0; i < STAT_STRIPES; i++)
		for (c = 0; c < STAT_COUNT; c++)
			pg_atomic_init_u64(&stats->stripes[i].counters[c], 0);
}

void
stats_add(CacheStat stat, uint64 n)
{
	int			stripe = MyProc ? MyProc->pgprocno % STAT_STRIPES : 0;

	pg_atomic_fetch_add_u64(&stats->stripes[stripe].counters[stat], n);
}

uint64
stats_get(CacheStat stat)
{
	uint64		sum = 0;
	int			i;

	for (i = 0; i < STAT_STRIPES; i++)
		sum += pg_atomic_read_u64(&stats->stripes[i].counters[stat]);
	return sum;
}

void
stats_reset(void)
{
	int			i;
	int			c;

	for (i = 0; i < STAT_STRIPES; i++)
		for (c = 0; c < STAT_COUNT; c++)
			pg_atomic_exchange_u64(&stats->stripes[i].counters[c], 0);
	pg_atomic_write_u64(&stats->reset_time, (uint64) GetCurrentTimestamp());
}

TimestampTz
stats_reset_time(void)
{
	return (TimestampTz) pg_atomic_read_u64(&stats->reset_time);
}
