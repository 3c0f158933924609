-- setup.sql: the data of `make bench-instructions` (test/bench/instructions.sh),
-- created through a normal server: objects created in single-user mode right
-- after initdb get OIDs below FirstNormalObjectId (16384) and look like
-- system catalogs to cachealot, which never caches them.
\set ON_ERROR_STOP on
CREATE TABLE t (id int PRIMARY KEY, v int);
INSERT INTO t SELECT i, i % 1000 FROM generate_series(1, 100000) AS i;
-- the grouped aggregate's table: 1,000 rows in 10 groups
CREATE TABLE t2 (g int, v int);
INSERT INTO t2 SELECT i % 10, i FROM generate_series(1, 1000) AS i;
VACUUM (FREEZE, ANALYZE);
CHECKPOINT;
-- the check the script reads: both tables (and the index) are user objects
SELECT count(*) FILTER (WHERE oid >= 16384) || '/' || count(*)
  FROM pg_class WHERE relname IN ('t', 't_pkey', 't2');
