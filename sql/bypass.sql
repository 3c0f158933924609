--
-- bypass: queries that must never be served from the cache or stored in it,
-- and positive controls that must be.  Every case checks the rows, and the
-- counters show that nothing hit (or, for the controls, that a repeat hit).
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Counters since the last call, then reset.  Calling it costs two bypasses
-- of its own (the calling SELECT and the SELECT inside), not counted here.
CREATE FUNCTION byp_delta(OUT hits bigint, OUT misses bigint, OUT stores bigint,
                          OUT bypasses bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.hits, s.misses, s.stores, s.bypasses - 2
      INTO hits, misses, stores, bypasses
      FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- All DDL first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE TABLE byp_t (id int PRIMARY KEY, ts timestamptz NOT NULL, val int NOT NULL);
INSERT INTO byp_t
    SELECT g, timestamptz '2000-01-01 00:00:00+00' + g * interval '1 day', g
      FROM generate_series(1, 100) g;
CREATE TABLE byp_other (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO byp_other VALUES (1, 100);
CREATE TABLE byp_big (id int PRIMARY KEY, pad text NOT NULL);
INSERT INTO byp_big SELECT g, repeat(chr(64 + g % 26), 1000) FROM generate_series(1, 100) g;
CREATE FUNCTION byp_immutable(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 * 2';
CREATE FUNCTION byp_stable(int) RETURNS int STABLE LANGUAGE sql
    AS 'SELECT $1 * 3';
-- a STABLE function that reads a table the calling query does not name
CREATE FUNCTION byp_lookup(int) RETURNS int STABLE LANGUAGE plpgsql
    AS 'BEGIN RETURN (SELECT v FROM byp_other WHERE id = $1); END';
-- a view whose target list hides a non-immutable function
CREATE VIEW byp_v_ts AS SELECT *, now() AS t FROM byp_t;
-- a view whose WHERE clause hides random()
CREATE VIEW byp_v_rand AS SELECT * FROM byp_t WHERE random() < 2;
CREATE SEQUENCE byp_seq;
CREATE TEMP TABLE byp_tmp (id int);
INSERT INTO byp_tmp VALUES (1), (2);
-- reads every row of byp_big through a PL/pgSQL FOR loop (a cacheable query)
CREATE FUNCTION byp_read_big(OUT nrows bigint, OUT nbytes bigint, OUT digest text)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    nrows := 0;
    nbytes := 0;
    digest := '';
    FOR r IN SELECT id, pad FROM byp_big ORDER BY id LOOP
        nrows := nrows + 1;
        nbytes := nbytes + length(r.pad);
        digest := md5(digest || r.id || r.pad);
    END LOOP;
END
$$;
-- the same, computed without the cache's help
SELECT count(*) AS nrows, sum(length(pad)) AS nbytes FROM byp_big;

SELECT * FROM byp_delta() \gset ignored_

--
-- Positive controls: a plain aggregate and an IMMUTABLE function are cached
--
SELECT count(*), sum(val) FROM byp_t;
SELECT count(*), sum(val) FROM byp_t;
SELECT * FROM byp_delta();		-- miss, store, hit
SELECT id, byp_immutable(val) FROM byp_t WHERE id <= 3 ORDER BY id;
SELECT id, byp_immutable(val) FROM byp_t WHERE id <= 3 ORDER BY id;
SELECT * FROM byp_delta();		-- miss, store, hit

--
-- now(), CURRENT_TIMESTAMP, statement_timestamp()
--
SELECT count(*) FROM byp_t WHERE ts < now();
SELECT count(*) FROM byp_t WHERE ts < now();
SELECT count(*) FROM byp_t WHERE ts < CURRENT_TIMESTAMP;
SELECT count(*) FROM byp_t WHERE ts < CURRENT_TIMESTAMP;
SELECT count(*) FROM byp_t WHERE ts < statement_timestamp();
SELECT count(*) FROM byp_t WHERE ts < statement_timestamp();
SELECT * FROM byp_delta();		-- six bypasses

--
-- random()
--
SELECT count(*) FROM byp_t WHERE random() >= 0;
SELECT count(*) FROM byp_t WHERE random() >= 0;
SELECT * FROM byp_delta();

--
-- a STABLE function, inlinable SQL or PL/pgSQL
--
SET client_min_messages = debug2;
SELECT id, byp_stable(val) FROM byp_t WHERE id <= 3 ORDER BY id;
RESET client_min_messages;
SELECT id, byp_stable(val) FROM byp_t WHERE id <= 3 ORDER BY id;
SELECT id, byp_lookup(1) FROM byp_t WHERE id <= 2 ORDER BY id;
SELECT id, byp_lookup(1) FROM byp_t WHERE id <= 2 ORDER BY id;
-- four bypasses of the outer queries; the query inside byp_lookup() reads
-- byp_other only and is itself cacheable: one miss and store, three hits
SELECT * FROM byp_delta();
-- had the outer query been cached, it would still return 100 here
UPDATE byp_other SET v = 200 WHERE id = 1;
SELECT id, byp_lookup(1) FROM byp_t WHERE id <= 2 ORDER BY id;
-- the outer query bypasses; the inner one sees the new version of byp_other:
-- one miss and store, one hit
SELECT * FROM byp_delta();

--
-- a view hiding now() in its target list
--
-- Selecting t must bypass.
SELECT count(*), bool_and(t = transaction_timestamp()) AS t_is_current
  FROM byp_v_ts;
SELECT count(*), bool_and(t = transaction_timestamp()) AS t_is_current
  FROM byp_v_ts;
SELECT * FROM byp_delta();
-- Without t the result does not depend on now(); the design checks the
-- whole rewritten tree (a bypass), but caching would be correct too: only
-- the rows are checked.
SELECT id, val FROM byp_v_ts WHERE id <= 3 ORDER BY id;
SELECT id, val FROM byp_v_ts WHERE id <= 3 ORDER BY id;
SELECT hits + misses + bypasses = 2 AS each_counted_once FROM byp_delta();

--
-- a view hiding random() in its WHERE clause
--
SELECT count(*) FROM byp_v_rand;
SELECT count(*) FROM byp_v_rand;
SELECT * FROM byp_delta();

--
-- FOR UPDATE / FOR SHARE (and the same query without them is cached)
--
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id;
SELECT * FROM byp_delta();		-- miss, store, hit
BEGIN;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id FOR UPDATE;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id FOR UPDATE;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id FOR SHARE;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id FOR SHARE;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id FOR NO KEY UPDATE;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id FOR KEY SHARE;
COMMIT;
SELECT * FROM byp_delta();		-- six bypasses

--
-- a temporary table
--
SELECT id FROM byp_tmp ORDER BY id;
SELECT id FROM byp_tmp ORDER BY id;
SELECT * FROM byp_delta();
INSERT INTO byp_tmp VALUES (3);
SELECT id FROM byp_tmp ORDER BY id;
-- a join of a temporary and a regular table
SELECT b.id, b.val FROM byp_t b JOIN byp_tmp t ON t.id = b.id ORDER BY b.id;
SELECT b.id, b.val FROM byp_t b JOIN byp_tmp t ON t.id = b.id ORDER BY b.id;
SELECT * FROM byp_delta();

--
-- EXPLAIN ANALYZE of a cached query runs the plan: no hit
--
SELECT count(*) FROM byp_t WHERE val > 50;
SELECT count(*) FROM byp_t WHERE val > 50;
SELECT * FROM byp_delta();		-- miss, store, hit
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM byp_t WHERE val > 50;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM byp_t WHERE val > 50;
SELECT * FROM byp_delta();		-- two bypasses
SELECT count(*) FROM byp_t WHERE val > 50;
SELECT * FROM byp_delta();		-- still cached

--
-- results over cachealot.max_entry_size are not stored
--
-- control: with the default limit the FOR loop's query is stored, then hits
SELECT * FROM byp_read_big();
SELECT * FROM byp_read_big();
SELECT hits, misses, stores FROM byp_delta();
SELECT cachealot_flush() >= 0 AS flushed;
ALTER SYSTEM SET cachealot.max_entry_size = '8kB';
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
SHOW cachealot.max_entry_size;
SELECT cachealot_reset_stats();
SELECT * FROM byp_read_big();
SELECT * FROM byp_read_big();
SELECT hits, misses, stores FROM byp_delta();	-- two misses, nothing stored
-- the same from a client: ~100kB of rows, never stored
\o /dev/null
SELECT id, pad FROM byp_big ORDER BY id;
SELECT id, pad FROM byp_big ORDER BY id;
\o
SELECT hits, misses, stores FROM byp_delta();	-- two misses, nothing stored
SELECT entries FROM cachealot_stats();		-- nothing stored since the flush
-- a small result is still stored under the small limit
SELECT count(*) FROM byp_big WHERE id <= 10;
SELECT count(*) FROM byp_big WHERE id <= 10;
SELECT hits, misses, stores FROM byp_delta();	-- miss, store, hit
ALTER SYSTEM RESET cachealot.max_entry_size;
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
SHOW cachealot.max_entry_size;
SELECT cachealot_reset_stats();

--
-- SERIALIZABLE transactions never use the cache
--
SELECT count(*), sum(val) FROM byp_t;
SELECT count(*), sum(val) FROM byp_t;
SELECT * FROM byp_delta();		-- miss, store, then a hit outside
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*), sum(val) FROM byp_t;
SELECT count(*), sum(val) FROM byp_t;
SELECT id FROM byp_t WHERE id <= 3 ORDER BY id;
COMMIT;
SELECT * FROM byp_delta();		-- three bypasses
SELECT count(*), sum(val) FROM byp_t;
SELECT * FROM byp_delta();		-- a hit outside again

--
-- a sequence
--
SELECT last_value, is_called FROM byp_seq;
SELECT last_value, is_called FROM byp_seq;
SELECT * FROM byp_delta();
SELECT nextval('byp_seq');
SELECT last_value, is_called FROM byp_seq;	-- fresh
SELECT * FROM byp_delta();		-- nextval and the read bypass
-- nextval() in a query over a table
SELECT id, nextval('byp_seq') FROM byp_t WHERE id <= 2 ORDER BY id;
SELECT id, nextval('byp_seq') FROM byp_t WHERE id <= 2 ORDER BY id;
SELECT last_value, is_called FROM byp_seq;
SELECT * FROM byp_delta();

--
-- system columns that row locks change without a write
--
SELECT id, xmax = 0 AS never_locked FROM byp_t WHERE id = 50;
SELECT id, xmax = 0 AS never_locked FROM byp_t WHERE id = 50;
SELECT * FROM byp_delta();
BEGIN;
SELECT id FROM byp_t WHERE id = 50 FOR UPDATE;
COMMIT;
SELECT id, xmax = 0 AS never_locked FROM byp_t WHERE id = 50;	-- f
SELECT * FROM byp_delta();

--
-- TABLESAMPLE, an anonymous record, the 'now' literal
--
SELECT count(*) FROM byp_t TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM byp_t TABLESAMPLE SYSTEM (100);
SELECT ROW(id, val) FROM byp_t WHERE id <= 2 ORDER BY id;
SELECT ROW(id, val) FROM byp_t WHERE id <= 2 ORDER BY id;
SELECT count(*) FROM byp_t WHERE ts < 'now'::timestamptz;
SELECT count(*) FROM byp_t WHERE ts < 'now'::timestamptz;
SELECT * FROM byp_delta();		-- six bypasses

--
-- system catalogs
--
SELECT count(*) FROM pg_class WHERE relname = 'byp_t';
SELECT count(*) FROM pg_class WHERE relname = 'byp_t';
SELECT count(*) FROM pg_class c JOIN byp_t b ON b.id = c.relnatts
 WHERE c.relname = 'byp_t';
SELECT count(*) FROM pg_class c JOIN byp_t b ON b.id = c.relnatts
 WHERE c.relname = 'byp_t';
SELECT * FROM byp_delta();

--
-- current_user, current_setting()
--
SELECT current_user = session_user AS same_user, count(*) FROM byp_t;
SELECT current_user = session_user AS same_user, count(*) FROM byp_t;
SELECT * FROM byp_delta();
SET byp.flag = 'a';
SELECT current_setting('byp.flag') AS flag, count(*) FROM byp_t;
SELECT current_setting('byp.flag') AS flag, count(*) FROM byp_t;
SET byp.flag = 'b';
SELECT current_setting('byp.flag') AS flag, count(*) FROM byp_t;	-- b
SELECT * FROM byp_delta();
