--
-- key: two executions share a cache entry only when they are the same query
-- with the same inputs (DESIGN 3.1).  Every claimed hit is asserted through
-- cachealot_stats(), every claimed difference by the rows themselves.
--
-- Counters are read right after cachealot_reset_stats(); the SELECT that
-- reads cachealot_stats() is itself a bypass (it reads no table), so every
-- "bypasses" value below includes that one.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Setup first: catalog changes make every entry unreachable at commit, and
-- the transaction that makes them bypasses the cache.
CREATE ROLE regress_cachealot_key_reader;
CREATE ROLE regress_cachealot_key_other;
CREATE ROLE regress_cachealot_key_member IN ROLE regress_cachealot_key_reader;
CREATE TABLE key_t (id int PRIMARY KEY, val text)
  WITH (autovacuum_enabled = off);
INSERT INTO key_t SELECT g, 'v' || g FROM generate_series(1, 10) g;
GRANT SELECT ON key_t TO regress_cachealot_key_reader;

CREATE SCHEMA key_a;
CREATE SCHEMA key_b;
CREATE TABLE key_a.items (id int, name text) WITH (autovacuum_enabled = off);
CREATE TABLE key_b.items (id int, name text) WITH (autovacuum_enabled = off);
INSERT INTO key_a.items VALUES (1, 'a-one'), (2, 'a-two');
INSERT INTO key_b.items VALUES (1, 'b-one');

CREATE TABLE key_shadow (id int) WITH (autovacuum_enabled = off);
INSERT INTO key_shadow VALUES (1), (2);

CREATE TABLE key_num (x numeric) WITH (autovacuum_enabled = off);
INSERT INTO key_num VALUES (1.23456), (2.5);

-- 12:00 in UTC is 12:00Z, in America/New_York it is 17:00Z: 1 row vs 3 rows
CREATE TABLE key_ev (ts timestamptz) WITH (autovacuum_enabled = off);
INSERT INTO key_ev VALUES
  ('2024-01-01 10:00+00'), ('2024-01-01 14:00+00'),
  ('2024-01-01 16:00+00'), ('2024-01-01 18:00+00'),
  ('3000-01-01 00:00+00');
-- one row a little in the future: it falls behind the current time later on
CREATE TABLE key_clock (ts timestamptz) WITH (autovacuum_enabled = off);
INSERT INTO key_clock VALUES (clock_timestamp() + interval '1 second');

CREATE TABLE key_days (d date) WITH (autovacuum_enabled = off);
INSERT INTO key_days VALUES ('2024-01-01'), ('2024-01-15'), ('2024-03-01');

CREATE TABLE key_iv (iv interval) WITH (autovacuum_enabled = off);
INSERT INTO key_iv VALUES (interval '-24 hours');

CREATE TABLE key_floats (f float8) WITH (autovacuum_enabled = off);
INSERT INTO key_floats VALUES (0.1), (1.0 / 3);

CREATE TABLE key_bin (b bytea) WITH (autovacuum_enabled = off);
INSERT INTO key_bin VALUES ('\x0102'::bytea);

CREATE TABLE key_nulls (x int) WITH (autovacuum_enabled = off);
INSERT INTO key_nulls VALUES (1), (NULL);

