--
-- controls: steering the cache per statement (the cachealot(off) hint) and
-- per role and database (ALTER ROLE/DATABASE ... SET cachealot.enabled).
-- Each case checks the counters: what bypasses, and controls that hit.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;

-- Counters since the last call, then reset.  Calling it costs two bypasses
-- of its own (the calling SELECT and the SELECT inside), not counted here.
CREATE FUNCTION ctl_delta(OUT hits bigint, OUT misses bigint, OUT stores bigint,
                          OUT bypasses bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.hits, s.misses, s.stores, s.bypasses - 2
      INTO hits, misses, stores, bypasses
      FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

CREATE TABLE ctl_t (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO ctl_t SELECT g, 'v' || g FROM generate_series(1, 10) g;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- control: without a hint, the second run hits
SELECT v FROM ctl_t WHERE id = 1;
SELECT v FROM ctl_t WHERE id = 1;
SELECT * FROM ctl_delta();

-- the hint bypasses, every time, and stores nothing
/*+ cachealot(off) */ SELECT v FROM ctl_t WHERE id = 2;
/*+ cachealot(off) */ SELECT v FROM ctl_t WHERE id = 2;
SELECT * FROM ctl_delta();
-- what it did not store, the plain statement misses (then hits)
SELECT v FROM ctl_t WHERE id = 2;
SELECT v FROM ctl_t WHERE id = 2;
SELECT * FROM ctl_delta();

-- case, blanks, other hint words, several leading comments, line comments
/*+CACHEALOT ( Off )*/ SELECT v FROM ctl_t WHERE id = 3;
/*+ IndexScan(ctl_t) cachealot(off) Leading(ctl_t) */ SELECT v FROM ctl_t WHERE id = 3;
/* a plain comment */ /*+ cachealot(off) */ SELECT v FROM ctl_t WHERE id = 3;
-- a line comment first
/*+ cachealot(off) */ SELECT v FROM ctl_t WHERE id = 3;
/*+ cachealot(off) /* nested */ */ SELECT v FROM ctl_t WHERE id = 3;
SELECT * FROM ctl_delta();

-- right after the first word, it counts too (where a leading comment
-- does not survive: PREPARE ... AS, PL/pgSQL)
SELECT /*+ cachealot(off) */ v FROM ctl_t WHERE id = 3;
SELECT * FROM ctl_delta();

-- not a hint: no '+', an unknown argument, an unknown word, a word that
-- only ends in cachealot, the hint after the second word, or inside a
-- string constant.  Each runs twice: a miss, then a hit.
/* cachealot(off) */ SELECT v FROM ctl_t WHERE id = 4;
/* cachealot(off) */ SELECT v FROM ctl_t WHERE id = 4;
/*+ cachealot(on) */ SELECT v FROM ctl_t WHERE id = 5;
/*+ cachealot(on) */ SELECT v FROM ctl_t WHERE id = 5;
/*+ nocache */ SELECT v FROM ctl_t WHERE id = 6;
/*+ nocache */ SELECT v FROM ctl_t WHERE id = 6;
/*+ mycachealot(off) */ SELECT v FROM ctl_t WHERE id = 7;
/*+ mycachealot(off) */ SELECT v FROM ctl_t WHERE id = 7;
SELECT v /*+ cachealot(off) */ FROM ctl_t WHERE id = 8;
SELECT v /*+ cachealot(off) */ FROM ctl_t WHERE id = 8;
SELECT v, '/*+ cachealot(off) */' AS s FROM ctl_t WHERE id = 9;
SELECT v, '/*+ cachealot(off) */' AS s FROM ctl_t WHERE id = 9;
SELECT * FROM ctl_delta();

-- in a prepared statement and in a PL/pgSQL function, after the first word
PREPARE ctl_p(int) AS SELECT /*+ cachealot(off) */ v FROM ctl_t WHERE id = $1;
EXECUTE ctl_p(10);
EXECUTE ctl_p(10);
SELECT * FROM ctl_delta();
CREATE FUNCTION ctl_f(k int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SELECT /*+ cachealot(off) */ v INTO r FROM ctl_t WHERE id = k;
    RETURN r;
END
$$;
SELECT ctl_f(10);
SELECT ctl_f(10);
SELECT * FROM ctl_delta();

-- per role: ALTER ROLE ... SET cachealot.enabled = off applies at login
\set regress_user :USER
CREATE ROLE regress_ctl_role LOGIN;
GRANT SELECT ON ctl_t TO regress_ctl_role;
ALTER ROLE regress_ctl_role SET cachealot.enabled = off;
\c - regress_ctl_role
SHOW cachealot.enabled;
SELECT v FROM ctl_t WHERE id = 1;
SELECT v FROM ctl_t WHERE id = 1;
SELECT hits, misses, stores FROM cachealot_stats();
\c - :regress_user
SELECT * FROM ctl_delta();
-- the same statement in a session of a role without the setting caches
-- (a miss: the role's DDL made the database's entries unreachable)
SELECT v FROM ctl_t WHERE id = 1;
SELECT v FROM ctl_t WHERE id = 1;
SELECT * FROM ctl_delta();

-- per database: ALTER DATABASE ... SET cachealot.enabled = off
\set regress_db :DBNAME
CREATE DATABASE regress_ctl_db;
ALTER DATABASE regress_ctl_db SET cachealot.enabled = off;
\c regress_ctl_db
SHOW cachealot.enabled;
CREATE EXTENSION cachealot;
CREATE TABLE ctl_d (id int PRIMARY KEY);
INSERT INTO ctl_d VALUES (1);
SELECT cachealot_reset_stats();
SELECT id FROM ctl_d WHERE id = 1;
SELECT id FROM ctl_d WHERE id = 1;
SELECT hits, misses, stores FROM cachealot_stats();
-- a session that turns it on again caches
SET cachealot.enabled = on;
SELECT id FROM ctl_d WHERE id = 1;
SELECT id FROM ctl_d WHERE id = 1;
SELECT hits, misses, stores FROM cachealot_stats();
\c :regress_db
DROP DATABASE regress_ctl_db;
REVOKE ALL ON ctl_t FROM regress_ctl_role;
DROP ROLE regress_ctl_role;
DROP FUNCTION ctl_f(int);
DROP TABLE ctl_t;
DROP FUNCTION ctl_delta();
