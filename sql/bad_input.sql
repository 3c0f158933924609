--
-- bad_input: out-of-range settings, wrong arguments and missing privileges
-- give clear errors, and the server keeps running.  Also the return values
-- of cachealot_flush() and cachealot_invalidate().
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Setup first (catalog changes make every entry unreachable at commit)
CREATE ROLE regress_cachealot_bad_user;
CREATE TABLE bad_t (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = off);
INSERT INTO bad_t SELECT g, 'v' || g FROM generate_series(1, 5) g;
CREATE TABLE bad_u (id int) WITH (autovacuum_enabled = off);
INSERT INTO bad_u VALUES (1), (2);
CREATE INDEX bad_u_idx ON bad_u (id);
CREATE SEQUENCE bad_seq;
CREATE VIEW bad_v AS SELECT id FROM bad_u WHERE id > 1;
CREATE MATERIALIZED VIEW bad_mv AS SELECT id FROM bad_u;
CREATE TYPE bad_comp AS (a int);
CREATE TABLE bad_p (k int) PARTITION BY RANGE (k);
CREATE TABLE bad_p1 PARTITION OF bad_p FOR VALUES FROM (0) TO (10)
  WITH (autovacuum_enabled = off);
CREATE TABLE bad_p2 PARTITION OF bad_p FOR VALUES FROM (10) TO (20)
  WITH (autovacuum_enabled = off);
INSERT INTO bad_p VALUES (1), (2), (11);
GRANT SELECT ON bad_t TO regress_cachealot_bad_user;

--
-- Settings
--
SELECT name, unit, context, vartype, min_val, max_val, boot_val
  FROM pg_settings WHERE name LIKE 'cachealot.%' ORDER BY name;
-- max_entry_size is a sighup setting: not settable in a session
SET cachealot.max_entry_size = '2MB';
SELECT set_config('cachealot.max_entry_size', '2MB', false);
-- ... and ALTER SYSTEM validates it (nothing is written on error)
ALTER SYSTEM SET cachealot.max_entry_size = '-1';
ALTER SYSTEM SET cachealot.max_entry_size = '2GB';
ALTER SYSTEM SET cachealot.max_entry_size = 'lots';
-- max_memory needs a restart
SET cachealot.max_memory = '1GB';
ALTER SYSTEM SET cachealot.max_memory = '100kB';
-- enabled is a boolean
SET cachealot.enabled = 'maybe';
SHOW cachealot.enabled;
-- test_commit_delay: superuser only, bounded
SET cachealot.test_commit_delay = -1;
SET cachealot.test_commit_delay = '2min';
SET cachealot.test_commit_delay = 0;
RESET cachealot.test_commit_delay;
-- the cachealot prefix is reserved: no placeholders
SET cachealot.nosuch = 1;
ALTER SYSTEM SET cachealot.nosuch = 1;
SHOW cachealot.nosuch;

--
-- A non-superuser
--
SET ROLE regress_cachealot_bad_user;
SET cachealot.test_commit_delay = 100;
SET cachealot.max_entry_size = '2MB';
-- enabled is a user setting
SET cachealot.enabled = off;
SHOW cachealot.enabled;
RESET cachealot.enabled;
-- dropping entries and statistics needs a grant; reading them does not
SELECT cachealot_flush();
SELECT cachealot_invalidate('bad_t');
SELECT cachealot_reset_stats();
SELECT hits >= 0 AS readable, entries >= 0 AS entries_readable
  FROM cachealot_stats();
RESET ROLE;
GRANT EXECUTE ON FUNCTION cachealot_flush() TO regress_cachealot_bad_user;
SET ROLE regress_cachealot_bad_user;
SELECT cachealot_flush() >= 0 AS flushed_with_grant;
SELECT cachealot_invalidate('bad_t');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION cachealot_flush() FROM regress_cachealot_bad_user;

--
-- cachealot_invalidate(): what it accepts
--
SELECT cachealot_invalidate('bad_u_idx'::regclass);
SELECT cachealot_invalidate('bad_t_pkey');
SELECT cachealot_invalidate('bad_seq');
SELECT cachealot_invalidate('bad_comp');
SELECT cachealot_invalidate(0);
SELECT cachealot_invalidate('bad_nosuch');
SELECT cachealot_invalidate(NULL) IS NULL AS null_in_null_out;
DO $$
BEGIN
  PERFORM cachealot_invalidate(reltoastrelid::regclass)
    FROM pg_class WHERE oid = 'bad_t'::regclass;
  RAISE NOTICE 'TOAST table accepted';
