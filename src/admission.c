/*-------------------------------------------------------------------------
 *
 * admission.c
 *		Admission: what each statement has earned from the cache, and from
 *		it whether an execution should look up, capture and store.
 *
 * A cached result pays only when it is hit.  A statement whose keys never
 * repeat, or whose tables are written more often than its results are
 * read, pays for the key, the lookup, the capture and the store on every
 * execution and never gets anything back.  So each statement (query id,
 * per user and database) keeps counters, and every WINDOW lookups its hit
 * ratio over the window decides how it is treated next:
 *
 *	STORE_ALL	(new statements, and those hit at least every other lookup)
 *				every miss is captured and stored, as without admission;
 *	DOORKEEPER	(hit ratio under 1/2) a miss is captured only if its key
 *				was looked up recently (the doorkeeper of TinyLFU), so a
 *				statement's hot keys are cached while its one-off keys
 *				neither pay for capture nor push hot entries out;
 *	COLD		(hit ratio under 1/32) executions skip the cache entirely,
 *				without building a key, for a backoff of BACKOFF_MIN
 *				executions, doubling after every failed trial up to
 *				BACKOFF_MAX;
 *	TRIAL		after the backoff: TRIAL_WINDOW lookups that store every
 *				miss; one hit in them is enough to leave COLD behind.
 *
 * So a statement that turned cold notices a change in its pattern within
 * BACKOFF_MAX + TRIAL_WINDOW executions.  A statement whose misses take
 * EXPENSIVE_MISS_US or more (measured, one execution in TIME_EVERY) is
 * always STORE_ALL, if its plan is also estimated to cost EXPENSIVE_COST or
 * more: its capture costs little beside its run.  Admission
 * only ever decides to bypass, never to serve: a hit is always proven
 * fresh by freshness.c whatever admission says.
 *
 * Shared state, all of it hints (a race costs a wasted capture or a
 * skipped one, never a wrong result):
 *	- the statement table: cachealot.max_statements records in sets of
 *	  ADMISSION_WAYS, found by hash without a lock; a set's spinlock is
 *	  taken only to add a statement, evicting the set's least used one
 *	  (each eviction ages the others' usage by 1/USAGE_DECAY).  A record being
 *	  rewritten has an odd generation; readers check the generation
 *	  around reading its identity.  Counters are atomics.
 *	- the doorkeeper: two generations of a Bloom filter of key hashes
 *	  (DOORKEEPER_BITS bits each, 3 hash functions), set with atomic ORs;
 *	  every DOORKEEPER_ROTATE insertions the older generation is cleared
 *	  and becomes the current one.
 *
 * Backend-local memos: a statement's record, looked up once and then
 * checked by its generation; and, for statements sent as simple queries,
 * a fingerprint of the text (constants left out) that finds the query id
 * before parse analysis computes it, so that a COLD statement skips even
 * the query id's computation (parse_analysis.c).
 *
 * Copyright (c) 2026, cachealot developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "admission.h"
#include "cachealot.h"
#include "key.h"
#include "stats.h"

#define ADMISSION_WAYS		8
#define WINDOW				64
#define TRIAL_WINDOW		32
#define COLD_RATIO			32	/* cold below 1 hit in this many lookups */
#define DOORKEEPER_RATIO	2	/* doorkeeper below 1 hit in this many */
#define BACKOFF_MIN			64
#define BACKOFF_MAX_SHIFT	6	/* BACKOFF_MAX = BACKOFF_MIN << 6 = 4096 */
#define EXPENSIVE_MISS_US	1000
#define EXPENSIVE_COST		1000	/* and estimated at least this much */
#define TIME_EVERY			8	/* time one execution in this many */

#define DOORKEEPER_BITS		(1 << 20)	/* per generation: 128 kB */
#define DOORKEEPER_ROTATE	(1 << 16)	/* insertions per generation */
#define DOORKEEPER_WORDS	(DOORKEEPER_BITS / 32)

#define LOCAL_MEMOS			256
#define USAGE_DECAY			32	/* an eviction ages the others by 1/32 */

typedef enum StatementState
{
	STATEMENT_STORE_ALL = 0,
	STATEMENT_DOORKEEPER,
	STATEMENT_COLD,
	STATEMENT_TRIAL
} StatementState;

