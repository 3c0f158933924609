--
-- parallel: a parallel query is cached by the leader and served correctly;
-- parallel workers never look up, store or count anything.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Counters since the last call, then reset.  Calling it costs two bypasses
-- of its own (the calling SELECT and the SELECT inside), not counted here.
CREATE FUNCTION par_delta(OUT hits bigint, OUT misses bigint, OUT stores bigint,
                          OUT bypasses bigint)
LANGUAGE plpgsql SET force_parallel_mode = off AS $$
BEGIN
    SELECT s.hits, s.misses, s.stores, s.bypasses - 2
      INTO hits, misses, stores, bypasses
      FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- All DDL first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE TABLE par_t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO par_t SELECT g, g % 100 FROM generate_series(1, 50000) g;
ANALYZE par_t;
-- a parallel-safe function whose query runs inside the workers
CREATE TABLE par_small (id int PRIMARY KEY, w int NOT NULL);
INSERT INTO par_small VALUES (0, 1), (1, 10), (2, 100);
CREATE FUNCTION par_lookup(int) RETURNS int STABLE PARALLEL SAFE LANGUAGE plpgsql
    AS 'BEGIN RETURN (SELECT w FROM par_small WHERE id = $1); END';
-- the same aggregate through RETURN QUERY (parallel plans are allowed there)
CREATE FUNCTION par_rq(OUT n bigint, OUT total bigint) RETURNS SETOF record
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT count(*) AS n, sum(v) AS total FROM par_t;
END
$$;
-- did a run of this query launch parallel workers?
CREATE FUNCTION par_workers_launched(q text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || q INTO plan;
    RETURN (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Workers Launched')::int > 0;
END
$$;

SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;

EXPLAIN (COSTS OFF) SELECT count(*), sum(v) FROM par_t;
EXPLAIN (COSTS OFF) SELECT id, v FROM par_t WHERE id % 10000 = 7 ORDER BY id;
SELECT par_workers_launched('SELECT count(*), sum(v) FROM par_t');
SELECT cachealot_reset_stats();

-- the same result twice: one miss and one store by the leader, then one hit
SELECT count(*), sum(v) FROM par_t;
SELECT count(*), sum(v) FROM par_t;
SELECT * FROM par_delta();

SELECT * FROM par_rq();
SELECT * FROM par_rq();
SELECT * FROM par_delta();

-- a parallel query returning rows
SELECT id, v FROM par_t WHERE id % 10000 = 7 ORDER BY id;
SELECT id, v FROM par_t WHERE id % 10000 = 7 ORDER BY id;
SELECT * FROM par_delta();

-- queries run by parallel workers (here: inside par_lookup(), called for
-- rows the workers scan; the leader scans none) neither look up, store nor
-- count anything: only the leader's bypass of the outer query is counted
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT sum(par_lookup(v % 3)) FROM par_t WHERE id <= 300;
SELECT cachealot_reset_stats();
SELECT sum(par_lookup(v % 3)) FROM par_t WHERE id <= 300;
SELECT sum(par_lookup(v % 3)) FROM par_t WHERE id <= 300;
SELECT * FROM par_delta();
RESET parallel_leader_participation;

-- a committed write: fresh results, then a hit again
UPDATE par_t SET v = v + 1000 WHERE id <= 10;
UPDATE par_t SET v = -1 WHERE id = 20007;
SELECT count(*), sum(v) FROM par_t;
SELECT count(*), sum(v) FROM par_t;
SELECT id, v FROM par_t WHERE id % 10000 = 7 ORDER BY id;
SELECT id, v FROM par_t WHERE id % 10000 = 7 ORDER BY id;
SELECT * FROM par_rq();
SELECT * FROM par_rq();
SELECT * FROM par_delta();

-- a write inside a transaction is seen by its own parallel query
BEGIN;
DELETE FROM par_t WHERE id > 40000;
SELECT count(*), sum(v) FROM par_t;
SELECT * FROM par_delta();			-- bypassed
COMMIT;
SELECT count(*), sum(v) FROM par_t;
SELECT count(*), sum(v) FROM par_t;
SELECT * FROM par_delta();

-- the same results without parallelism, computed without the cache
RESET force_parallel_mode;
SET max_parallel_workers_per_gather = 0;
SET cachealot.enabled = off;
SELECT count(*), sum(v) FROM par_t;
SELECT id, v FROM par_t WHERE id % 10000 = 7 ORDER BY id;
RESET cachealot.enabled;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
