--
-- table_lists: cachealot.exclude_tables and cachealot.include_tables.
-- Each case checks the counters: what bypasses, and controls that hit.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;

-- Counters since the last call, then reset.  Calling it costs two bypasses
-- of its own (the calling SELECT and the SELECT inside), not counted here.
CREATE FUNCTION tl_delta(OUT hits bigint, OUT misses bigint, OUT stores bigint,
                         OUT bypasses bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.hits, s.misses, s.stores, s.bypasses - 2
      INTO hits, misses, stores, bypasses
      FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

CREATE SCHEMA tl_s;
CREATE TABLE tl_a (id int PRIMARY KEY, v int);
CREATE TABLE tl_b (id int PRIMARY KEY, v int);
CREATE TABLE tl_s."Mixed Case" (id int PRIMARY KEY, v int);
CREATE TABLE tl_p (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE tl_p1 PARTITION OF tl_p FOR VALUES FROM (0) TO (100);
CREATE VIEW tl_v AS SELECT id, v FROM tl_a;
INSERT INTO tl_a VALUES (1, 10);
INSERT INTO tl_b VALUES (1, 20);
INSERT INTO tl_s."Mixed Case" VALUES (1, 30);
INSERT INTO tl_p VALUES (1, 40);
SELECT cachealot_reset_stats();

-- malformed lists are rejected with the usual error
SET cachealot.exclude_tables = 'tl_a,,tl_b';
SET cachealot.exclude_tables = '"unterminated';
SET cachealot.include_tables = 'a.b.c.d';
SHOW cachealot.exclude_tables;

-- exclude: results reading tl_a (directly or through a view) bypass, with
-- or without a schema; others still hit
SET cachealot.exclude_tables = 'public.tl_a, tl_s."Mixed Case"';
SELECT v FROM tl_a WHERE id = 1;
SELECT v FROM tl_a WHERE id = 1;
SELECT v FROM tl_v WHERE id = 1;
SELECT a.v, b.v FROM tl_a a JOIN tl_b b USING (id);
SELECT v FROM tl_s."Mixed Case" WHERE id = 1;
SELECT * FROM tl_delta();
SELECT v FROM tl_b WHERE id = 1;
SELECT v FROM tl_b WHERE id = 1;
SELECT * FROM tl_delta();

-- the reason, for whoever asks
SET client_min_messages = debug2;
SELECT v FROM tl_a WHERE id = 1;
RESET client_min_messages;
SELECT * FROM tl_delta();

-- a partition is excluded with its parent
SET cachealot.exclude_tables = 'tl_p';
SELECT v FROM tl_p WHERE id = 1;
SELECT v FROM tl_p1 WHERE id = 1;
SELECT * FROM tl_delta();

-- a name that does not resolve is ignored, with a warning once
SET cachealot.exclude_tables = 'tl_missing, tl_a';
SELECT v FROM tl_b WHERE id = 1;
SELECT v FROM tl_a WHERE id = 1;
SELECT * FROM tl_delta();

-- names, not OIDs: a renamed table leaves the list, a new one of the name
-- joins it
SET cachealot.exclude_tables = 'tl_b';
SELECT v FROM tl_b WHERE id = 1;
ALTER TABLE tl_b RENAME TO tl_b_old;
SELECT v FROM tl_b_old WHERE id = 1;
SELECT v FROM tl_b_old WHERE id = 1;
SELECT * FROM tl_delta();
CREATE TABLE tl_b (id int PRIMARY KEY, v int);
INSERT INTO tl_b VALUES (1, 21);
SELECT v FROM tl_b WHERE id = 1;
SELECT * FROM tl_delta();
RESET cachealot.exclude_tables;

-- include: only results all of whose tables are listed are cached
SET cachealot.include_tables = 'tl_a, tl_p';
SELECT v FROM tl_a WHERE id = 1;
SELECT v FROM tl_a WHERE id = 1;
SELECT v FROM tl_v WHERE id = 1;
SELECT v FROM tl_v WHERE id = 1;
SELECT v FROM tl_p1 WHERE id = 1;
SELECT v FROM tl_p1 WHERE id = 1;
SELECT * FROM tl_delta();
SELECT v FROM tl_b WHERE id = 1;
SELECT a.v, b.v FROM tl_a a JOIN tl_b b USING (id);
SELECT * FROM tl_delta();
-- an include list whose names all fail to resolve caches nothing
SET cachealot.include_tables = 'tl_missing';
SELECT v FROM tl_a WHERE id = 1;
SELECT * FROM tl_delta();
RESET cachealot.include_tables;

-- only superusers may set them
CREATE ROLE regress_tl_user;
SET ROLE regress_tl_user;
SET cachealot.exclude_tables = 'tl_a';
RESET ROLE;
DROP ROLE regress_tl_user;

DROP VIEW tl_v;
DROP TABLE tl_a, tl_b, tl_b_old, tl_p, tl_s."Mixed Case";
DROP SCHEMA tl_s;
DROP FUNCTION tl_delta();
