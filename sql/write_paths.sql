--
-- write_paths: writes that do not pass through the executor (COPY FROM,
-- TRUNCATE, REFRESH MATERIALIZED VIEW, CLUSTER, VACUUM FULL, ALTER TABLE,
-- DROP and re-CREATE, renames) must make the cached results of what they
-- changed unreachable when they commit (DESIGN 3.5).  Broader invalidation
-- is allowed, so nothing here asserts that other tables keep their entries.
--
-- Pattern of each case: cache the query and prove it hits; run the write in
-- a transaction and check that the writer sees its own change; COMMIT and
-- check that the query returns the new rows, and that a repeat is served
-- from the cache with the same rows.  Where the statement can run in a
-- transaction block, a ROLLBACK of it first leaves the old rows.
--
-- Large objects and sequences are never cached.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Was anything served from the cache since the last call?  Then reset.
CREATE FUNCTION wp_hit() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    h bigint;
BEGIN
    SELECT hits INTO h FROM cachealot_stats();
    PERFORM cachealot_reset_stats();
    RETURN h > 0;
END
$$;

-- Hits and misses since the last call, then reset (both zero: bypassed).
CREATE FUNCTION wp_delta(OUT hits bigint, OUT misses bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.hits, s.misses INTO hits, misses FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- All setup first: catalog changes make the whole database's entries
-- unreachable at commit.  Autovacuum stays off the tables (a concurrent
-- transaction finishing would make a read bypass the cache).
CREATE TABLE wp_copy (id int PRIMARY KEY, note text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_copy VALUES (1, 'one'), (2, 'two');
CREATE TABLE wp_frz (id int PRIMARY KEY, note text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_frz VALUES (1, 'old');
-- triggers that read their own table through a cacheable query
CREATE TABLE wp_trg (id int PRIMARY KEY) WITH (autovacuum_enabled = off);
INSERT INTO wp_trg VALUES (1);
CREATE FUNCTION wp_trg_count() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n bigint;
BEGIN
    FOR r IN SELECT count(*) AS c FROM wp_trg LOOP
        n := r.c;
    END LOOP;
    RETURN n;
END
$$;
CREATE FUNCTION wp_trg_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE '% on wp_trg: % rows', TG_OP, wp_trg_count();
    RETURN NULL;
END
$$;
CREATE TRIGGER wp_trg_ins AFTER INSERT ON wp_trg
    FOR EACH ROW EXECUTE FUNCTION wp_trg_notice();
CREATE TRIGGER wp_trg_trunc AFTER TRUNCATE ON wp_trg
    FOR EACH STATEMENT EXECUTE FUNCTION wp_trg_notice();
CREATE TABLE wp_trunc (id int PRIMARY KEY) WITH (autovacuum_enabled = off);
INSERT INTO wp_trunc VALUES (1), (2), (3);
-- wp_fkp <- wp_fkc <- wp_fkg (foreign keys: TRUNCATE wp_fkp CASCADE)
CREATE TABLE wp_fkp (id int PRIMARY KEY) WITH (autovacuum_enabled = off);
CREATE TABLE wp_fkc (id int PRIMARY KEY, pid int NOT NULL REFERENCES wp_fkp)
    WITH (autovacuum_enabled = off);
CREATE TABLE wp_fkg (id int PRIMARY KEY, cid int NOT NULL REFERENCES wp_fkc)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_fkp VALUES (1), (2);
INSERT INTO wp_fkc VALUES (10, 1), (20, 2);
INSERT INTO wp_fkg VALUES (100, 10), (200, 20);
-- inheritance: TRUNCATE wp_ip truncates wp_ic too
CREATE TABLE wp_ip (id int, v text) WITH (autovacuum_enabled = off);
CREATE TABLE wp_ic (extra int) INHERITS (wp_ip) WITH (autovacuum_enabled = off);
INSERT INTO wp_ip VALUES (1, 'parent');
INSERT INTO wp_ic VALUES (2, 'child', 0);
-- an identity column: TRUNCATE ... RESTART IDENTITY
CREATE TABLE wp_ident (id int GENERATED ALWAYS AS IDENTITY, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_ident (v) VALUES ('a'), ('b'), ('c');
-- materialized views over wp_mvs
CREATE TABLE wp_mvs (id int PRIMARY KEY, v int NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_mvs VALUES (1, 10), (2, 20);
CREATE MATERIALIZED VIEW wp_mv WITH (autovacuum_enabled = off) AS
    SELECT count(*) AS n, sum(v) AS total FROM wp_mvs;
CREATE MATERIALIZED VIEW wp_mvc WITH (autovacuum_enabled = off) AS
    SELECT id, v FROM wp_mvs;
CREATE UNIQUE INDEX wp_mvc_id ON wp_mvc (id);
-- CLUSTER: rows stored in descending order, clustered by ascending id
CREATE TABLE wp_clu (id int PRIMARY KEY, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_clu VALUES (3, 'c'), (2, 'b'), (1, 'a');
-- VACUUM FULL: the first rows are deleted, the rest move up
CREATE TABLE wp_vf (id int PRIMARY KEY, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_vf SELECT g, 'v' || g FROM generate_series(1, 5) g;
DELETE FROM wp_vf WHERE id <= 2;
-- ALTER TABLE: column type, new column, persistence
CREATE TABLE wp_ty (id int PRIMARY KEY, x numeric(10, 2) NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_ty VALUES (1, 1.5), (2, 2.25);
CREATE TABLE wp_ac (id int PRIMARY KEY, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_ac VALUES (1, 'one'), (2, 'two');
CREATE TABLE wp_lg (id int PRIMARY KEY, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO wp_lg SELECT g, 'v' || g FROM generate_series(1, 4) g;
DELETE FROM wp_lg WHERE id = 1;
-- DROP and re-CREATE
CREATE TABLE wp_dr (id int, v text) WITH (autovacuum_enabled = off);
INSERT INTO wp_dr VALUES (1, 'old table');
-- renames
CREATE TABLE wp_ra (id int, v text) WITH (autovacuum_enabled = off);
CREATE TABLE wp_rb (id int, v text) WITH (autovacuum_enabled = off);
INSERT INTO wp_ra VALUES (1, 'was a');
INSERT INTO wp_rb VALUES (1, 'was b'), (2, 'was b');
-- large objects referenced from a table; a sequence
CREATE TABLE wp_lo (id int PRIMARY KEY, lo oid NOT NULL)
    WITH (autovacuum_enabled = off);
SELECT lo_create(4242001);
INSERT INTO wp_lo VALUES (1, 4242001);
CREATE SEQUENCE wp_seq;

SELECT cachealot_reset_stats();

--
-- COPY FROM STDIN
--
SELECT * FROM wp_copy ORDER BY id;
SELECT * FROM wp_copy ORDER BY id;
SELECT wp_hit();
BEGIN;
COPY wp_copy FROM STDIN;
9	rolled back
\.
SELECT * FROM wp_copy ORDER BY id;	-- own write visible
ROLLBACK;
SELECT * FROM wp_copy ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
COPY wp_copy FROM STDIN;
3	three
4	four
\.
SELECT * FROM wp_copy ORDER BY id;	-- own write visible
COMMIT;
SELECT * FROM wp_copy ORDER BY id;	-- fresh: 4 rows
SELECT * FROM wp_copy ORDER BY id;
SELECT wp_hit();

--
-- COPY FROM PROGRAM (the server reads a program's output), autocommit
--
SELECT * FROM wp_copy ORDER BY id;
SELECT wp_hit();
COPY wp_copy FROM PROGRAM 'printf "5\tfive\n"';
SELECT * FROM wp_copy ORDER BY id;	-- fresh: 5 rows
SELECT * FROM wp_copy ORDER BY id;
SELECT wp_hit();

--
-- COPY FROM with a column list and a WHERE clause
--
SELECT * FROM wp_copy ORDER BY id;
SELECT wp_hit();
COPY wp_copy (note, id) FROM STDIN WITH (FORMAT csv) WHERE id > 6;
six,6
seven,7
\.
SELECT * FROM wp_copy ORDER BY id;	-- fresh: 7 added, 6 filtered out
SELECT * FROM wp_copy ORDER BY id;
SELECT wp_hit();

--
-- COPY ... FREEZE into a table truncated in the same transaction
--
SELECT * FROM wp_frz ORDER BY id;
SELECT * FROM wp_frz ORDER BY id;
SELECT wp_hit();
BEGIN;
TRUNCATE wp_frz;
COPY wp_frz FROM STDIN (FREEZE);
1	frozen
2	frozen
\.
SELECT * FROM wp_frz ORDER BY id;	-- own write visible
COMMIT;
SELECT * FROM wp_frz ORDER BY id;	-- fresh: the frozen rows
SELECT * FROM wp_frz ORDER BY id;
SELECT wp_hit();

-- COPY ... FREEZE into a table dropped and re-created in the same
-- transaction
SELECT * FROM wp_frz ORDER BY id;
SELECT wp_hit();
BEGIN;
DROP TABLE wp_frz;
CREATE TABLE wp_frz (id int PRIMARY KEY, note text NOT NULL)
    WITH (autovacuum_enabled = off);
COPY wp_frz FROM STDIN (FREEZE);
7	new table
\.
SELECT * FROM wp_frz ORDER BY id;	-- own write visible
COMMIT;
SELECT * FROM wp_frz ORDER BY id;	-- fresh: the new table's row
SELECT * FROM wp_frz ORDER BY id;
SELECT wp_hit();

--
-- COPY and TRUNCATE fire triggers that read the table being written: they
-- see its new contents, not a cached count
--
SELECT wp_trg_count();
SELECT wp_trg_count();
SELECT wp_hit();
COPY wp_trg FROM STDIN;
2
3
\.
SELECT wp_trg_count();			-- fresh: 3
SELECT wp_trg_count();
SELECT wp_hit();
TRUNCATE wp_trg;
SELECT wp_trg_count();			-- fresh: 0
SELECT wp_trg_count();
SELECT wp_hit();

--
-- TRUNCATE
--
SELECT count(*) FROM wp_trunc;
SELECT count(*) FROM wp_trunc;
SELECT wp_hit();
BEGIN;
TRUNCATE wp_trunc;
SELECT count(*) FROM wp_trunc;		-- own write visible: 0
ROLLBACK;
SELECT count(*) FROM wp_trunc;		-- unchanged: 3
SELECT FROM cachealot_reset_stats();
BEGIN;
TRUNCATE wp_trunc;
SELECT count(*) FROM wp_trunc;		-- 0
COMMIT;
SELECT count(*) FROM wp_trunc;		-- fresh: 0
SELECT count(*) FROM wp_trunc;
SELECT wp_hit();

--
-- TRUNCATE ... CASCADE through foreign keys, transitively
--
SELECT id, pid FROM wp_fkc ORDER BY id;
SELECT id, pid FROM wp_fkc ORDER BY id;
SELECT wp_hit();
SELECT id, cid FROM wp_fkg ORDER BY id;
SELECT id, cid FROM wp_fkg ORDER BY id;
SELECT wp_hit();
BEGIN;
TRUNCATE wp_fkp CASCADE;
SELECT id, pid FROM wp_fkc ORDER BY id;	-- empty
SELECT id, cid FROM wp_fkg ORDER BY id;	-- empty
ROLLBACK;
SELECT id, pid FROM wp_fkc ORDER BY id;	-- unchanged
SELECT id, cid FROM wp_fkg ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
TRUNCATE wp_fkp CASCADE;
SELECT id, pid FROM wp_fkc ORDER BY id;
COMMIT;
SELECT id, pid FROM wp_fkc ORDER BY id;	-- fresh: empty
SELECT id, cid FROM wp_fkg ORDER BY id;	-- fresh: empty
SELECT id, pid FROM wp_fkc ORDER BY id;
SELECT wp_hit();
SELECT id, cid FROM wp_fkg ORDER BY id;
SELECT wp_hit();

--
-- TRUNCATE of an inheritance parent truncates its children; ONLY does not
--
SELECT id, v FROM wp_ip ORDER BY id;
SELECT id, v FROM wp_ip ORDER BY id;
SELECT wp_hit();
SELECT id, v, extra FROM wp_ic ORDER BY id;
SELECT id, v, extra FROM wp_ic ORDER BY id;
SELECT wp_hit();
TRUNCATE ONLY wp_ip;
SELECT id, v FROM wp_ip ORDER BY id;		-- fresh: only the child's row
SELECT id, v, extra FROM wp_ic ORDER BY id;	-- unchanged
SELECT id, v FROM wp_ip ORDER BY id;
SELECT wp_hit();
SELECT id, v, extra FROM wp_ic ORDER BY id;
SELECT wp_hit();
BEGIN;
TRUNCATE wp_ip;
SELECT id, v FROM wp_ip ORDER BY id;		-- empty
SELECT id, v, extra FROM wp_ic ORDER BY id;	-- empty
COMMIT;
SELECT id, v FROM wp_ip ORDER BY id;		-- fresh: empty
SELECT id, v, extra FROM wp_ic ORDER BY id;	-- fresh: empty
SELECT id, v FROM wp_ip ORDER BY id;
SELECT wp_hit();
SELECT id, v, extra FROM wp_ic ORDER BY id;
SELECT wp_hit();

--
-- TRUNCATE ... RESTART IDENTITY
--
SELECT id, v FROM wp_ident ORDER BY id;
SELECT id, v FROM wp_ident ORDER BY id;
SELECT wp_hit();
BEGIN;
TRUNCATE wp_ident RESTART IDENTITY;
INSERT INTO wp_ident (v) VALUES ('after restart');
SELECT id, v FROM wp_ident ORDER BY id;	-- own write: id 1 again
COMMIT;
SELECT id, v FROM wp_ident ORDER BY id;	-- fresh
SELECT id, v FROM wp_ident ORDER BY id;
SELECT wp_hit();

--
-- REFRESH MATERIALIZED VIEW
--
SELECT n, total FROM wp_mv;
SELECT n, total FROM wp_mv;
SELECT wp_hit();
SELECT id, v FROM wp_mvc ORDER BY id;
SELECT id, v FROM wp_mvc ORDER BY id;
SELECT wp_hit();
INSERT INTO wp_mvs VALUES (3, 30);
-- not refreshed yet: the old contents are the right answer
SELECT n, total FROM wp_mv;
SELECT id, v FROM wp_mvc ORDER BY id;
BEGIN;
REFRESH MATERIALIZED VIEW wp_mv;
SELECT n, total FROM wp_mv;		-- own write visible: 3 rows
ROLLBACK;
SELECT n, total FROM wp_mv;		-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
REFRESH MATERIALIZED VIEW wp_mv;
SELECT n, total FROM wp_mv;		-- own write visible
COMMIT;
SELECT n, total FROM wp_mv;		-- fresh: 3 rows, 60
SELECT n, total FROM wp_mv;
SELECT wp_hit();

--
-- REFRESH MATERIALIZED VIEW CONCURRENTLY
--
SELECT id, v FROM wp_mvc ORDER BY id;
SELECT id, v FROM wp_mvc ORDER BY id;
SELECT wp_hit();
BEGIN;
REFRESH MATERIALIZED VIEW CONCURRENTLY wp_mvc;
SELECT id, v FROM wp_mvc ORDER BY id;	-- own write visible
ROLLBACK;
SELECT id, v FROM wp_mvc ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
UPDATE wp_mvs SET v = v + 1 WHERE id = 1;
REFRESH MATERIALIZED VIEW CONCURRENTLY wp_mvc;
SELECT id, v FROM wp_mvc ORDER BY id;	-- fresh: 3 rows, id 1 has 11
SELECT id, v FROM wp_mvc ORDER BY id;
SELECT wp_hit();

--
-- CLUSTER: same rows, new physical places (ctid is cacheable)
--
SELECT ctid, id, v FROM wp_clu ORDER BY id;
SELECT ctid, id, v FROM wp_clu ORDER BY id;
SELECT wp_hit();
BEGIN;
CLUSTER wp_clu USING wp_clu_pkey;
SELECT ctid, id, v FROM wp_clu ORDER BY id;	-- own write: rows reordered
ROLLBACK;
SELECT ctid, id, v FROM wp_clu ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
CLUSTER wp_clu USING wp_clu_pkey;
SELECT ctid, id, v FROM wp_clu ORDER BY id;
COMMIT;
SELECT ctid, id, v FROM wp_clu ORDER BY id;	-- fresh: id 1 at (0,1)
SELECT ctid, id, v FROM wp_clu ORDER BY id;
SELECT wp_hit();
-- an updated row moves to the end; CLUSTER without USING reuses the
-- clustered index and puts it back in front
UPDATE wp_clu SET v = 'A' WHERE id = 1;
SELECT ctid, id, v FROM wp_clu ORDER BY id;	-- fresh: id 1 at (0,4)
SELECT ctid, id, v FROM wp_clu ORDER BY id;
SELECT wp_hit();
CLUSTER wp_clu;
SELECT ctid, id, v FROM wp_clu ORDER BY id;	-- fresh: id 1 at (0,1)
SELECT ctid, id, v FROM wp_clu ORDER BY id;
SELECT wp_hit();

--
-- VACUUM FULL (cannot run in a transaction block): same rows, compacted
--
SELECT ctid, id, v FROM wp_vf ORDER BY id;
SELECT ctid, id, v FROM wp_vf ORDER BY id;
SELECT wp_hit();
VACUUM FULL wp_vf;
SELECT ctid, id, v FROM wp_vf ORDER BY id;	-- fresh: from (0,1) on
SELECT ctid, id, v FROM wp_vf ORDER BY id;
SELECT wp_hit();

--
-- ALTER TABLE ... ALTER COLUMN ... TYPE
--
SELECT id, x::text FROM wp_ty ORDER BY id;
SELECT id, x::text FROM wp_ty ORDER BY id;
SELECT wp_hit();
SELECT * FROM wp_ty ORDER BY id;
SELECT * FROM wp_ty ORDER BY id;
SELECT wp_hit();
BEGIN;
ALTER TABLE wp_ty ALTER COLUMN x TYPE numeric(10, 4);
SELECT id, x::text FROM wp_ty ORDER BY id;	-- own change: 4 digits
ROLLBACK;
SELECT id, x::text FROM wp_ty ORDER BY id;	-- unchanged: 2 digits
SELECT FROM cachealot_reset_stats();
BEGIN;
ALTER TABLE wp_ty ALTER COLUMN x TYPE numeric(10, 4);
SELECT id, x::text FROM wp_ty ORDER BY id;
COMMIT;
SELECT id, x::text FROM wp_ty ORDER BY id;	-- fresh: 4 digits
SELECT id, x::text FROM wp_ty ORDER BY id;
SELECT wp_hit();
SELECT * FROM wp_ty ORDER BY id;		-- fresh: 4 digits
SELECT * FROM wp_ty ORDER BY id;
SELECT wp_hit();
-- to text: the same query now reads a text column
ALTER TABLE wp_ty ALTER COLUMN x TYPE text USING 'x=' || x::text;
SELECT id, x::text FROM wp_ty ORDER BY id;	-- fresh
SELECT id, x::text FROM wp_ty ORDER BY id;
SELECT wp_hit();

--
-- ALTER TABLE ... ADD COLUMN ... DEFAULT
--
SELECT * FROM wp_ac ORDER BY id;
SELECT * FROM wp_ac ORDER BY id;
SELECT wp_hit();
BEGIN;
ALTER TABLE wp_ac ADD COLUMN c int NOT NULL DEFAULT 7;
SELECT * FROM wp_ac ORDER BY id;	-- own change: the new column
ROLLBACK;
SELECT * FROM wp_ac ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
ALTER TABLE wp_ac ADD COLUMN c int NOT NULL DEFAULT 7;
SELECT * FROM wp_ac ORDER BY id;
COMMIT;
SELECT * FROM wp_ac ORDER BY id;	-- fresh: c = 7
SELECT * FROM wp_ac ORDER BY id;
SELECT wp_hit();
-- and DROP COLUMN
ALTER TABLE wp_ac DROP COLUMN v;
SELECT * FROM wp_ac ORDER BY id;	-- fresh: id, c
SELECT * FROM wp_ac ORDER BY id;
SELECT wp_hit();

--
-- ALTER TABLE ... SET UNLOGGED / SET LOGGED (rewrites: rows move up)
--
SELECT ctid, id, v FROM wp_lg ORDER BY id;
SELECT ctid, id, v FROM wp_lg ORDER BY id;
SELECT wp_hit();
BEGIN;
ALTER TABLE wp_lg SET UNLOGGED;
SELECT ctid, id, v FROM wp_lg ORDER BY id;	-- own change: rewritten
ROLLBACK;
SELECT ctid, id, v FROM wp_lg ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
ALTER TABLE wp_lg SET UNLOGGED;
SELECT ctid, id, v FROM wp_lg ORDER BY id;
COMMIT;
SELECT ctid, id, v FROM wp_lg ORDER BY id;	-- fresh: from (0,1) on
SELECT ctid, id, v FROM wp_lg ORDER BY id;
SELECT wp_hit();
DELETE FROM wp_lg WHERE id = 2;
SELECT ctid, id, v FROM wp_lg ORDER BY id;
SELECT ctid, id, v FROM wp_lg ORDER BY id;
SELECT wp_hit();
ALTER TABLE wp_lg SET LOGGED;
SELECT ctid, id, v FROM wp_lg ORDER BY id;	-- fresh: from (0,1) on
SELECT ctid, id, v FROM wp_lg ORDER BY id;
SELECT wp_hit();

--
-- DROP TABLE and CREATE TABLE of the same name
--
SELECT id, v FROM wp_dr ORDER BY id;
SELECT id, v FROM wp_dr ORDER BY id;
SELECT wp_hit();
BEGIN;
DROP TABLE wp_dr;
CREATE TABLE wp_dr (id int, v text) WITH (autovacuum_enabled = off);
INSERT INTO wp_dr VALUES (2, 'rolled back table');
SELECT id, v FROM wp_dr ORDER BY id;	-- own change
ROLLBACK;
SELECT id, v FROM wp_dr ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
DROP TABLE wp_dr;
CREATE TABLE wp_dr (id int, v text) WITH (autovacuum_enabled = off);
INSERT INTO wp_dr VALUES (3, 'new table');
SELECT id, v FROM wp_dr ORDER BY id;
COMMIT;
SELECT id, v FROM wp_dr ORDER BY id;	-- fresh: the new table's row
SELECT id, v FROM wp_dr ORDER BY id;
SELECT wp_hit();
-- in separate transactions, the new table still empty
DROP TABLE wp_dr;
SELECT id, v FROM wp_dr ORDER BY id;	-- error: no such table
CREATE TABLE wp_dr (id int, v text) WITH (autovacuum_enabled = off);
SELECT id, v FROM wp_dr ORDER BY id;	-- empty
SELECT id, v FROM wp_dr ORDER BY id;
SELECT wp_hit();

--
-- ALTER TABLE ... RENAME: swap two tables' names in one transaction
--
SELECT id, v FROM wp_ra ORDER BY id;
SELECT id, v FROM wp_ra ORDER BY id;
SELECT wp_hit();
SELECT id, v FROM wp_rb ORDER BY id;
SELECT id, v FROM wp_rb ORDER BY id;
SELECT wp_hit();
BEGIN;
ALTER TABLE wp_ra RENAME TO wp_rtmp;
ALTER TABLE wp_rb RENAME TO wp_ra;
ALTER TABLE wp_rtmp RENAME TO wp_rb;
SELECT id, v FROM wp_ra ORDER BY id;	-- own change: b's rows
ROLLBACK;
SELECT id, v FROM wp_ra ORDER BY id;	-- unchanged
SELECT id, v FROM wp_rb ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
ALTER TABLE wp_ra RENAME TO wp_rtmp;
ALTER TABLE wp_rb RENAME TO wp_ra;
ALTER TABLE wp_rtmp RENAME TO wp_rb;
SELECT id, v FROM wp_ra ORDER BY id;
COMMIT;
SELECT id, v FROM wp_ra ORDER BY id;	-- fresh: b's old rows
SELECT id, v FROM wp_rb ORDER BY id;	-- fresh: a's old rows
SELECT id, v FROM wp_ra ORDER BY id;
SELECT wp_hit();
SELECT id, v FROM wp_rb ORDER BY id;
SELECT wp_hit();
-- a column rename swap
SELECT id FROM wp_ra ORDER BY id;
SELECT id FROM wp_ra ORDER BY id;
SELECT wp_hit();
BEGIN;
ALTER TABLE wp_ra RENAME COLUMN id TO tmp;
ALTER TABLE wp_ra RENAME COLUMN v TO id;
ALTER TABLE wp_ra RENAME COLUMN tmp TO v;
COMMIT;
SELECT id FROM wp_ra ORDER BY id;	-- fresh: the former v column
SELECT id FROM wp_ra ORDER BY id;
SELECT wp_hit();

--
-- large objects: never cached, always fresh
--
SELECT lo_put(4242001, 0, 'abc'::bytea);
SELECT lo_get(4242001);
SELECT lo_get(4242001);
SELECT lo_get(lo) FROM wp_lo;
SELECT lo_get(lo) FROM wp_lo;
SELECT pageno, data FROM pg_largeobject WHERE loid = 4242001;
SELECT pageno, data FROM pg_largeobject WHERE loid = 4242001;
SELECT * FROM wp_delta();		-- all bypassed
BEGIN;
SELECT lo_put(4242001, 1, 'XY'::bytea);
SELECT lo_get(lo) FROM wp_lo;		-- own write: aXY
ROLLBACK;
SELECT lo_get(lo) FROM wp_lo;		-- abc
SELECT lo_put(4242001, 1, 'XY'::bytea);
SELECT lo_get(lo) FROM wp_lo;		-- fresh: aXY
SELECT lo_get(4242001);			-- fresh: aXY
SELECT pageno, data FROM pg_largeobject WHERE loid = 4242001;
SELECT * FROM wp_delta();		-- all bypassed
SELECT lo_unlink(4242001);

--
-- sequences: never cached, always fresh
--
SELECT last_value, is_called FROM wp_seq;
SELECT last_value, is_called FROM wp_seq;
SELECT * FROM wp_seq;
SELECT * FROM wp_delta();		-- bypassed
SELECT nextval('wp_seq');
SELECT last_value, is_called FROM wp_seq;	-- fresh: 1, t
SELECT nextval('wp_seq');
SELECT last_value, is_called FROM wp_seq;	-- fresh: 2, t
SELECT setval('wp_seq', 42, false);
SELECT last_value, is_called FROM wp_seq;	-- fresh: 42, f
ALTER SEQUENCE wp_seq RESTART WITH 7;
SELECT last_value, is_called FROM wp_seq;	-- fresh: 7, f
SELECT * FROM wp_delta();		-- bypassed

--
-- Clean up
--
DROP TABLE wp_copy, wp_frz, wp_trunc, wp_fkg, wp_fkc, wp_fkp, wp_ic, wp_ip,
    wp_ident, wp_mvs CASCADE;
DROP TABLE wp_trg, wp_clu, wp_vf, wp_ty, wp_ac, wp_lg, wp_dr, wp_ra, wp_rb, wp_lo;
DROP SEQUENCE wp_seq;
DROP FUNCTION wp_trg_notice(), wp_trg_count(), wp_hit(), wp_delta();