-- functions whose queries take their inputs as parameters
CREATE FUNCTION key_rq(p int) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT val FROM key_t WHERE id = p;
END $$;
CREATE FUNCTION key_for(p int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  q int := p + 1;
  acc text := '';
BEGIN
  FOR r IN SELECT val FROM key_t WHERE id IN (p, q) ORDER BY id LOOP
    acc := acc || r.val || ',';
  END LOOP;
  RETURN acc;
END $$;
-- SECURITY DEFINER: never inlined, the body runs with $1 bound
CREATE FUNCTION key_sqlf(int) RETURNS SETOF text LANGUAGE sql STABLE
  SECURITY DEFINER AS 'SELECT val FROM key_t WHERE id = $1';

CREATE FUNCTION key_fa() RETURNS SETOF int LANGUAGE sql IMMUTABLE
BEGIN ATOMIC SELECT id FROM key_t WHERE id < 3 ORDER BY id; END;
CREATE FUNCTION key_fb() RETURNS SETOF int LANGUAGE sql IMMUTABLE
BEGIN ATOMIC SELECT id FROM key_t WHERE id < 5 ORDER BY id; END;

--
-- Constants in the text: WHERE id = 1 vs WHERE id = 2 (same query id)
--
SELECT cachealot_reset_stats();
SELECT val FROM key_t WHERE id = 1;
SELECT val FROM key_t WHERE id = 2;
SELECT val FROM key_t WHERE id = 1;
SELECT val FROM key_t WHERE id = 2;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();

--
-- Prepared statement, different parameters
--
PREPARE key_q(int) AS SELECT val FROM key_t WHERE id = $1;
SELECT cachealot_reset_stats();
EXECUTE key_q(3);
EXECUTE key_q(4);
EXECUTE key_q(3);
EXECUTE key_q(4);
EXECUTE key_q(5);
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
-- a text parameter, compared by value
PREPARE key_q2(text) AS SELECT id FROM key_t WHERE val = $1;
SELECT cachealot_reset_stats();
EXECUTE key_q2('v7');
EXECUTE key_q2('v8');
EXECUTE key_q2('v7');
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
DEALLOCATE key_q;
DEALLOCATE key_q2;

--
-- Parameters of queries inside functions: PL/pgSQL RETURN QUERY and FOR
-- (fetched lazily through paramFetch) and a SQL function's $1.  The calls
-- themselves are bypasses; the queries inside are cached per value.
--
SELECT cachealot_reset_stats();
SELECT * FROM key_rq(1);
SELECT * FROM key_rq(2);
SELECT * FROM key_rq(1);
SELECT * FROM key_rq(2);
SELECT hits, misses, stores FROM cachealot_stats();
SELECT cachealot_reset_stats();
SELECT key_for(1);
SELECT key_for(2);
SELECT key_for(1);
SELECT key_for(2);
SELECT hits, misses, stores FROM cachealot_stats();
SELECT cachealot_reset_stats();
SELECT * FROM key_sqlf(3);
SELECT * FROM key_sqlf(4);
SELECT * FROM key_sqlf(3);
SELECT * FROM key_sqlf(4);
SELECT hits, misses, stores FROM cachealot_stats();

--
-- Several statements in one query string: each its own slice of the text
--
SELECT val FROM key_t WHERE id = 1 \; SELECT val FROM key_t WHERE id = 2 \; SELECT val FROM key_t WHERE id = 1;
SELECT val FROM key_t WHERE id = 2 \; SELECT val FROM key_t WHERE id = 3;

--
-- Same text, two search paths
--
SELECT cachealot_reset_stats();
SET search_path = key_a;
SELECT id, name FROM items ORDER BY id;
SELECT id, name FROM items ORDER BY id;
SET search_path = key_b;
SELECT id, name FROM items ORDER BY id;
SELECT id, name FROM items ORDER BY id;
SET search_path = key_a;
SELECT id, name FROM items ORDER BY id;
RESET search_path;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();

--
-- result column typmod: numeric(10,2) vs numeric(12,4)
--
SELECT cachealot_reset_stats();
SELECT x::numeric(10,2) AS x FROM key_num ORDER BY x;
SELECT x::numeric(12,4) AS x FROM key_num ORDER BY x;
SELECT x::numeric(10,2) AS x FROM key_num ORDER BY x;
SELECT x::numeric(12,4) AS x FROM key_num ORDER BY x;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();

--
-- A timestamptz literal is read in the session's TimeZone
--
SET TimeZone = 'UTC';
SELECT cachealot_reset_stats();
SELECT count(*) FROM key_ev WHERE ts < '2024-01-01 12:00';
SELECT count(*) FROM key_ev WHERE ts < '2024-01-01 12:00';
SET TimeZone = 'America/New_York';
SELECT count(*) FROM key_ev WHERE ts < '2024-01-01 12:00';
SELECT count(*) FROM key_ev WHERE ts < '2024-01-01 12:00';
SET TimeZone = 'UTC';
SELECT count(*) FROM key_ev WHERE ts < '2024-01-01 12:00';
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET TimeZone;

--
-- A date literal is read in the session's DateStyle order:
-- 01/02/2024 is January 2nd (MDY) or February 1st (DMY)
--
SET DateStyle = 'ISO, MDY';
SELECT cachealot_reset_stats();
SELECT count(*) FROM key_days WHERE d < '01/02/2024';
SET DateStyle = 'ISO, DMY';
SELECT count(*) FROM key_days WHERE d < '01/02/2024';
SELECT count(*) FROM key_days WHERE d < '01/02/2024';
SET DateStyle = 'ISO, MDY';
SELECT count(*) FROM key_days WHERE d < '01/02/2024';
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET DateStyle;

--
-- An interval literal is read in the session's IntervalStyle:
-- '-1 2:00:00' is -22 hours (postgres) or -26 hours (sql_standard)
--
SET IntervalStyle = 'postgres';
SELECT cachealot_reset_stats();
SELECT count(*) FROM key_iv WHERE iv < '-1 2:00:00';
SET IntervalStyle = 'sql_standard';
SELECT count(*) FROM key_iv WHERE iv < '-1 2:00:00';
SET IntervalStyle = 'postgres';
SELECT count(*) FROM key_iv WHERE iv < '-1 2:00:00';
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET IntervalStyle;

--
-- transform_null_equals rewrites x = NULL at parse time
--
SET transform_null_equals = off;
SELECT cachealot_reset_stats();
SELECT count(*) FROM key_nulls WHERE x = NULL;
SET transform_null_equals = on;
SELECT count(*) FROM key_nulls WHERE x = NULL;
SET transform_null_equals = off;
SELECT count(*) FROM key_nulls WHERE x = NULL;
SELECT hits, misses, stores FROM cachealot_stats();
RESET transform_null_equals;

--
-- array_nulls decides what NULL means in an array literal
--
SET array_nulls = on;
SELECT cachealot_reset_stats();
SELECT ('{a,NULL}'::text[])[2] IS NULL AS is_null FROM key_t WHERE id = 1;
SET array_nulls = off;
SELECT ('{a,NULL}'::text[])[2] IS NULL AS is_null FROM key_t WHERE id = 1;
SET array_nulls = on;
SELECT ('{a,NULL}'::text[])[2] IS NULL AS is_null FROM key_t WHERE id = 1;
SELECT hits, misses, stores FROM cachealot_stats();
RESET array_nulls;

--
-- quote_ident() (immutable) follows quote_all_identifiers
--
SET quote_all_identifiers = off;
SELECT cachealot_reset_stats();
SELECT quote_ident(val) FROM key_t WHERE id = 1;
SET quote_all_identifiers = on;
SELECT quote_ident(val) FROM key_t WHERE id = 1;
SET quote_all_identifiers = off;
SELECT quote_ident(val) FROM key_t WHERE id = 1;
SELECT hits, misses, stores FROM cachealot_stats();
RESET quote_all_identifiers;

--
-- float8out (immutable) formats by extra_float_digits
--
SET extra_float_digits = 0;
SELECT cachealot_reset_stats();
SELECT f::text AS f FROM key_floats ORDER BY f;
SET extra_float_digits = 1;
SELECT f::text AS f FROM key_floats ORDER BY f;
SET extra_float_digits = 0;
SELECT f::text AS f FROM key_floats ORDER BY f;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET extra_float_digits;

--
-- byteaout (immutable) formats by bytea_output
--
SET bytea_output = 'hex';
SELECT cachealot_reset_stats();
SELECT b::text AS b FROM key_bin;
SET bytea_output = 'escape';
SELECT b::text AS b FROM key_bin;
SET bytea_output = 'hex';
SELECT b::text AS b FROM key_bin;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET bytea_output;

--
-- 'now' is frozen when the text is parsed: never cached
--
SELECT cachealot_reset_stats();
SELECT count(*) FROM key_ev WHERE ts < 'now';
SELECT count(*) FROM key_ev WHERE ts < 'now';
SELECT count(*) FROM key_ev WHERE ts < 'NOW'::timestamptz;
SELECT count(*) FROM key_ev WHERE ts < 'NOW'::timestamptz;
SELECT count(*) FROM key_days WHERE d < 'today';
SELECT count(*) FROM key_days WHERE d < 'today';
SELECT hits, misses, stores, bypasses FROM cachealot_stats();

-- The same special values spelled without the word in the text: a string
-- continued on the next line, and a Unicode-escaped literal.  They are
-- just as frozen, so they must not be cached either.
SELECT cachealot_reset_stats();
SELECT count(*) FROM key_ev WHERE ts < 'no'
'w';
SELECT count(*) FROM key_ev WHERE ts < 'no'
'w';
SELECT count(*) FROM key_ev WHERE ts < U&'!006Eow' UESCAPE '!';
SELECT count(*) FROM key_ev WHERE ts < U&'!006Eow' UESCAPE '!';
SELECT hits, misses, stores FROM cachealot_stats();
-- and the stale value that caching them returns: key_clock's only row was
-- about one second in the future when inserted; after a pause it is in the
-- past, so the second run of the very same text must count 1 (a result
-- cached by the first run would still say 0)
SELECT count(*) AS clock_count FROM key_clock WHERE ts < 'no'
'w' \gset
SELECT count(*) AS clock_count_u FROM key_clock WHERE ts < U&'!006Eow' UESCAPE '!' \gset
SELECT pg_sleep(1.2);
SELECT count(*) AS clock_count FROM key_clock WHERE ts < 'no'
'w' \gset
SELECT count(*) AS clock_count_u FROM key_clock WHERE ts < U&'!006Eow' UESCAPE '!' \gset
SELECT :clock_count AS after_pause, :clock_count_u AS after_pause_u;

--
-- A temporary table shadowing a permanent one (temp tables never cached)
--
SELECT cachealot_reset_stats();
SELECT id FROM key_shadow ORDER BY id;
SELECT id FROM key_shadow ORDER BY id;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
CREATE TEMP TABLE key_shadow (id int);
INSERT INTO key_shadow VALUES (100);
SELECT cachealot_reset_stats();
-- pg_temp is searched first: the temporary table
SELECT id FROM key_shadow ORDER BY id;
SELECT id FROM key_shadow ORDER BY id;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
-- pg_temp searched last: the permanent table again, cached again
SET search_path = public, pg_temp;
SELECT cachealot_reset_stats();
SELECT id FROM key_shadow ORDER BY id;
SELECT id FROM key_shadow ORDER BY id;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
-- and back to the temporary table
SET search_path = pg_temp, public;
SELECT cachealot_reset_stats();
SELECT id FROM key_shadow ORDER BY id;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET search_path;
DROP TABLE pg_temp.key_shadow;
SELECT id FROM key_shadow ORDER BY id;

--
-- Two BEGIN ATOMIC functions differing only in a constant
--
SELECT cachealot_reset_stats();
SELECT * FROM key_fa();
SELECT * FROM key_fb();
SELECT * FROM key_fa();
SELECT * FROM key_fb();
-- the outer queries are cacheable (the bodies are inlined): 2 misses, 2 hits
SELECT hits, misses, stores FROM cachealot_stats();
-- called where they are not inlined, the bodies run on their own
SELECT key_fa() AS fa;
SELECT key_fb() AS fb;
SELECT key_fa() AS fa;
SELECT key_fb() AS fb;
SELECT * FROM key_fa() WITH ORDINALITY AS o(id, n);
SELECT * FROM key_fb() WITH ORDINALITY AS o(id, n);
SELECT * FROM key_fa() WITH ORDINALITY AS o(id, n);
SELECT * FROM key_fb() WITH ORDINALITY AS o(id, n);

--
-- Privileges are checked on every execution, hit or miss
--
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_key_reader;
SELECT val FROM key_t WHERE id = 6;
SELECT val FROM key_t WHERE id = 6;
SELECT hits, misses, stores FROM cachealot_stats();
RESET ROLE;
-- a role without the privilege never gets the cached rows
SET ROLE regress_cachealot_key_other;
SELECT val FROM key_t WHERE id = 6;
RESET ROLE;
-- a prepared statement, cached as the reader
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_key_reader;
PREPARE key_priv AS SELECT val FROM key_t WHERE id = 7;
EXECUTE key_priv;
EXECUTE key_priv;
SELECT hits, misses, stores FROM cachealot_stats();
RESET ROLE;
REVOKE SELECT ON key_t FROM regress_cachealot_key_reader;
SET ROLE regress_cachealot_key_reader;
SELECT val FROM key_t WHERE id = 6;
EXECUTE key_priv;
RESET ROLE;
-- the rows are still there for those allowed to read them
SELECT val FROM key_t WHERE id = 6;
SELECT val FROM key_t WHERE id = 6;
-- granted again: readable again
GRANT SELECT ON key_t TO regress_cachealot_key_reader;
SET ROLE regress_cachealot_key_reader;
SELECT val FROM key_t WHERE id = 6;
EXECUTE key_priv;
RESET ROLE;
DEALLOCATE key_priv;
-- privileges held through role membership
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_key_member;
SELECT val FROM key_t WHERE id = 5;
SELECT val FROM key_t WHERE id = 5;
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();
REVOKE regress_cachealot_key_reader FROM regress_cachealot_key_member;
SET ROLE regress_cachealot_key_member;
SELECT val FROM key_t WHERE id = 5;
RESET ROLE;

--
-- cachealot.enabled = off: no hits and no stores, results still right,
-- writes still invalidate
--
SELECT cachealot_reset_stats();
SELECT val FROM key_t WHERE id = 8;
SELECT val FROM key_t WHERE id = 8;
SELECT hits, misses, stores FROM cachealot_stats();
SET cachealot.enabled = off;
SELECT cachealot_reset_stats();
SELECT val FROM key_t WHERE id = 8;
SELECT val FROM key_t WHERE id = 9;
SELECT val FROM key_t WHERE id = 9;
UPDATE key_t SET val = 'v8-changed' WHERE id = 8;
SELECT val FROM key_t WHERE id = 8;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();
RESET cachealot.enabled;
-- the update made while off invalidated the entry stored before
SELECT cachealot_reset_stats();
SELECT val FROM key_t WHERE id = 8;
SELECT val FROM key_t WHERE id = 8;
SELECT hits, misses, stores FROM cachealot_stats();
-- SET LOCAL lasts until the end of the transaction only
BEGIN;
SET LOCAL cachealot.enabled = off;
SELECT cachealot_reset_stats();
SELECT val FROM key_t WHERE id = 8;
SELECT hits, misses, stores FROM cachealot_stats();
COMMIT;
SHOW cachealot.enabled;
SELECT cachealot_reset_stats();
SELECT val FROM key_t WHERE id = 8;
SELECT hits, misses, stores FROM cachealot_stats();

--
-- Clean up
--
DROP FUNCTION key_rq(int);
DROP FUNCTION key_for(int);
DROP FUNCTION key_sqlf(int);
DROP FUNCTION key_fa();
DROP FUNCTION key_fb();
DROP TABLE key_t, key_shadow, key_num, key_ev, key_clock, key_days, key_iv,
  key_floats, key_bin, key_nulls;
DROP SCHEMA key_a CASCADE;
DROP SCHEMA key_b CASCADE;
DROP ROLE regress_cachealot_key_reader;
DROP ROLE regress_cachealot_key_other;
DROP ROLE regress_cachealot_key_member;
