/*-------------------------------------------------------------------------
 *
 * capture.h
 *		Capturing a miss (see capture.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_CAPTURE_H
#define CACHEALOT_CAPTURE_H

#include "executor/execdesc.h"

#include "slots.h"

/* runs the plan: the rest of the ExecutorRun hook chain */
typedef void (*RunPlanFunction) (QueryDesc *queryDesc,
								 ScanDirection direction,
								 uint64 count, bool execute_once);

typedef struct Capture Capture;

extern Capture *capture_begin(QueryDesc *queryDesc, RunPlanFunction run_plan,
							  const char *key, uint32 key_len, uint64 hash,
							  const SlotVersion *deps, int ndeps);
extern void capture_run(Capture *cap, ScanDirection direction, uint64 count,
						bool execute_once);
extern void note_execution(QueryDesc *queryDesc, bool execute_once);

#endif							/* CACHEALOT_CAPTURE_H */
