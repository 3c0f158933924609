/*-------------------------------------------------------------------------
 *
 * cachealot.h
 *		The settings of cachealot, and whether it is active in this process.
 *
 * Each subsystem has a header of its own (README, "Layout", lists them
 * and which calls which); a file's #include lines are its dependencies.
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_H
#define CACHEALOT_H

#include "access/parallel.h"

/* GUC variables (cachealot.c) */
extern bool cachealot_enabled;
extern int	cachealot_max_memory_kb;
extern int	cachealot_max_entry_size_kb;
extern int	cachealot_test_commit_delay_ms;
extern double cachealot_min_cost;
extern bool cachealot_admission;
extern int	cachealot_max_statements;

/* set once the shared memory is attached (preloaded: at postmaster start) */
extern bool cachealot_shmem_ready;

/*
 * Does cachealot take part in what this process does?  Not without its
 * shared memory (not preloaded), and not in parallel workers, which run
 * partial plans under their leader's text: every hook passes through.
 */
static inline bool
cachealot_active(void)
{
	return cachealot_shmem_ready && !IsParallelWorker();
}

#endif							/* CACHEALOT_H */
