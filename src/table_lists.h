/*-------------------------------------------------------------------------
 *
 * table_lists.h
 *		cachealot.exclude_tables and cachealot.include_tables (see
 *		table_lists.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_TABLE_LISTS_H
#define CACHEALOT_TABLE_LISTS_H

#include "nodes/pg_list.h"
#include "utils/guc.h"

extern char *cachealot_exclude_tables;
extern char *cachealot_include_tables;

extern bool table_list_check(char **newval, void **extra, GucSource source);
extern void table_list_assign(const char *newval, void *extra);
extern const char *table_lists_bypass_reason(List *relationOids);

#endif							/* CACHEALOT_TABLE_LISTS_H */
