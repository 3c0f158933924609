--
-- smaller_holes: aggregates used as window functions, results fetched in
-- several runs with a setting changed between them, superuser DML on the
-- system catalogs, and utility writes whose target name resolves elsewhere
-- once the statement has run.
--
-- Places marked "wrong before the fix" are where the build before the fix
-- served or stored rows that differ from the truth (cachealot.enabled =
-- off).
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Hits and misses since the last call, then reset (both zero: bypassed)
CREATE FUNCTION sh_delta(OUT hits bigint, OUT misses bigint)
LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    SELECT s.hits, s.misses INTO hits, misses FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- Setup first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE TABLE sh_t (id int PRIMARY KEY, v int NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO sh_t VALUES (1, 1), (2, 2), (3, 3);
CREATE SEQUENCE sh_seq;
-- a VOLATILE transition function: each call takes a new sequence value
CREATE FUNCTION sh_vsf(int8, int) RETURNS int8 VOLATILE LANGUAGE sql
    AS 'SELECT $1 + $2 * nextval(''sh_seq'')';
CREATE FUNCTION sh_vinv(int8, int) RETURNS int8 VOLATILE LANGUAGE sql
    AS 'SELECT $1 - $2 * currval(''sh_seq'')';
CREATE FUNCTION sh_isf(int8, int) RETURNS int8 IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + $2';
CREATE FUNCTION sh_ifin(int8) RETURNS int8 IMMUTABLE LANGUAGE sql
    AS 'SELECT $1';
CREATE FUNCTION sh_vfin(int8) RETURNS int8 VOLATILE LANGUAGE sql
    AS 'SELECT $1 * 1000 + nextval(''sh_seq'')';
CREATE AGGREGATE sh_vagg(int) (sfunc = sh_vsf, stype = int8, initcond = '0');
-- moving-aggregate support VOLATILE, the plain transition IMMUTABLE
CREATE AGGREGATE sh_magg(int) (sfunc = sh_isf, stype = int8, initcond = '0',
    msfunc = sh_vsf, minvfunc = sh_vinv, mstype = int8, minitcond = '0');
-- only the final function VOLATILE
CREATE AGGREGATE sh_fagg(int) (sfunc = sh_isf, stype = int8, initcond = '0',
    finalfunc = sh_vfin);
-- only the moving final function VOLATILE
CREATE AGGREGATE sh_mfagg(int) (sfunc = sh_isf, stype = int8,
    initcond = '0', finalfunc = sh_ifin,
    msfunc = sh_isf, minvfunc = sh_isf, mstype = int8, minitcond = '0',
    mfinalfunc = sh_vfin);

-- float text output depends on extra_float_digits (float8out is IMMUTABLE)
CREATE TABLE sh_fl (id int, f float8) WITH (autovacuum_enabled = off);
INSERT INTO sh_fl SELECT g, 1.0 / 3 + g FROM generate_series(1, 14) g;
-- the FOR loop fetches 10 rows, then 50 at a time: the setting changes
-- between the executor's runs
CREATE FUNCTION sh_loop() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, f::text AS s FROM sh_fl LOOP
        IF r.id = 1 THEN
            PERFORM set_config('extra_float_digits', '-5', true);
        END IF;
        RETURN NEXT r.id || ' ' || r.s;
    END LOOP;
END $$;
-- an explicit cursor, fetched one row at a time
CREATE FUNCTION sh_cursor() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c NO SCROLL CURSOR FOR SELECT id, f::text AS s FROM sh_fl WHERE id <= 4;
    r record;
BEGIN
    OPEN c;
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        IF r.id = 2 THEN
            PERFORM set_config('extra_float_digits', '-5', true);
        END IF;
        RETURN NEXT r.id || ' ' || r.s;
    END LOOP;
    CLOSE c;
END $$;

-- an IMMUTABLE SQL function inlined into the cached query
CREATE FUNCTION sh_myfunc() RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT 1';

-- utility writes whose trigger moves the search path away
CREATE SCHEMA sh_s1;
CREATE SCHEMA sh_s2;
CREATE TABLE sh_s1.t (v int) WITH (autovacuum_enabled = off);
CREATE TABLE sh_s2.t (v int) WITH (autovacuum_enabled = off);
INSERT INTO sh_s1.t VALUES (1);
CREATE FUNCTION sh_move_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', 'sh_s2, public', false);
    RETURN NEW;
END $$;
CREATE FUNCTION sh_move_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', 'sh_s2, public', false);
    RETURN NULL;
END $$;
CREATE TRIGGER sh_copy_row BEFORE INSERT ON sh_s1.t
    FOR EACH ROW EXECUTE FUNCTION sh_move_row();
CREATE TRIGGER sh_truncate BEFORE TRUNCATE ON sh_s1.t
    FOR EACH STATEMENT EXECUTE FUNCTION sh_move_stmt();
-- a matview whose query tries to move the search path
CREATE FUNCTION sh_move_fn() RETURNS int VOLATILE LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', 'sh_s2, public', false);
    RETURN 1;
END $$;
CREATE TABLE sh_s1.src (v int) WITH (autovacuum_enabled = off);
INSERT INTO sh_s1.src VALUES (1);
CREATE MATERIALIZED VIEW sh_s1.mv AS SELECT v, sh_move_fn() AS one
    FROM sh_s1.src;
CREATE MATERIALIZED VIEW sh_s2.mv AS SELECT v, 1 AS one FROM sh_s1.src
    WITH NO DATA;

SELECT cachealot_reset_stats();

--
-- (f) aggregates with VOLATILE support functions, as aggregates and as
-- window functions: never cached, every run takes new sequence values
--
SELECT setval('sh_seq', 1, false);
SELECT sh_vagg(v) FROM sh_t;
SELECT sh_vagg(v) FROM sh_t;
SELECT * FROM sh_delta();			-- bypassed
SELECT id, sh_vagg(v) OVER () FROM sh_t ORDER BY id;
SELECT id, sh_vagg(v) OVER () FROM sh_t ORDER BY id;	-- wrong before the fix: served the first run
SELECT * FROM sh_delta();			-- bypassed
SELECT id, sh_vagg(v) OVER (ORDER BY id) FROM sh_t ORDER BY id;
SELECT id, sh_vagg(v) OVER (ORDER BY id) FROM sh_t ORDER BY id;	-- wrong before the fix: served the first run
SELECT * FROM sh_delta();			-- bypassed
-- the moving-aggregate functions run only with a moving frame head
SELECT setval('sh_seq', 1, false);
SELECT id, sh_magg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    FROM sh_t ORDER BY id;
SELECT id, sh_magg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    FROM sh_t ORDER BY id;			-- wrong before the fix: served the first run
SELECT * FROM sh_delta();			-- bypassed
-- the same aggregate, plain: its immutable transition runs, cached
SELECT sh_magg(v) FROM sh_t;
SELECT sh_magg(v) FROM sh_t;
SELECT (sh_delta()).hits > 0 AS hit;
-- a VOLATILE final function
SELECT setval('sh_seq', 1, false);
SELECT sh_fagg(v) FROM sh_t;
SELECT sh_fagg(v) FROM sh_t;
SELECT * FROM sh_delta();			-- bypassed
SELECT id, sh_fagg(v) OVER () FROM sh_t ORDER BY id;
SELECT id, sh_fagg(v) OVER () FROM sh_t ORDER BY id;	-- wrong before the fix: served the first run
SELECT * FROM sh_delta();			-- bypassed
-- a VOLATILE moving final function
SELECT setval('sh_seq', 1, false);
SELECT id, sh_mfagg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    FROM sh_t ORDER BY id;
SELECT id, sh_mfagg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
    FROM sh_t ORDER BY id;			-- wrong before the fix: served the first run
SELECT * FROM sh_delta();			-- bypassed
SELECT sh_mfagg(v) FROM sh_t;
SELECT sh_mfagg(v) FROM sh_t;
SELECT (sh_delta()).hits > 0 AS hit;
SET cachealot.enabled = off;
SELECT setval('sh_seq', 1, false);
SELECT id, sh_vagg(v) OVER () FROM sh_t ORDER BY id;		-- truth
SELECT id, sh_vagg(v) OVER () FROM sh_t ORDER BY id;		-- truth
RESET cachealot.enabled;

--
-- (g) a result fetched in several runs, with extra_float_digits changed
-- between them: rows 1-10 come in the first run (old setting), rows 11-14
-- in the second (new setting)
--
SELECT id, f::text AS s FROM sh_fl;		-- cached under the default
SELECT id, f::text AS s FROM sh_fl;
SELECT (sh_delta()).hits > 0 AS hit;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT * FROM sh_loop();	-- wrong before the fix: row 11 in the old format
SHOW extra_float_digits;
SELECT id, f::text AS s FROM sh_fl;	-- wrong before the fix: rows 12-14 in the new format
SELECT id, f::text AS s FROM sh_fl;
SELECT * FROM sh_loop();	-- wrong before the fix: row 11 in the old format
SET cachealot.enabled = off;
SELECT * FROM sh_loop();	-- truth
SELECT id, f::text AS s FROM sh_fl;	-- truth
RESET cachealot.enabled;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();
SELECT * FROM sh_cursor();
SELECT id, f::text AS s FROM sh_fl WHERE id <= 4;	-- wrong before the fix: rows 3-4 in the new format
SELECT id, f::text AS s FROM sh_fl WHERE id <= 4;
SELECT (sh_delta()).hits > 0 AS hit;
SELECT * FROM sh_cursor();
SET cachealot.enabled = off;
SELECT * FROM sh_cursor();	-- truth
SELECT id, f::text AS s FROM sh_fl WHERE id <= 4;	-- truth
RESET cachealot.enabled;

--
-- (g2) rows that read settings without a cast node: a direct call of an
-- output function (float8out reads extra_float_digits), and an IMMUTABLE
-- SQL function with a cast inside, inlined only by the planner.  Cached
-- first, then fetched by a FOR loop that changes the setting after the
-- first row: the hit must run its plan instead (the truth below).
-- Found by an adversarial review: both were replayed from the cache.
--
CREATE FUNCTION sh_fmt(float8) RETURNS text IMMUTABLE LANGUAGE sql
    AS 'SELECT $1::text';
CREATE FUNCTION sh_loop2(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n int := 0;
BEGIN
    FOR r IN EXECUTE q LOOP
        n := n + 1;
        IF n = 1 THEN
            PERFORM set_config('extra_float_digits', '-5', true);
        END IF;
        RETURN NEXT r.s;
    END LOOP;
END $$;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT textin(float8out(f)) AS s FROM sh_fl;
SELECT textin(float8out(f)) AS s FROM sh_fl;
SELECT (sh_delta()).hits > 0 AS hit;
SELECT * FROM sh_loop2('SELECT textin(float8out(f)) AS s FROM sh_fl');
SET cachealot.enabled = off;
SELECT * FROM sh_loop2('SELECT textin(float8out(f)) AS s FROM sh_fl');	-- truth
RESET cachealot.enabled;
SELECT sh_fmt(f) AS s FROM sh_fl;
SELECT sh_fmt(f) AS s FROM sh_fl;
SELECT (sh_delta()).hits > 0 AS hit;
SELECT * FROM sh_loop2('SELECT sh_fmt(f) AS s FROM sh_fl');
SET cachealot.enabled = off;
SELECT * FROM sh_loop2('SELECT sh_fmt(f) AS s FROM sh_fl');	-- truth
RESET cachealot.enabled;

--
-- (h2) catalog DML run inside a statement that only rewrites (REINDEX runs
-- an index expression's function, which moves a function into a schema
-- earlier in the search path) changes what an inlined body resolves to:
-- a prepared statement made before must not store its old meaning for a
-- fresh session.  Found by an adversarial review.
--
CREATE SCHEMA sh_first;
CREATE SCHEMA sh_spare;
CREATE TABLE sh_tt (x int) WITH (autovacuum_enabled = off);
INSERT INTO sh_tt VALUES (1), (2), (3);
CREATE FUNCTION public.sh_g(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE FUNCTION sh_spare.sh_g(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 1000';
CREATE FUNCTION public.sh_f2(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT sh_g($1)';
CREATE FUNCTION sh_move() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('sh.go', true) = 'on' THEN
        UPDATE pg_proc SET pronamespace = 'sh_first'::regnamespace
            WHERE oid = 'sh_spare.sh_g(int)'::regprocedure;
    END IF;
END $$;
CREATE FUNCTION sh_idx(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM sh_move();
    RETURN $1;
END $$;
CREATE TABLE sh_ri (x int);
INSERT INTO sh_ri VALUES (1);
CREATE INDEX ON sh_ri ((sh_idx(x)));
SET search_path = sh_first, public;
PREPARE sh_q AS SELECT sum(sh_f2(x)) FROM sh_tt;
EXECUTE sh_q;					-- 6
SET sh.go = on;
REINDEX TABLE sh_ri;
RESET sh.go;
EXECUTE sh_q;
EXECUTE sh_q;
\c
SET search_path = sh_first, public;
PREPARE sh_q AS SELECT sum(sh_f2(x)) FROM sh_tt;
EXECUTE sh_q;					-- wrong before the fix: served 6
EXECUTE sh_q;
SELECT (sh_delta()).hits > 0 AS hit;
SET cachealot.enabled = off;
EXECUTE sh_q;					-- truth: 6000
RESET cachealot.enabled;
DEALLOCATE sh_q;
RESET search_path;
DROP TABLE sh_ri, sh_tt;
DROP FUNCTION sh_idx(int), sh_move(), public.sh_f2(int), public.sh_g(int);
DROP SCHEMA sh_first, sh_spare CASCADE;

--
-- (h) a superuser's UPDATE of pg_proc changes an inlined function's body
--
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;
SELECT (sh_delta()).hits > 0 AS hit;
UPDATE pg_proc SET prosrc = 'SELECT 2' WHERE proname = 'sh_myfunc';
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;	-- wrong before the fix: plus 1
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;
SELECT (sh_delta()).hits > 0 AS hit;
\c
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;	-- wrong before the fix: plus 1
SET cachealot.enabled = off;
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;	-- truth: plus 2
RESET cachealot.enabled;
-- and in a transaction that rolls back: nothing changes
BEGIN;
UPDATE pg_proc SET prosrc = 'SELECT 3' WHERE proname = 'sh_myfunc';
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;	-- own change: plus 3; wrong before the fix: plus 1
ROLLBACK;
SELECT id, sh_myfunc() + v AS x FROM sh_t ORDER BY id;	-- plus 2; wrong before the fix: plus 1

--
-- (i) COPY FROM and TRUNCATE whose trigger moves the search path: after the
-- statement, the name 't' means sh_s2.t, but sh_s1.t was written
--
SET search_path = sh_s1, public;
SELECT count(*) FROM sh_s1.t;
SELECT count(*) FROM sh_s1.t;
SELECT (sh_delta()).hits > 0 AS hit;
COPY t FROM stdin;
2
3
\.
SHOW search_path;
SET search_path = sh_s1, public;
SELECT count(*) FROM sh_s1.t;	-- wrong before the fix: 1
SELECT count(*) FROM sh_s1.t;
SELECT (sh_delta()).hits > 0 AS hit;
SET cachealot.enabled = off;
SELECT count(*) FROM sh_s1.t;	-- truth: 3
RESET cachealot.enabled;
TRUNCATE t;
SHOW search_path;
SET search_path = sh_s1, public;
SELECT count(*) FROM sh_s1.t;	-- wrong before the fix: an old count
SET cachealot.enabled = off;
SELECT count(*) FROM sh_s1.t;	-- truth: 0
RESET cachealot.enabled;
-- REFRESH runs the query with its own GUC nesting level: the search path
-- change is undone, the name still means sh_s1.mv afterwards
SELECT v, one FROM sh_s1.mv;
SELECT v, one FROM sh_s1.mv;
SELECT (sh_delta()).hits > 0 AS hit;
INSERT INTO sh_s1.src VALUES (2);
REFRESH MATERIALIZED VIEW mv;
SHOW search_path;
SELECT v, one FROM sh_s1.mv ORDER BY v;
SET cachealot.enabled = off;
SELECT v, one FROM sh_s1.mv ORDER BY v;	-- truth
RESET cachealot.enabled;
RESET search_path;

--
-- Clean up
--
DROP TABLE sh_t, sh_fl;
DROP AGGREGATE sh_vagg(int), sh_magg(int), sh_fagg(int), sh_mfagg(int);
DROP SCHEMA sh_s1, sh_s2 CASCADE;
DROP FUNCTION sh_vsf(int8, int), sh_vinv(int8, int), sh_isf(int8, int),
    sh_ifin(int8), sh_vfin(int8), sh_loop(), sh_cursor(), sh_myfunc(),
    sh_fmt(float8), sh_loop2(text),
    sh_move_fn();
DROP SEQUENCE sh_seq;
DROP FUNCTION sh_move_row(), sh_move_stmt(), sh_delta();