typedef enum StatementCounter
{
	SC_HITS,
	SC_MISSES,					/* lookups that missed, rejected ones too */
	SC_REJECTS,					/* misses the doorkeeper did not capture */
	SC_SKIPS,					/* executions that skipped the cache: COLD */
	SC_STORES,
	SC_MISS_US,					/* sum over the timed misses */
	SC_TIMED_MISSES,
	SC_HIT_US,
	SC_TIMED_HITS,
	SC_COUNT
} StatementCounter;

typedef struct StatementRecord
{
	pg_atomic_uint32 generation;	/* 0: never used; odd: being written */
	pg_atomic_uint32 state;		/* StatementState */
	uint64		queryid;
	Oid			userid;
	Oid			dbid;
	uint64		usage_base;		/* under the set's lock */
	pg_atomic_uint64 window_lookups;	/* hits + misses as the window began */
	pg_atomic_uint64 window_hits;
	pg_atomic_uint32 cold_skips_left;
	pg_atomic_uint32 failed_trials;
	pg_atomic_uint64 plan_cost;	/* of its last miss, rounded */
	pg_atomic_uint64 counters[SC_COUNT];
} StatementRecord;

typedef struct AdmissionShared
{
	uint32		nsets;
	pg_atomic_uint64 doorkeeper_inserts;
	pg_atomic_uint32 doorkeeper_current;	/* 0 or 1 */
	/* then: slock_t locks[nsets], records, doorkeeper words */
} AdmissionShared;

struct AdmissionMemo
{
	uint64		queryid;
	Oid			userid;
	Oid			dbid;
	StatementRecord *rec;
	uint32		generation;
	uint32		executions;		/* timed ones: every TIME_EVERY-th */
};

typedef struct TextMemo
{
	uint64		fingerprint;
	uint64		queryid;
	bool		ambiguous;		/* texts of two query ids share it */
} TextMemo;

static AdmissionShared *admission = NULL;
static slock_t *set_locks;
static StatementRecord *records;
static pg_atomic_uint32 *doorkeeper[2];

static AdmissionMemo memos[LOCAL_MEMOS];
static TextMemo text_memos[LOCAL_MEMOS];

/* ---------------------------------------------------------------------
 * Shared memory
 * ---------------------------------------------------------------------
 */

static uint32
set_count(void)
{
	return (uint32) ((cachealot_max_statements + ADMISSION_WAYS - 1) /
					 ADMISSION_WAYS);
}

/* What admission takes beside cachealot.max_memory */
Size
admission_shmem_bytes(void)
{
	Size		size = MAXALIGN(sizeof(AdmissionShared));

	size = add_size(size, MAXALIGN(mul_size(set_count(), sizeof(slock_t))));
	size = add_size(size, mul_size(mul_size(set_count(), ADMISSION_WAYS),
								   sizeof(StatementRecord)));
	size = add_size(size, 2 * DOORKEEPER_WORDS * sizeof(pg_atomic_uint32));
	return size;
}

void
admission_shmem_request(void)
{
	RequestAddinShmemSpace(admission_shmem_bytes());
}

/* Called with AddinShmemInitLock held */
void
admission_shmem_init(void)
{
	bool		found;
	char	   *place;
	uint32		nsets = set_count();
	uint32		nrecords = nsets * ADMISSION_WAYS;
	uint32		i;
	int			c;

	place = ShmemInitStruct("cachealot admission", admission_shmem_bytes(),
							&found);
	admission = (AdmissionShared *) place;
	place += MAXALIGN(sizeof(AdmissionShared));
	set_locks = (slock_t *) place;
	place += MAXALIGN(sizeof(slock_t) * nsets);
	records = (StatementRecord *) place;
	place += sizeof(StatementRecord) * nrecords;
	doorkeeper[0] = (pg_atomic_uint32 *) place;
	doorkeeper[1] = doorkeeper[0] + DOORKEEPER_WORDS;
	if (found)
		return;

	admission->nsets = nsets;
	pg_atomic_init_u64(&admission->doorkeeper_inserts, 0);
	pg_atomic_init_u32(&admission->doorkeeper_current, 0);
	for (i = 0; i < nsets; i++)
		SpinLockInit(&set_locks[i]);
	for (i = 0; i < nrecords; i++)
	{
		StatementRecord *rec = &records[i];

		memset(rec, 0, sizeof(*rec));
		pg_atomic_init_u32(&rec->generation, 0);
		pg_atomic_init_u32(&rec->state, STATEMENT_STORE_ALL);
		pg_atomic_init_u64(&rec->window_lookups, 0);
		pg_atomic_init_u64(&rec->window_hits, 0);
		pg_atomic_init_u32(&rec->cold_skips_left, 0);
		pg_atomic_init_u32(&rec->failed_trials, 0);
		pg_atomic_init_u64(&rec->plan_cost, 0);
		for (c = 0; c < SC_COUNT; c++)
			pg_atomic_init_u64(&rec->counters[c], 0);
	}
	for (i = 0; i < 2 * DOORKEEPER_WORDS; i++)
		pg_atomic_init_u32(&doorkeeper[0][i], 0);
}

