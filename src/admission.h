/*-------------------------------------------------------------------------
 *
 * admission.h
 *		Admission: what each statement has earned from the cache, and
 *		whether this execution should look up, capture and store (see
 *		admission.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_ADMISSION_H
#define CACHEALOT_ADMISSION_H

#include "nodes/nodes.h"
#include "portability/instr_time.h"

/* What this backend knows of one statement (opaque) */
typedef struct AdmissionMemo AdmissionMemo;

extern void admission_shmem_request(void);
extern void admission_shmem_init(void);

extern AdmissionMemo *admission_statement(uint64 queryId);
extern bool admission_skips(AdmissionMemo *memo);
extern void admission_note_hit(AdmissionMemo *memo);
extern bool admission_note_miss(AdmissionMemo *memo, uint64 key_hash,
								Cost plan_cost);
extern bool admission_times(AdmissionMemo *memo);
extern void admission_note_store(uint64 queryId);
extern void admission_note_time(uint64 queryId, bool hit, instr_time elapsed);

extern uint64 admission_text_fingerprint(const char *text, int len);
extern bool admission_skips_text(uint64 fingerprint);
extern void admission_learn_text(uint64 fingerprint, uint64 queryId);

extern Size admission_shmem_bytes(void);

#endif							/* CACHEALOT_ADMISSION_H */