EXCEPTION WHEN wrong_object_type THEN
  RAISE NOTICE 'TOAST table: %', SQLSTATE;
END $$;
-- a dropped table's OID
CREATE TABLE bad_gone (id int);
SELECT 'bad_gone'::regclass::oid AS gone_oid \gset
DROP TABLE bad_gone;
-- (the message holds the OID: show the SQLSTATE only)
\set VERBOSITY sqlstate
SELECT cachealot_invalidate(:gone_oid);
\set VERBOSITY default

--
-- cachealot_invalidate() on a table: returns the entries it dropped, and
-- the query cached before misses afterwards; other tables keep theirs
--
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();
SELECT v FROM bad_t WHERE id = 1;
SELECT v FROM bad_t WHERE id = 2;
SELECT count(*) FROM bad_u;
SELECT v FROM bad_t WHERE id = 1;
SELECT v FROM bad_t WHERE id = 2;
SELECT count(*) FROM bad_u;
SELECT hits, misses, stores, entries FROM cachealot_stats();
SELECT cachealot_invalidate('bad_t') AS dropped;
SELECT entries FROM cachealot_stats();
SELECT cachealot_reset_stats();
SELECT v FROM bad_t WHERE id = 1;
SELECT count(*) FROM bad_u;
SELECT hits, misses, stores FROM cachealot_stats();
SELECT cachealot_reset_stats();
SELECT v FROM bad_t WHERE id = 1;
SELECT hits, misses, stores FROM cachealot_stats();
-- the entry stored since then: 1; after that nothing is left: 0
SELECT cachealot_invalidate('bad_t') AS dropped;
SELECT cachealot_invalidate('bad_t') AS dropped_again;

-- a view: the entries of queries on the view
SELECT cachealot_flush() >= 0 AS flushed;
SELECT id FROM bad_v;
SELECT id FROM bad_mv ORDER BY id;
SELECT cachealot_invalidate('bad_v') AS dropped_view;
SELECT cachealot_invalidate('bad_mv') AS dropped_matview;
SELECT entries FROM cachealot_stats();

-- a partitioned table: its partitions' entries too
SELECT cachealot_flush() >= 0 AS flushed;
SELECT count(*) FROM bad_p;
SELECT count(*) FROM bad_p1;
SELECT count(*) FROM bad_p2;
SELECT entries FROM cachealot_stats();
-- a partition: the entries that read it (the parent's query reads it too)
SELECT cachealot_invalidate('bad_p1') AS dropped_partition;
SELECT cachealot_reset_stats();
SELECT count(*) FROM bad_p2;
SELECT count(*) FROM bad_p1;
SELECT count(*) FROM bad_p;
SELECT hits, misses, stores FROM cachealot_stats();
-- the parent: every entry of the tree
SELECT cachealot_invalidate('bad_p') AS dropped_parent;
SELECT entries FROM cachealot_stats();
SELECT cachealot_reset_stats();
SELECT count(*) FROM bad_p2;
SELECT hits, misses, stores FROM cachealot_stats();

--
-- cachealot_flush(): returns the number of entries dropped
--
SELECT cachealot_flush() >= 0 AS flushed;
SELECT v FROM bad_t WHERE id = 3;
SELECT v FROM bad_t WHERE id = 4;
SELECT count(*) FROM bad_u;
SELECT entries AS entries_before FROM cachealot_stats() \gset
SELECT :entries_before AS entries_before;
SELECT cachealot_flush() = :entries_before AS flush_returns_entries;
SELECT entries FROM cachealot_stats();
SELECT cachealot_flush() AS flush_empty;
SELECT cachealot_reset_stats();
SELECT v FROM bad_t WHERE id = 3;
SELECT hits, misses, stores FROM cachealot_stats();

--
-- After all of that the server still answers
--
SELECT 1 AS still_alive;
SELECT v FROM bad_t WHERE id = 5;

--
-- Clean up
--
DROP VIEW bad_v;
DROP MATERIALIZED VIEW bad_mv;
DROP TABLE bad_t, bad_u, bad_p;
DROP SEQUENCE bad_seq;
DROP TYPE bad_comp;
DROP ROLE regress_cachealot_bad_user;
