/*-------------------------------------------------------------------------
 *
 * executor.h
 *		The executor hooks (see executor.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_EXECUTOR_H
#define CACHEALOT_EXECUTOR_H

extern void executor_init(void);

#endif							/* CACHEALOT_EXECUTOR_H */