/* ---------------------------------------------------------------------
 * The statement table
 * ---------------------------------------------------------------------
 */

static inline uint64
counter_get(StatementRecord *rec, StatementCounter c)
{
	return pg_atomic_read_u64(&rec->counters[c]);
}

static inline void
counter_add(StatementRecord *rec, StatementCounter c, uint64 n)
{
	pg_atomic_fetch_add_u64(&rec->counters[c], n);
}

/* How much a record was used since its usage last decayed */
static uint64
record_usage(StatementRecord *rec)
{
	uint64		used = counter_get(rec, SC_HITS) + counter_get(rec, SC_MISSES) +
		counter_get(rec, SC_SKIPS);

	return used > rec->usage_base ? used - rec->usage_base : 0;
}

/* Is 'rec' the record of this statement, as of generation *gen? */
static bool
record_matches(StatementRecord *rec, uint64 queryid, Oid userid, Oid dbid,
			   uint32 *gen)
{
	uint32		g = pg_atomic_read_u32(&rec->generation);
	bool		same;

	if (g == 0 || (g & 1) != 0)
		return false;
	pg_read_barrier();
	same = rec->queryid == queryid && rec->userid == userid &&
		rec->dbid == dbid;
	pg_read_barrier();
	if (!same || pg_atomic_read_u32(&rec->generation) != g)
		return false;
	*gen = g;
	return true;
}

/*
 * The record of a statement: found without a lock, or added under its
 * set's spinlock in place of the set's least used record.
 */
static StatementRecord *
record_find_or_add(uint64 hash, uint64 queryid, Oid userid, Oid dbid,
				   uint32 *gen)
{
	uint32		set = (uint32) (hash % admission->nsets);
	StatementRecord *ways = &records[set * ADMISSION_WAYS];
	StatementRecord *victim = NULL;
	uint64		victim_usage = PG_UINT64_MAX;
	uint32		g;
	int			w;
	int			c;

	for (w = 0; w < ADMISSION_WAYS; w++)
		if (record_matches(&ways[w], queryid, userid, dbid, gen))
			return &ways[w];

	SpinLockAcquire(&set_locks[set]);
	for (w = 0; w < ADMISSION_WAYS; w++)
	{
		StatementRecord *rec = &ways[w];
		uint64		usage;

		if (record_matches(rec, queryid, userid, dbid, gen))
		{
			SpinLockRelease(&set_locks[set]);
			return rec;
		}
		usage = pg_atomic_read_u32(&rec->generation) == 0 ? 0 :
			record_usage(rec);
		if (usage < victim_usage)
		{
			victim = rec;
			victim_usage = usage;
		}
	}

	/*
	 * Evicting a statement ages the others a little, so that old favourites
	 * can go too, but only slowly: a flood of one-off statements must not
	 * push out a statement in steady use.
	 */
	if (pg_atomic_read_u32(&victim->generation) != 0)
		for (w = 0; w < ADMISSION_WAYS; w++)
			if (&ways[w] != victim)
				ways[w].usage_base += record_usage(&ways[w]) / USAGE_DECAY;

	g = pg_atomic_read_u32(&victim->generation);
	pg_atomic_write_u32(&victim->generation, g + 1);
	pg_write_barrier();
	victim->queryid = queryid;
	victim->userid = userid;
	victim->dbid = dbid;
	victim->usage_base = 0;
	pg_atomic_write_u32(&victim->state, STATEMENT_STORE_ALL);
	pg_atomic_write_u64(&victim->window_lookups, 0);
	pg_atomic_write_u64(&victim->window_hits, 0);
	pg_atomic_write_u32(&victim->cold_skips_left, 0);
	pg_atomic_write_u32(&victim->failed_trials, 0);
	pg_atomic_write_u64(&victim->plan_cost, 0);
	for (c = 0; c < SC_COUNT; c++)
		pg_atomic_write_u64(&victim->counters[c], 0);
	pg_write_barrier();
	pg_atomic_write_u32(&victim->generation, g + 2);
	SpinLockRelease(&set_locks[set]);

	*gen = g + 2;
	return victim;
}

