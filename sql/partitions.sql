--
-- partitions: cached queries on a partitioned table, on a partition and on
-- a partition of a partition, and on inheritance parents and children,
-- stay fresh whatever path the rows take: routed through a parent,
-- written straight into a partition, moved across partitions by UPDATE,
-- deleted through a parent, copied into a parent, attached or detached.
--
-- Layout:
--   pt_parent (range on k)
--     pt_p1    [0, 10)
--     pt_p2    [10, 20), itself partitioned:
--       pt_p2a [10, 15)
--       pt_p2b [15, 20)
--     pt_pdef  default
--
-- Executor writes are recorded per table: a write committed straight into
-- one partition leaves a sibling partition's entries hitting.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Was anything served from the cache since the last call?  Then reset.
CREATE FUNCTION pt_hit() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    h bigint;
BEGIN
    SELECT hits INTO h FROM cachealot_stats();
    PERFORM cachealot_reset_stats();
    RETURN h > 0;
END
$$;

-- All setup first: catalog changes make the whole database's entries
-- unreachable at commit.  Autovacuum stays off the tables.
CREATE TABLE pt_parent (id int NOT NULL, k int NOT NULL, v text NOT NULL)
    PARTITION BY RANGE (k);
CREATE TABLE pt_p1 PARTITION OF pt_parent FOR VALUES FROM (0) TO (10)
    WITH (autovacuum_enabled = off);
CREATE TABLE pt_p2 PARTITION OF pt_parent FOR VALUES FROM (10) TO (20)
    PARTITION BY RANGE (k);
CREATE TABLE pt_p2a PARTITION OF pt_p2 FOR VALUES FROM (10) TO (15)
    WITH (autovacuum_enabled = off);
CREATE TABLE pt_p2b PARTITION OF pt_p2 FOR VALUES FROM (15) TO (20)
    WITH (autovacuum_enabled = off);
CREATE TABLE pt_pdef PARTITION OF pt_parent DEFAULT
    WITH (autovacuum_enabled = off);
INSERT INTO pt_parent VALUES (1, 1, 'p1'), (2, 12, 'p2a'), (3, 17, 'p2b'),
    (4, 50, 'def');
