/*-------------------------------------------------------------------------
 *
 * freshness.h
 *		The reader's half of the freshness proof (see freshness.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_FRESHNESS_H
#define CACHEALOT_FRESHNESS_H

#include "executor/execdesc.h"

#include "catalog_view.h"
#include "slots.h"

extern SlotVersion *collect_dependencies(PlannedStmt *pstmt, int *ndeps);
extern bool lookup_is_safe(QueryDesc *queryDesc, SlotVersion *deps, int ndeps,
						   CatalogEpochsSeen *epochs);
extern bool store_is_safe(const SlotVersion *deps, int ndeps);

#endif							/* CACHEALOT_FRESHNESS_H */