static inline uint64
statement_hash(uint64 queryid, Oid userid, Oid dbid)
{
	return hash_combine64(queryid,
						  ((uint64) userid << 32) | (uint64) dbid) *
		UINT64CONST(0x9E3779B97F4A7C15);
}

/*
 * This backend's memo of a statement of the current user and database,
 * its record found or added.  NULL when there is no telling (no query id,
 * no shared memory).  Valid until the next call.
 */
AdmissionMemo *
admission_statement(uint64 queryId)
{
	Oid			userid;
	Oid			dbid = MyDatabaseId;
	uint64		hash;
	AdmissionMemo *memo;

	if (queryId == UINT64CONST(0) || admission == NULL)
		return NULL;
	userid = GetUserId();
	hash = statement_hash(queryId, userid, dbid);
	memo = &memos[(hash >> 32) % LOCAL_MEMOS];
	if (memo->rec != NULL && memo->queryid == queryId &&
		memo->userid == userid && memo->dbid == dbid &&
		pg_atomic_read_u32(&memo->rec->generation) == memo->generation)
		return memo;

	memo->queryid = queryId;
	memo->userid = userid;
	memo->dbid = dbid;
	memo->executions = 0;
	memo->rec = record_find_or_add(hash, queryId, userid, dbid,
								   &memo->generation);
	return memo;
}

/* ---------------------------------------------------------------------
 * Decisions
 * ---------------------------------------------------------------------
 */

static void
window_begin(StatementRecord *rec)
{
	uint64		hits = counter_get(rec, SC_HITS);

	pg_atomic_write_u64(&rec->window_hits, hits);
	pg_atomic_write_u64(&rec->window_lookups,
						hits + counter_get(rec, SC_MISSES));
}

/*
 * Is a miss of this statement expensive enough that capturing it costs
 * little beside it?  Both measured and estimated, so that a slow machine
 * (or valgrind) does not make every statement look expensive.
 */
static bool
statement_is_expensive(StatementRecord *rec)
{
	uint64		timed = counter_get(rec, SC_TIMED_MISSES);

	return pg_atomic_read_u64(&rec->plan_cost) >= EXPENSIVE_COST &&
		timed > 0 &&
		counter_get(rec, SC_MISS_US) / timed >= EXPENSIVE_MISS_US;
}

/*
 * After a lookup: if it completed the statement's window, the window's
 * hit ratio decides the statement's state.  One backend wins the window.
 */
static void
window_maybe_end(StatementRecord *rec)
{
	uint64		hits = counter_get(rec, SC_HITS);
	uint64		lookups = hits + counter_get(rec, SC_MISSES);
	uint64		began = pg_atomic_read_u64(&rec->window_lookups);
	uint32		state = pg_atomic_read_u32(&rec->state);
	uint64		length = state == STATEMENT_TRIAL ? TRIAL_WINDOW : WINDOW;
	uint64		window_hits;
	uint32		failed;

	if (lookups < began + length ||
		!pg_atomic_compare_exchange_u64(&rec->window_lookups, &began, lookups))
		return;
	window_hits = hits - Min(hits, pg_atomic_read_u64(&rec->window_hits));
	pg_atomic_write_u64(&rec->window_hits, hits);
	lookups -= began;

	if (statement_is_expensive(rec))
		state = STATEMENT_STORE_ALL;
	else if (window_hits * COLD_RATIO < lookups)
	{
		failed = pg_atomic_read_u32(&rec->failed_trials);
		if (state == STATEMENT_TRIAL && failed < BACKOFF_MAX_SHIFT)
			pg_atomic_write_u32(&rec->failed_trials, ++failed);
		pg_atomic_write_u32(&rec->cold_skips_left, BACKOFF_MIN << failed);
		state = STATEMENT_COLD;
	}
	else if (window_hits * DOORKEEPER_RATIO < lookups)
		state = STATEMENT_DOORKEEPER;
	else
		state = STATEMENT_STORE_ALL;
	if (state != STATEMENT_COLD)
		pg_atomic_write_u32(&rec->failed_trials, 0);
	pg_atomic_write_u32(&rec->state, state);
}

/*
 * Should this execution skip the cache, without a key or a lookup?  Only
 * while the statement is COLD; the execution that ends the backoff starts
 * its trial instead.  A skip is counted.
 */
