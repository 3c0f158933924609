/*-------------------------------------------------------------------------
 *
 * slots.h
 *		Invalidation slots: the lock-free protocol between writers and
 *		readers (see slots.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef CACHEALOT_SLOTS_H
#define CACHEALOT_SLOTS_H

/*
 * A relation maps to slot hash(database, relation); each database has one
 * slot (hash(database, InvalidOid)); slot 0 is global.  Two relations
 * sharing a slot only over-invalidate.
 */
#define CACHEALOT_NUM_SLOTS		16384	/* power of two */
#define CACHEALOT_GLOBAL_SLOT	0

/* One dependency of a cached result: a slot and the version it was built at */
typedef struct SlotVersion
{
	uint32		slot;
	uint64		version;
} SlotVersion;

extern void slots_shmem_request(void);
extern void slots_shmem_init(void);

extern uint32 slot_for_relation(Oid dbid, Oid relid);
extern uint32 slot_for_database(Oid dbid);

/* writers */
extern void slot_pending_raise(uint32 slot);
extern void slot_release(uint32 slot);
extern void slot_version_advance(uint32 slot);

/* readers */
extern bool slots_read_versions(SlotVersion *deps, int ndeps);
extern bool slots_unchanged(const SlotVersion *deps, int ndeps);
extern bool slots_current(const SlotVersion *deps, int ndeps);
extern uint64 slots_versions_advanced(void);

#endif							/* CACHEALOT_SLOTS_H */
