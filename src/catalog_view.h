/*-------------------------------------------------------------------------
 *
 * catalog_view.h
 *		Catalog epochs: may a plan's result be stored under the catalog it
 *		would be stored under?  (see catalog_view.c)
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_CATALOG_VIEW_H
#define CACHEALOT_CATALOG_VIEW_H

/* the catalog epochs as an execution read them */
typedef struct CatalogEpochsSeen
{
	uint64		database;
	uint64		shared;
} CatalogEpochsSeen;

extern void catalog_view_shmem_request(void);
extern void catalog_view_shmem_init(void);
extern void catalog_view_init(void);
extern void catalog_view_mark_change(void);

extern void catalog_view_advance(bool shared_catalog);
extern void catalog_view_transaction_end(void);
extern uint32 catalog_view_stamp(void);
extern void catalog_view_read(CatalogEpochsSeen *seen);
extern bool catalog_view_allows_store(uint32 plan_stamp,
									  const CatalogEpochsSeen *seen);

#endif							/* CACHEALOT_CATALOG_VIEW_H */
