/*-------------------------------------------------------------------------
 *
 * writes.h
 *		Per-transaction write tracking and the commit protocol (see
 *		writes.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_WRITES_H
#define CACHEALOT_WRITES_H

#include "nodes/execnodes.h"
#include "nodes/plannodes.h"

extern void writes_init(void);

/* recording */
extern void record_plan_writes(PlannedStmt *pstmt);
extern void record_routed_writes(EState *estate);
extern void record_written_relation(Oid relid);
extern void record_catalog_change(bool shared_catalog);
extern void record_catalog_rewrite(bool shared_catalog);
extern void record_unlisted_writes(void);
extern void utility_writes_begin(bool shared_catalog, bool keeps_meaning);
extern void utility_writes_end(bool keeps_meaning);

/* what the transaction wrote */
extern bool xact_blocks_cache(void);
extern bool xact_wrote_slot(uint32 slot);

/* invalidation outside a transaction's commit */
extern void invalidate_now(const uint32 *slots, int nslots);
extern void global_pending_hold(void);
extern void global_pending_release(void);

#endif							/* CACHEALOT_WRITES_H */
