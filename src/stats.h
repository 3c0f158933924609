/*-------------------------------------------------------------------------
 *
 * stats.h
 *		The counters behind cachealot_stats() (see stats.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_STATS_H
#define CACHEALOT_STATS_H

#include "datatype/timestamp.h"

typedef enum CacheStat
{
	STAT_HITS,
	STAT_MISSES,
	STAT_STORES,
	STAT_BYPASSES,
	STAT_INVALIDATIONS,
	STAT_EVICTIONS,
	STAT_ADMISSION_SKIPS,
	STAT_ADMISSION_REJECTS,
	STAT_COUNT
} CacheStat;

extern void stats_shmem_request(void);
extern void stats_shmem_init(void);
extern void stats_add(CacheStat stat, uint64 n);
extern uint64 stats_get(CacheStat stat);
extern void stats_reset(void);
extern TimestampTz stats_reset_time(void);

#endif							/* CACHEALOT_STATS_H */
