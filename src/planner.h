/*-------------------------------------------------------------------------
 *
 * planner.h
 *		The planner hook (see planner.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_PLANNER_H
#define CACHEALOT_PLANNER_H

extern void planner_init(void);

#endif							/* CACHEALOT_PLANNER_H */
