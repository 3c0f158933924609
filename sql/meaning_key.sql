--
-- meaning_key: the same statement text can mean different things, and a
-- cached result may only be served to an execution whose statement
-- resolved to the same objects (DESIGN 3.1, "what the text resolved to").
--
-- Every section first proves the cache served the text (a hit), then
-- sends the same text where it means something else, and compares with
-- the truth (cachealot.enabled = off).  Places marked "wrong before the
-- fix" are where the build without the meaning in its key served the
-- other meaning's rows.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Hits since the last call (then reset)
CREATE FUNCTION mk_hits() RETURNS bigint LANGUAGE plpgsql
SET search_path = public AS $$
DECLARE
    h bigint;
BEGIN
    SELECT hits INTO h FROM cachealot_stats();
    PERFORM cachealot_reset_stats();
    RETURN h;
END
$$;

-- Setup first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE SCHEMA mk_s1;
CREATE SCHEMA mk_s2;
-- (1,5) twice, (5,1) once: f(1,5) counts 2, g(1,5) means c1 = 5, c2 = 1: 1
CREATE TABLE mk_t (id int PRIMARY KEY, c1 int, c2 int)
    WITH (autovacuum_enabled = off);
INSERT INTO mk_t VALUES (1, 1, 5), (2, 1, 5), (3, 5, 1), (4, 3, 3);

-- SQL functions: the same body, parameters in the other order
CREATE FUNCTION mk_f(a int, b int) RETURNS bigint LANGUAGE sql
    AS 'SELECT count(*) FROM mk_t WHERE c1 = a AND c2 = b';
CREATE FUNCTION mk_g(b int, a int) RETURNS bigint LANGUAGE sql
    AS 'SELECT count(*) FROM mk_t WHERE c1 = a AND c2 = b';
