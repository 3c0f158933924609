/*-------------------------------------------------------------------------
 *
 * store.h
 *		The cached results: index, area, entries, eviction (see store.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_STORE_H
#define CACHEALOT_STORE_H

#include "access/htup.h"
#include "nodes/nodes.h"

#include "slots.h"

/* A pinned entry being replayed */
typedef struct CacheEntry CacheEntry;

extern void store_shmem_request(void);
extern void store_shmem_init(void);

extern CacheEntry *cache_lookup(uint64 hash, const char *key, uint32 key_len,
								const SlotVersion *deps, int ndeps);
extern bool cache_probe(uint64 hash, const char *key, uint32 key_len,
						SlotVersion **deps, int *ndeps, Cost *plan_cost);
extern void cache_entry_unpin(CacheEntry *entry);
extern uint64 cache_entry_ntuples(CacheEntry *entry);
extern MinimalTuple cache_entry_tuple(CacheEntry *entry, uint64 index,
									  Size *offset);
extern bool cache_store(uint64 hash, const char *key, uint32 key_len,
						const SlotVersion *deps, int ndeps, Cost plan_cost,
						MinimalTuple *tuples, uint64 ntuples, Size tuples_len);
extern uint64 cache_flush_all(void);
extern uint64 cache_drop_slots(const uint32 *slots, int nslots);
extern uint64 cache_memory_used(void);
extern uint64 cache_memory_limit(void);
extern uint64 cache_entry_count(void);
extern Size cache_max_entry_bytes(void);

#endif							/* CACHEALOT_STORE_H */