bool
admission_skips(AdmissionMemo *memo)
{
	StatementRecord *rec;
	uint32		state;

	if (memo == NULL || !cachealot_admission)
		return false;
	rec = memo->rec;
	state = pg_atomic_read_u32(&rec->state);
	if (state != STATEMENT_COLD)
		return false;
	if ((int32) pg_atomic_fetch_sub_u32(&rec->cold_skips_left, 1) > 0)
	{
		counter_add(rec, SC_SKIPS, 1);
		stats_add(STAT_ADMISSION_SKIPS, 1);
		return true;
	}
	if (pg_atomic_compare_exchange_u32(&rec->state, &state, STATEMENT_TRIAL))
		window_begin(rec);
	return false;
}

void
admission_note_hit(AdmissionMemo *memo)
{
	if (memo == NULL)
		return;
	counter_add(memo->rec, SC_HITS, 1);
	window_maybe_end(memo->rec);
}

/* ---------------------------------------------------------------------
 * The doorkeeper
 * ---------------------------------------------------------------------
 */

/* The three bits of a key hash */
static inline void
doorkeeper_bits(uint64 hash, uint32 bits[3])
{
	uint32		h1 = (uint32) hash;
	uint32		h2 = (uint32) (hash >> 32) | 1;
	int			i;

	for (i = 0; i < 3; i++)
		bits[i] = (h1 + i * h2) % DOORKEEPER_BITS;
}

static bool
doorkeeper_has(pg_atomic_uint32 *filter, const uint32 bits[3])
{
	int			i;

	for (i = 0; i < 3; i++)
		if ((pg_atomic_read_u32(&filter[bits[i] / 32]) &
			 ((uint32) 1 << (bits[i] % 32))) == 0)
			return false;
	return true;
}

/*
 * Was this key looked up recently?  It is remembered either way.  Every
 * DOORKEEPER_ROTATE insertions, the older generation is cleared and takes
 * the new ones: a key is remembered for between one and two generations.
 */
static bool
doorkeeper_seen(uint64 hash)
{
	uint32		bits[3];
	uint32		current = pg_atomic_read_u32(&admission->doorkeeper_current);
	pg_atomic_uint32 *filter = doorkeeper[current];
	bool		seen;
	uint64		inserts;
	int			i;

	doorkeeper_bits(hash, bits);
	if (doorkeeper_has(filter, bits))
		return true;
	seen = doorkeeper_has(doorkeeper[current ^ 1], bits);
	for (i = 0; i < 3; i++)
		pg_atomic_fetch_or_u32(&filter[bits[i] / 32],
							   (uint32) 1 << (bits[i] % 32));

	inserts = pg_atomic_add_fetch_u64(&admission->doorkeeper_inserts, 1);
	if (inserts % DOORKEEPER_ROTATE == 0)
	{
		pg_atomic_uint32 *older = doorkeeper[current ^ 1];

		for (i = 0; i < DOORKEEPER_WORDS; i++)
			pg_atomic_write_u32(&older[i], 0);
		pg_atomic_write_u32(&admission->doorkeeper_current, current ^ 1);
	}
	return seen;
}

/*
 * After a lookup missed: should the miss be captured and stored?  In the
 * DOORKEEPER state only if its key was looked up recently; a miss that is
 * not is counted as rejected.
 */
bool
admission_note_miss(AdmissionMemo *memo, uint64 key_hash, Cost plan_cost)
{
	StatementRecord *rec;
	bool		admit = true;

	if (memo == NULL)
		return true;
	rec = memo->rec;
	counter_add(rec, SC_MISSES, 1);
	pg_atomic_write_u64(&rec->plan_cost,
						plan_cost > 0 ? (uint64) Min(plan_cost, 1e18) : 0);
	if (cachealot_admission &&
		pg_atomic_read_u32(&rec->state) == STATEMENT_DOORKEEPER &&
		!doorkeeper_seen(key_hash))
	{
		counter_add(rec, SC_REJECTS, 1);
		stats_add(STAT_ADMISSION_REJECTS, 1);
		admit = false;
	}
	window_maybe_end(rec);
	return admit;
}

/* Should this hit or captured miss be timed?  One in TIME_EVERY is. */
bool
admission_times(AdmissionMemo *memo)
{
	return memo != NULL && memo->executions++ % TIME_EVERY == 0;
}