-- PL/pgSQL: RETURN (SELECT ...) and SELECT INTO
CREATE FUNCTION mk_pf(a int, b int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM mk_t WHERE c1 = a AND c2 = b);
END $$;
CREATE FUNCTION mk_pg(b int, a int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM mk_t WHERE c1 = a AND c2 = b);
END $$;
CREATE FUNCTION mk_if(a int, b int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM mk_t WHERE c1 = a AND c2 = b;
    RETURN n;
END $$;
CREATE FUNCTION mk_ig(b int, a int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM mk_t WHERE c1 = a AND c2 = b;
    RETURN n;
END $$;
-- the same name in two schemas
CREATE FUNCTION mk_s1.mk_h(a int, b int) RETURNS bigint LANGUAGE sql
    AS 'SELECT count(*) FROM mk_t WHERE c1 = a AND c2 = b';
CREATE FUNCTION mk_s2.mk_h(b int, a int) RETURNS bigint LANGUAGE sql
    AS 'SELECT count(*) FROM mk_t WHERE c1 = a AND c2 = b';
-- parameter types that differ: integer division vs numeric division
CREATE FUNCTION mk_ti(a int) RETURNS bigint LANGUAGE sql
    AS 'SELECT count(*) FROM mk_t WHERE c1 = a / 2';
CREATE FUNCTION mk_tn(a numeric) RETURNS bigint LANGUAGE sql
    AS 'SELECT count(*) FROM mk_t WHERE c1 = a / 2';

-- shadowed by temporary objects (below): a function, an operator, a type
CREATE FUNCTION mk_fn(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + 1';
CREATE FUNCTION mk_plus(int, int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + $2';
CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = mk_plus);
CREATE DOMAIN mk_dd AS int;

-- a plan made before a table earlier in the search path appeared
CREATE TABLE mk_t2 (v int) WITH (autovacuum_enabled = off);
INSERT INTO mk_t2 VALUES (1), (2), (3);
CREATE FUNCTION mk_rq() RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT count(*) FROM mk_t2;
END $$;
-- enum labels, renamed later
CREATE TYPE mk_e AS ENUM ('a', 'b', 'c');
CREATE TABLE mk_te (id int PRIMARY KEY, x mk_e)
    WITH (autovacuum_enabled = off);
INSERT INTO mk_te VALUES (1, 'a'), (2, 'b'), (3, 'b'), (4, 'c');
-- a regclass literal
CREATE TABLE mk_rc (r regclass, n int) WITH (autovacuum_enabled = off);
INSERT INTO mk_rc VALUES ('public.mk_t2', 1), ('public.mk_t2', 2);
-- a SQL function whose first statement changes the search path: all its
-- statements are analysed before the first one runs
CREATE FUNCTION mk_sp() RETURNS bigint LANGUAGE sql AS $$
SELECT set_config('search_path', 'mk_s1, public', false);
SELECT count(*) FROM mk_t2;
$$;
CREATE TABLE mk_s1.mk_t3 (v int) WITH (autovacuum_enabled = off);
INSERT INTO mk_s1.mk_t3 VALUES (1);
CREATE TABLE mk_t3 (v int) WITH (autovacuum_enabled = off);
INSERT INTO mk_t3 VALUES (1), (2), (3), (4);
-- a PL/pgSQL cursor opened under one search path, fetched under another
CREATE FUNCTION mk_cur() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    n bigint;
BEGIN
    OPEN c FOR SELECT count(*) FROM mk_t3;
    PERFORM set_config('search_path', 'mk_s1, public', true);
    FETCH c INTO n;
    CLOSE c;
    RETURN n;
END $$;

SELECT cachealot_reset_stats();

--
-- (a) SQL functions with the same body, parameters in the other order
--
SELECT mk_f(1, 5);
SELECT mk_f(1, 5);
SELECT mk_hits() > 0 AS hit;
SELECT mk_g(1, 5);		-- wrong before the fix: served mk_f's 2
SELECT mk_hits();
SELECT mk_g(1, 5);
SELECT mk_hits() > 0 AS hit;
SELECT mk_f(1, 5);
SET cachealot.enabled = off;
SELECT mk_f(1, 5) AS f_truth, mk_g(1, 5) AS g_truth;
RESET cachealot.enabled;
-- PL/pgSQL, RETURN (SELECT ...)
SELECT mk_pf(1, 5);
SELECT mk_pf(1, 5);
SELECT mk_hits() > 0 AS hit;
SELECT mk_pg(1, 5);		-- wrong before the fix: served mk_pf's 2
SELECT mk_pg(1, 5);
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT mk_pf(1, 5) AS pf_truth, mk_pg(1, 5) AS pg_truth;
RESET cachealot.enabled;
-- PL/pgSQL, SELECT INTO
SELECT mk_if(1, 5);
SELECT mk_if(1, 5);
SELECT mk_hits() > 0 AS hit;
SELECT mk_ig(1, 5);		-- wrong before the fix: served mk_if's 2
SELECT mk_ig(1, 5);
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT mk_if(1, 5) AS if_truth, mk_ig(1, 5) AS ig_truth;
RESET cachealot.enabled;
-- the same name in two schemas
SELECT mk_s1.mk_h(1, 5);
SELECT mk_s1.mk_h(1, 5);
SELECT mk_hits() > 0 AS hit;
SELECT mk_s2.mk_h(1, 5);	-- wrong before the fix: served mk_s1's 2
SELECT mk_s2.mk_h(1, 5);
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT mk_s1.mk_h(1, 5) AS s1_truth, mk_s2.mk_h(1, 5) AS s2_truth;
RESET cachealot.enabled;
-- parameter types that differ (3 / 2 is 1 for int, 1.5 for numeric)
SELECT mk_ti(3);
SELECT mk_ti(3);
SELECT mk_hits() > 0 AS hit;
SELECT mk_tn(3);
SELECT mk_tn(3);
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT mk_ti(3) AS ti_truth, mk_tn(3) AS tn_truth;
RESET cachealot.enabled;

--
-- (b) temporary objects shadowing permanent ones.  Types (here a domain)
-- are found in pg_temp first, unless the search path names it later.
-- Functions and operators are never looked up in pg_temp, even when the
-- search path names it: only the domain can change what the text means.
--
CREATE FUNCTION pg_temp.mk_fn(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + 100';
CREATE FUNCTION pg_temp.mk_times(int, int) RETURNS int IMMUTABLE
    LANGUAGE sql AS 'SELECT $1 * $2';
CREATE OPERATOR pg_temp.### (LEFTARG = int, RIGHTARG = int,
    FUNCTION = pg_temp.mk_times);
CREATE DOMAIN pg_temp.mk_dd AS numeric;
-- functions and operators: the permanent ones, whatever the search path
-- (a check of PostgreSQL's rule, which the cases below rely on)
SET search_path = pg_temp, public;
SELECT id, mk_fn(c1), c1 ### 3 AS op FROM mk_t ORDER BY id;	-- plus 1, plus 3
SELECT id, pg_temp.mk_fn(c1) FROM mk_t ORDER BY id;		-- plus 100
SELECT cachealot_reset_stats();
-- the permanent meaning cached first (pg_temp named after public)
SET search_path = public, pg_temp;
SELECT id, (c1::mk_dd / 2)::text AS half FROM mk_t ORDER BY id;
SELECT id, (c1::mk_dd / 2)::text AS half FROM mk_t ORDER BY id;
SELECT mk_hits() > 0 AS hit;
SET search_path = public;
SELECT id, (c1::mk_dd / 2)::text AS half FROM mk_t ORDER BY id;	-- wrong before the fix: integer division
SELECT id, (c1::mk_dd / 2)::text AS half FROM mk_t ORDER BY id;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT id, (c1::mk_dd / 2)::text AS half FROM mk_t ORDER BY id;	-- truth: numeric
RESET cachealot.enabled;
-- the temporary meaning cached first (pg_temp implicitly first)
SET search_path = public;
SELECT id, (c2::mk_dd / 2)::text AS h2 FROM mk_t ORDER BY id;
SELECT id, (c2::mk_dd / 2)::text AS h2 FROM mk_t ORDER BY id;
SELECT mk_hits() > 0 AS hit;
SET search_path = public, pg_temp;
SELECT id, (c2::mk_dd / 2)::text AS h2 FROM mk_t ORDER BY id;	-- wrong before the fix: numeric division
SELECT id, (c2::mk_dd / 2)::text AS h2 FROM mk_t ORDER BY id;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT id, (c2::mk_dd / 2)::text AS h2 FROM mk_t ORDER BY id;	-- truth: integer
RESET cachealot.enabled;
-- the temporary meaning cached again; a new session has no temporary
-- objects (dropping them at exit goes past every hook)
SET search_path = public;
SELECT id, (c1::mk_dd / 4)::text AS q FROM mk_t ORDER BY id;
SELECT id, (c1::mk_dd / 4)::text AS q FROM mk_t ORDER BY id;
SELECT mk_hits() > 0 AS hit;
\c
SET search_path = public;
SELECT id, (c1::mk_dd / 4)::text AS q FROM mk_t ORDER BY id;	-- wrong before the fix: numeric division
SELECT id, (c1::mk_dd / 4)::text AS q FROM mk_t ORDER BY id;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT id, (c1::mk_dd / 4)::text AS q FROM mk_t ORDER BY id;	-- truth: integer
RESET cachealot.enabled;
RESET search_path;

--
-- (c) a plan made before a table earlier in the search path appeared keeps
-- reading the old one (PostgreSQL does not replan: nothing it depends on
-- changed); what it stores must not be served where the text now means
-- the new table.  With cachealot, every session analyses its saved plans
-- again after a catalog change (catalog_view.c), so here they read the new
-- table, as a fresh statement does; an old-meaning plan of a session whose
-- transaction was open across the change stores under its own query id.
--
SET search_path = mk_s1, public;
PREPARE mk_p AS SELECT count(*) FROM mk_t2;
EXECUTE mk_p;
SELECT * FROM mk_rq();
CREATE TABLE mk_s1.mk_t2 (v int) WITH (autovacuum_enabled = off);
INSERT INTO mk_s1.mk_t2 VALUES (7);
EXECUTE mk_p;			-- analysed again: mk_s1.mk_t2, 1 (plain PostgreSQL: 3)
EXECUTE mk_p;
EXECUTE mk_p;
SELECT * FROM mk_rq();		-- analysed again: 1 (plain PostgreSQL: 3)
SELECT * FROM mk_rq();
SELECT * FROM mk_rq();
SELECT FROM cachealot_reset_stats();
\c
SET search_path = mk_s1, public;
SELECT count(*) FROM mk_t2;	-- wrong before the fix: served mk_rq's 3
SELECT count(*) FROM mk_t2;
SELECT mk_hits() > 0 AS hit;
SELECT * FROM mk_rq();
SELECT * FROM mk_rq();
SELECT mk_hits() > 0 AS hit;
PREPARE mk_p AS SELECT count(*) FROM mk_t2;
EXECUTE mk_p;
EXECUTE mk_p;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT count(*) FROM mk_t2;	-- truth: mk_s1.mk_t2, 1
EXECUTE mk_p;
RESET cachealot.enabled;
DEALLOCATE mk_p;
RESET search_path;

--
-- (d) constants resolved through the catalog: enum labels renamed, a
-- regclass literal that now names another table
--
PREPARE mk_pe AS SELECT count(*) FROM mk_te WHERE x = 'a';
EXECUTE mk_pe;			-- label 'a': 1
SELECT count(*) FROM mk_te WHERE x = 'a';
SELECT count(*) FROM mk_te WHERE x = 'a';
SELECT mk_hits() > 0 AS hit;
ALTER TYPE mk_e RENAME VALUE 'a' TO 'z';
ALTER TYPE mk_e RENAME VALUE 'b' TO 'a';
-- plain PostgreSQL's prepared plan keeps the old label's OID (now called
-- 'z'); with cachealot it is analysed again and reads the new 'a': 2
EXECUTE mk_pe;
EXECUTE mk_pe;
EXECUTE mk_pe;
SELECT FROM cachealot_reset_stats();
\c
SELECT count(*) FROM mk_te WHERE x = 'a';	-- the new 'a' (was 'b'): 2
SELECT count(*) FROM mk_te WHERE x = 'a';
SELECT mk_hits() > 0 AS hit;
PREPARE mk_pe AS SELECT count(*) FROM mk_te WHERE x = 'a';
EXECUTE mk_pe;			-- wrong before the fix: served the old plan's 1
EXECUTE mk_pe;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
EXECUTE mk_pe;			-- truth: 2
SELECT id, x FROM mk_te ORDER BY id;
RESET cachealot.enabled;
DEALLOCATE mk_pe;
-- regclass: 'mk_t2' meant public.mk_t2 (n 1 + 2), now mk_s1.mk_t2 (n 10)
INSERT INTO mk_rc VALUES ('mk_s1.mk_t2', 10);
SET search_path = public;
SELECT sum(n) FROM mk_rc WHERE r = 'mk_t2'::regclass;
SELECT sum(n) FROM mk_rc WHERE r = 'mk_t2'::regclass;
SELECT mk_hits() > 0 AS hit;
SET search_path = mk_s1, public;
SELECT sum(n) FROM mk_rc WHERE r = 'mk_t2'::regclass;
SELECT sum(n) FROM mk_rc WHERE r = 'mk_t2'::regclass;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT sum(n) FROM mk_rc WHERE r = 'mk_t2'::regclass;	-- truth: 10
RESET cachealot.enabled;
RESET search_path;

--
-- (e) analysed under one search path, run under another: the statements of
-- a SQL function are all analysed before the first one runs, so the second
-- statement of mk_sp() reads public.mk_t2 (3 rows) while the search path
-- is already mk_s1, public
--
SET search_path = public;
SELECT mk_sp();
SHOW search_path;
SELECT FROM cachealot_reset_stats();
\c
SET search_path = mk_s1, public;
SELECT count(*) FROM mk_t2;	-- wrong before the fix: served mk_sp()'s 3
SELECT count(*) FROM mk_t2;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT count(*) FROM mk_t2;	-- truth: 1
RESET cachealot.enabled;
RESET search_path;
-- a PL/pgSQL cursor: the portal starts at OPEN under the old search path
-- (public.mk_t3, 4 rows) and is fetched under the new one
SET search_path = public;
SELECT mk_cur();
SELECT mk_cur();
SELECT mk_hits() > 0 AS hit;
SET search_path = public;
SELECT count(*) FROM mk_t3;
SET search_path = mk_s1, public;
SELECT count(*) FROM mk_t3;
SELECT count(*) FROM mk_t3;
SELECT mk_hits() > 0 AS hit;
SET cachealot.enabled = off;
SELECT count(*) FROM mk_t3;	-- truth: 1
SET search_path = public;
SELECT mk_cur();		-- truth: 4
RESET cachealot.enabled;
RESET search_path;

--
-- Clean up
--
DROP TABLE mk_t, mk_t2, mk_s1.mk_t2, mk_te, mk_rc, mk_t3, mk_s1.mk_t3;
DROP FUNCTION mk_f(int, int), mk_g(int, int), mk_pf(int, int),
    mk_pg(int, int), mk_if(int, int), mk_ig(int, int), mk_ti(int),
    mk_tn(numeric), mk_fn(int), mk_rq(), mk_sp(), mk_cur();
DROP OPERATOR ### (int, int);
DROP FUNCTION mk_plus(int, int);
DROP DOMAIN mk_dd;
DROP TYPE mk_e;
DROP SCHEMA mk_s1, mk_s2 CASCADE;
DROP FUNCTION mk_hits();