-- to be attached later: rows in [20, 30)
CREATE TABLE pt_p3 (id int NOT NULL, k int NOT NULL, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO pt_p3 VALUES (5, 25, 'p3');
-- inheritance: pt_ih with children pt_ic1 and pt_ic2
CREATE TABLE pt_ih (id int NOT NULL, v text NOT NULL)
    WITH (autovacuum_enabled = off);
CREATE TABLE pt_ic1 () INHERITS (pt_ih) WITH (autovacuum_enabled = off);
CREATE TABLE pt_ic2 (extra int) INHERITS (pt_ih)
    WITH (autovacuum_enabled = off);
INSERT INTO pt_ih VALUES (1, 'parent');
INSERT INTO pt_ic1 VALUES (2, 'child1');
INSERT INTO pt_ic2 VALUES (3, 'child2', 0);

SELECT cachealot_reset_stats();

-- Pattern: after each write, every affected query is read once (fresh),
-- then each is repeated and followed by a hit check: the repeat was served
-- from the cache, with the same rows.

--
-- the starting state, cached
--
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();

--
-- INSERT through the parent, routed to p1, p2a and the default partition
--
BEGIN;
INSERT INTO pt_parent VALUES (10, 2, 'p1 routed'), (11, 13, 'p2a routed'),
    (12, 99, 'def routed');
SELECT id, k, v FROM pt_parent ORDER BY id;	-- own writes visible
SELECT id, k, v FROM pt_p2a ORDER BY id;
COMMIT;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();

--
-- INSERT through the sub-partitioned pt_p2, routed to pt_p2b: p1 is a
-- sibling and keeps its entry
--
INSERT INTO pt_p2 VALUES (13, 18, 'p2b via p2');
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- unchanged, from the cache
SELECT pt_hit();
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();

--
-- INSERT straight into the leaf pt_p2b: the parents' queries are fresh, a
-- sibling's entry still hits
--
BEGIN;
INSERT INTO pt_p2b VALUES (14, 19, 'p2b direct');
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- own write visible
COMMIT;
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- unchanged, from the cache
SELECT pt_hit();
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- unchanged, from the cache
SELECT pt_hit();
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();

--
-- INSERT straight into the leaf pt_p1: the sub-partition's entry still hits
--
INSERT INTO pt_p1 VALUES (15, 3, 'p1 direct');
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- unchanged, from the cache
SELECT pt_hit();
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();

--
-- UPDATE through the parent moving a row from p1 to p2a
--
BEGIN;
UPDATE pt_parent SET k = 14, v = 'moved p1 -> p2a' WHERE id = 1;
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- own write: gone from p1
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- own write: in p2a
COMMIT;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- fresh: id 1 gone
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh: id 1 there
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh: id 1 there
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();

--
-- UPDATE through the sub-partitioned pt_p2 moving a row from p2a to p2b,
-- and through the parent moving a row from p2a into the default partition
--
UPDATE pt_p2 SET k = 16, v = 'moved p2a -> p2b' WHERE id = 2;
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh: id 2 gone
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh: id 2 in p2b
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();
UPDATE pt_parent SET k = 70, v = 'moved p2a -> def' WHERE id = 11;
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh: id 11 gone
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- fresh: id 11 there
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();

--
-- UPDATE in place, straight on a partition
--
UPDATE pt_pdef SET v = 'def updated' WHERE id = 4;
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();

--
-- DELETE through the parent
--
BEGIN;
DELETE FROM pt_parent WHERE id IN (10, 12, 14);
SELECT id, k, v FROM pt_parent ORDER BY id;	-- own write visible
COMMIT;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- fresh: id 10 gone
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh: id 14 gone
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- fresh: id 12 gone
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();

--
-- COPY into the parent, routed to every partition
--
BEGIN;
COPY pt_parent FROM STDIN;
20	5	p1 copied
21	11	p2a copied
22	19	p2b copied
23	-5	def copied
\.
SELECT id, k, v FROM pt_parent ORDER BY id;	-- own write visible
COMMIT;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();

-- COPY straight into a sub-partitioned partition, and into a leaf
COPY pt_p2 FROM STDIN;
24	12	p2a copied via p2
\.
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p2a ORDER BY id;
SELECT pt_hit();
COPY pt_p1 FROM STDIN;
25	9	p1 copied direct
\.
SELECT id, k, v FROM pt_p1 ORDER BY id;		-- fresh
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p1 ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();

--
-- TRUNCATE of a partition, and of the sub-partitioned partition
--
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
BEGIN;
TRUNCATE pt_p2a;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- own write visible
ROLLBACK;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
TRUNCATE pt_p2a;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh: no p2a rows
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh: no p2a rows
SELECT id, k, v FROM pt_p2a ORDER BY id;	-- fresh: empty
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
TRUNCATE pt_p2;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh: no p2 rows
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh: empty
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
INSERT INTO pt_parent VALUES (30, 16, 'p2b again'), (31, 13, 'p2a again');

--
-- ATTACH PARTITION: the parent's query now includes the new partition's
-- rows
--
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT id, k, v FROM pt_pdef ORDER BY id;
SELECT pt_hit();
BEGIN;
ALTER TABLE pt_parent ATTACH PARTITION pt_p3 FOR VALUES FROM (20) TO (30);
SELECT id, k, v FROM pt_parent ORDER BY id;	-- own change: id 5 there
ROLLBACK;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
ALTER TABLE pt_parent ATTACH PARTITION pt_p3 FOR VALUES FROM (20) TO (30);
SELECT id, k, v FROM pt_parent ORDER BY id;
COMMIT;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh: id 5 there
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
-- a row for the new range now goes to pt_p3, not the default partition
INSERT INTO pt_parent VALUES (26, 27, 'p3 routed');
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- unchanged
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p3 ORDER BY id;
SELECT id, k, v FROM pt_p3 ORDER BY id;
SELECT pt_hit();

--
-- DETACH PARTITION: the parent's query no longer includes its rows; the
-- detached table still has them
--
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
BEGIN;
ALTER TABLE pt_parent DETACH PARTITION pt_p2;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- own change: no p2 rows
ROLLBACK;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
BEGIN;
ALTER TABLE pt_parent DETACH PARTITION pt_p2;
SELECT id, k, v FROM pt_parent ORDER BY id;
COMMIT;
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh: no p2 rows
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- the detached rows
SELECT id, k, v FROM pt_parent ORDER BY id;
SELECT pt_hit();
SELECT id, k, v FROM pt_p2 ORDER BY id;
SELECT pt_hit();
-- writes to the detached table no longer show in the parent; the parent's
-- entry may or may not survive, but must be right
INSERT INTO pt_p2 VALUES (27, 14, 'detached p2a');
SELECT id, k, v FROM pt_parent ORDER BY id;	-- no p2 rows
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- fresh
-- and a row of the old p2 range now goes to the default partition
INSERT INTO pt_parent VALUES (28, 12, 'def, was p2 range');
SELECT id, k, v FROM pt_parent ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_pdef ORDER BY id;	-- fresh
SELECT id, k, v FROM pt_p2 ORDER BY id;		-- unchanged
SELECT FROM cachealot_reset_stats();

--
-- Inheritance: pt_ih with children pt_ic1, pt_ic2
--
SELECT id, v FROM pt_ih ORDER BY id;
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v FROM ONLY pt_ih ORDER BY id;
SELECT id, v FROM ONLY pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v FROM pt_ic1 ORDER BY id;
SELECT id, v FROM pt_ic1 ORDER BY id;
SELECT pt_hit();
SELECT id, v, extra FROM pt_ic2 ORDER BY id;
SELECT id, v, extra FROM pt_ic2 ORDER BY id;
SELECT pt_hit();

-- INSERT into a child: the parent's query is fresh, ONLY parent unchanged,
-- the other child's entry still hits
BEGIN;
INSERT INTO pt_ic1 VALUES (4, 'child1 new');
SELECT id, v FROM pt_ih ORDER BY id;		-- own write visible
COMMIT;
SELECT id, v, extra FROM pt_ic2 ORDER BY id;	-- unchanged, from the cache
SELECT pt_hit();
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh
SELECT id, v FROM ONLY pt_ih ORDER BY id;	-- unchanged
SELECT id, v FROM pt_ic1 ORDER BY id;		-- fresh
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v FROM pt_ic1 ORDER BY id;
SELECT pt_hit();

-- UPDATE through the parent reaches the children
BEGIN;
UPDATE pt_ih SET v = v || ' updated' WHERE id IN (1, 2, 3);
SELECT id, v FROM pt_ic1 ORDER BY id;		-- own write visible
COMMIT;
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh
SELECT id, v FROM ONLY pt_ih ORDER BY id;	-- fresh
SELECT id, v FROM pt_ic1 ORDER BY id;		-- fresh
SELECT id, v, extra FROM pt_ic2 ORDER BY id;	-- fresh
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v FROM ONLY pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v FROM pt_ic1 ORDER BY id;
SELECT pt_hit();
SELECT id, v, extra FROM pt_ic2 ORDER BY id;
SELECT pt_hit();

-- UPDATE ONLY the parent: the children are untouched
UPDATE ONLY pt_ih SET v = 'parent only' WHERE id IN (1, 2, 3);
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh
SELECT id, v FROM ONLY pt_ih ORDER BY id;	-- fresh
SELECT id, v FROM pt_ic1 ORDER BY id;		-- unchanged
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v FROM ONLY pt_ih ORDER BY id;
SELECT pt_hit();

-- DELETE through the parent, then from ONLY the parent
DELETE FROM pt_ih WHERE id = 3;
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh
SELECT id, v, extra FROM pt_ic2 ORDER BY id;	-- fresh: empty
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();
SELECT id, v, extra FROM pt_ic2 ORDER BY id;
SELECT pt_hit();
DELETE FROM ONLY pt_ih;
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh
SELECT id, v FROM ONLY pt_ih ORDER BY id;	-- fresh: empty
SELECT id, v FROM pt_ic1 ORDER BY id;		-- unchanged
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();

-- a child leaves the hierarchy (NO INHERIT), and another joins (INHERIT)
ALTER TABLE pt_ic1 NO INHERIT pt_ih;
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh: empty
SELECT id, v FROM pt_ic1 ORDER BY id;		-- unchanged
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();
ALTER TABLE pt_ic1 INHERIT pt_ih;
SELECT id, v FROM pt_ih ORDER BY id;		-- fresh: pt_ic1's rows
SELECT id, v FROM pt_ih ORDER BY id;
SELECT pt_hit();

--
-- Clean up
--
DROP TABLE pt_parent, pt_p2, pt_ih CASCADE;
DROP FUNCTION pt_hit();
