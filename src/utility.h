/*-------------------------------------------------------------------------
 *
 * utility.h
 *		The ProcessUtility hook (see utility.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_UTILITY_H
#define CACHEALOT_UTILITY_H

extern void utility_init(void);

#endif							/* CACHEALOT_UTILITY_H */