void
admission_note_time(uint64 queryId, bool hit, instr_time elapsed)
{
	AdmissionMemo *memo = admission_statement(queryId);

	if (memo == NULL)
		return;
	counter_add(memo->rec, hit ? SC_HIT_US : SC_MISS_US,
				(uint64) INSTR_TIME_GET_MICROSEC(elapsed));
	counter_add(memo->rec, hit ? SC_TIMED_HITS : SC_TIMED_MISSES, 1);
}

void
admission_note_store(uint64 queryId)
{
	AdmissionMemo *memo = admission_statement(queryId);

	if (memo != NULL)
		counter_add(memo->rec, SC_STORES, 1);
}

/* ---------------------------------------------------------------------
 * Statements sent as simple queries, known by their text
 * ---------------------------------------------------------------------
 */

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

#define FNV_PRIME	UINT64CONST(0x100000001b3)

static inline uint64
fingerprint_add(uint64 h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* Is [p, p + len) this keyword (of that length), case insensitively? */
static inline bool
word_is(const unsigned char *p, int len, const char *keyword)
{
	return (p[0] | 0x20) == keyword[0] &&
		pg_strncasecmp((const char *) p, keyword, len) == 0;
}

/*
 * A hash of a statement's text with its numeric and quoted string
 * constants left out: the same for the executions of a statement that
 * differ only in constants, as its query id is.  A number stands in by its
 * kind (integer, big integer, decimal), which its constant's type follows;
 * numbers after ORDER BY and GROUP BY are positions, not constants, and are
 * kept (until LIMIT, OFFSET, FETCH or a closing parenthesis).  Only a hint
 * (see admission_learn_text for two statements that share one anyway).
 */
uint64
admission_text_fingerprint(const char *text, int len)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;
	uint64		h = UINT64CONST(0xcbf29ce484222325);
	bool		positions = false;	/* in an ORDER BY or GROUP BY list */

	while (p < end)
	{
		unsigned char c = *p;

		if (c == '\'')
		{
			/* a string constant, '' inside it included */
			for (p++; p < end; p++)
				if (*p == '\'' && (++p >= end || *p != '\''))
					break;
			h = fingerprint_add(h, '?');
		}
		else if (is_digit(c))
		{
			const unsigned char *start = p;
			unsigned char kind = 'i';

			while (p < end && (text_is_word_char(*p) || *p == '.'))
			{
				if (*p == '.' || *p == 'e' || *p == 'E')
					kind = 'n';
				p++;
			}
			if (kind == 'i' && p - start >= 10)
				kind = 'l';
			if (positions)
				while (start < p)
					h = fingerprint_add(h, *start++);
			else
			{
				h = fingerprint_add(h, '?');
				h = fingerprint_add(h, kind);
			}
		}
		else if (text_is_word_char(c))
		{
			const unsigned char *start = p;

			while (p < end && text_is_word_char(*p))
				h = fingerprint_add(h, *p++);
			switch (p - start)
			{
				case 2:
					if (word_is(start, 2, "by"))
						positions = true;
					break;
				case 5:
					if (word_is(start, 5, "limit") || word_is(start, 5, "fetch"))
						positions = false;
					break;
				case 6:
					if (word_is(start, 6, "offset"))
						positions = false;
					break;
			}
			h = fingerprint_add(h, ' ');
		}
		else
		{
			if (c == ')' || c == ';')
				positions = false;
			h = fingerprint_add(h, c);
			p++;
		}
	}
	return h;
}

/*
 * Should a statement sent as a simple query, known by its fingerprint,
 * skip the cache (admission_skips) before its query id is computed?
 */
bool
admission_skips_text(uint64 fingerprint)
{
	TextMemo   *tm = &text_memos[fingerprint % LOCAL_MEMOS];

	if (tm->fingerprint != fingerprint || tm->ambiguous ||
		tm->queryid == UINT64CONST(0) || !cachealot_admission)
		return false;
	return admission_skips(admission_statement(tm->queryid));
}

/*
 * Parse analysis computed the query id of a statement with this text.  A
 * fingerprint seen with two query ids is never trusted again (while it
 * keeps its memo slot): until that is seen, the other statement is skipped
 * as the COLD one, for at most that one's backoff.
 */
void
admission_learn_text(uint64 fingerprint, uint64 queryId)
{
	TextMemo   *tm = &text_memos[fingerprint % LOCAL_MEMOS];

	if (tm->fingerprint == fingerprint)
	{
		if (tm->queryid != queryId)
			tm->ambiguous = true;
		return;
	}
	tm->fingerprint = fingerprint;
	tm->queryid = queryId;
	tm->ambiguous = false;
}
