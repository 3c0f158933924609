--
-- invalidation: every executor write makes the cached results of the table
-- it wrote unreachable when it commits, not before; aborted writes
-- invalidate nothing committed; a write to one table leaves the entries
-- of other tables alone.
--
-- Pattern of each case: cache the query and prove it hits, write in a
-- transaction, check that the writer sees its own write (the query bypasses
-- the cache there), COMMIT, then check that the query returns the new rows
-- and that a repeat hits again.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Counters since the last call, then reset.  Only hits, misses and stores
-- are shown (a query of a cacheable table that neither hit nor missed
-- bypassed the cache), and whether any invalidation happened: writes
-- invalidate at commit, never before.
CREATE FUNCTION inv_delta(OUT hits bigint, OUT misses bigint, OUT stores bigint,
                          OUT invalidated bool)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.hits, s.misses, s.stores, s.invalidations > 0
      INTO hits, misses, stores, invalidated
      FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- All DDL first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE TABLE inv_a (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO inv_a SELECT g, g * 10 FROM generate_series(1, 5) g;
CREATE TABLE inv_b (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO inv_b VALUES (1, 'one'), (2, 'two');
-- a trigger on inv_src writes inv_b
CREATE TABLE inv_src (id int PRIMARY KEY);
CREATE FUNCTION inv_src_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inv_b VALUES (NEW.id, 'from trigger');
    RETURN NEW;
END
$$;
CREATE TRIGGER inv_src_ins AFTER INSERT ON inv_src
    FOR EACH ROW EXECUTE FUNCTION inv_src_trigger();
-- ON DELETE CASCADE from inv_parent to inv_child
CREATE TABLE inv_parent (id int PRIMARY KEY);
CREATE TABLE inv_child (id int PRIMARY KEY,
                        pid int NOT NULL REFERENCES inv_parent ON DELETE CASCADE);
INSERT INTO inv_parent VALUES (1), (2);
INSERT INTO inv_child VALUES (10, 1), (11, 1), (20, 2), (21, 2);
-- a VOLATILE function that writes inv_a
CREATE FUNCTION inv_bump(p_id int) RETURNS int VOLATILE LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inv_a SET v = v + 1 WHERE id = p_id;
    RETURN p_id;
END
$$;
-- an automatically updatable view over inv_a
CREATE VIEW inv_av AS SELECT id, v FROM inv_a WHERE id < 100;
-- a deferred constraint trigger on inv_src2 writes inv_b during COMMIT
CREATE TABLE inv_src2 (id int PRIMARY KEY);
CREATE CONSTRAINT TRIGGER inv_src2_deferred AFTER INSERT ON inv_src2
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION inv_src_trigger();
-- a VOLATILE SQL function that writes inv_a
CREATE FUNCTION inv_sql_write(p_id int) RETURNS int VOLATILE LANGUAGE sql
    AS 'UPDATE inv_a SET v = v + 100 WHERE id = $1 RETURNING id';
-- a trigger on inv_cnt that reads inv_cnt through a cacheable query
CREATE TABLE inv_cnt (id int PRIMARY KEY);
INSERT INTO inv_cnt VALUES (1), (2);
CREATE FUNCTION inv_count_rows() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    result bigint;
BEGIN
    FOR r IN SELECT count(*) AS n FROM inv_cnt LOOP
        result := r.n;
    END LOOP;
    RETURN result;
END
$$;
CREATE FUNCTION inv_cnt_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'inv_cnt has % rows after inserting %', inv_count_rows(), NEW.id;
    RETURN NEW;
END
$$;
CREATE TRIGGER inv_cnt_ins AFTER INSERT ON inv_cnt
    FOR EACH ROW EXECUTE FUNCTION inv_cnt_trigger();
-- a procedure that writes inv_a, commits, and reads it again
CREATE PROCEDURE inv_proc(p_add int) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT count(*) AS n, sum(v) AS total FROM inv_a LOOP
        RAISE NOTICE 'before: % rows, sum %', r.n, r.total;
    END LOOP;
    UPDATE inv_a SET v = v + p_add WHERE id = 2;
    COMMIT;
    FOR r IN SELECT count(*) AS n, sum(v) AS total FROM inv_a LOOP
        RAISE NOTICE 'after commit: % rows, sum %', r.n, r.total;
    END LOOP;
    FOR r IN SELECT count(*) AS n, sum(v) AS total FROM inv_a LOOP
        RAISE NOTICE 'again: % rows, sum %', r.n, r.total;
    END LOOP;
END
$$;

SELECT cachealot_reset_stats();

--
-- INSERT
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();		-- miss and store, then a hit
BEGIN;
INSERT INTO inv_a VALUES (6, 60);
SELECT * FROM inv_a ORDER BY id;	-- own write visible
SELECT * FROM inv_delta();		-- bypassed, nothing invalidated yet
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: 6 rows
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();		-- invalidated at commit; miss and store, then a hit

--
-- UPDATE
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();		-- hit
BEGIN;
UPDATE inv_a SET v = v + 1 WHERE id = 1;
SELECT * FROM inv_a ORDER BY id;	-- own write visible
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: id 1 has 11
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- DELETE
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
DELETE FROM inv_a WHERE id = 6;
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: 5 rows
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- MERGE
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
MERGE INTO inv_a t
USING (VALUES (2, 222), (7, 70)) AS s(id, v) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET v = s.v
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v);
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: id 2 has 222, id 7 exists
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- INSERT ... ON CONFLICT DO UPDATE
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
INSERT INTO inv_a VALUES (3, 333) ON CONFLICT (id) DO UPDATE SET v = excluded.v;
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: id 3 has 333
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- data-modifying CTE
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
WITH x AS (UPDATE inv_a SET v = -v WHERE id = 4 RETURNING *) SELECT * FROM x;
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: id 4 has -40
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- a trigger on inv_src writes inv_b; the cached query reads inv_b
--
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();		-- miss and store, then a hit
BEGIN;
INSERT INTO inv_src VALUES (3);
SELECT * FROM inv_b ORDER BY id;	-- the trigger's row is visible
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_b ORDER BY id;	-- fresh: 3 rows
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();

--
-- a deferred constraint trigger writes inv_b only during COMMIT
--
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();		-- hit
BEGIN;
INSERT INTO inv_src2 VALUES (4);
-- the trigger has not fired: inv_b is unchanged and not yet written, so a
-- hit is right here
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_b ORDER BY id;	-- fresh: the trigger's row 4
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();

--
-- ON DELETE CASCADE: deleting from inv_parent writes inv_child
--
SELECT * FROM inv_child ORDER BY id;
SELECT * FROM inv_child ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
DELETE FROM inv_parent WHERE id = 2;
SELECT * FROM inv_child ORDER BY id;	-- cascaded delete visible
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_child ORDER BY id;	-- fresh: only children of 1
SELECT * FROM inv_child ORDER BY id;
SELECT * FROM inv_delta();

--
-- a VOLATILE function called in a SELECT writes inv_a
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
SELECT inv_bump(5);
SELECT * FROM inv_a ORDER BY id;	-- id 5 has 51
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- fresh: id 5 has 51
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- a VOLATILE SQL function, a DO block, a released savepoint and a procedure
-- that commits inside write inv_a (checked with an aggregate over it)
--
SELECT count(*), sum(v) FROM inv_a;
SELECT count(*), sum(v) FROM inv_a;
SELECT * FROM inv_delta();		-- miss, store, hit
SELECT inv_sql_write(7);
SELECT count(*), sum(v) FROM inv_a;	-- fresh: +100
SELECT count(*), sum(v) FROM inv_a;
SELECT * FROM inv_delta();
DO $$ BEGIN UPDATE inv_a SET v = v - 100 WHERE id = 7; END $$;
SELECT count(*), sum(v) FROM inv_a;	-- fresh: -100
SELECT count(*), sum(v) FROM inv_a;
SELECT * FROM inv_delta();
BEGIN;
SAVEPOINT s1;
UPDATE inv_a SET v = v + 1 WHERE id = 7;
RELEASE SAVEPOINT s1;
SELECT count(*), sum(v) FROM inv_a;	-- own write: +1
COMMIT;
SELECT count(*), sum(v) FROM inv_a;	-- fresh: +1
SELECT count(*), sum(v) FROM inv_a;
SELECT * FROM inv_delta();		-- bypass in the writer; miss, store, hit
-- the procedure's reads after its own COMMIT see its write, and so does
-- every later query
CALL inv_proc(0);
CALL inv_proc(1000);
SELECT count(*), sum(v) FROM inv_a;	-- fresh: +1000
SELECT count(*), sum(v) FROM inv_a;
SELECT hits >= 1 AS hit FROM inv_delta();
CALL inv_proc(-1000);
SELECT count(*), sum(v) FROM inv_a;	-- fresh: -1000
SELECT * FROM inv_delta();

--
-- a trigger reads the table its statement is writing: the read must see
-- the new rows, not the cached count
--
SELECT inv_count_rows();
SELECT inv_count_rows();
SELECT * FROM inv_delta();		-- miss, store, hit
INSERT INTO inv_cnt VALUES (3);
BEGIN;
INSERT INTO inv_cnt VALUES (4), (5);
SELECT inv_count_rows();		-- 5
COMMIT;
SELECT inv_count_rows();		-- 5
SELECT inv_count_rows();
SELECT * FROM inv_delta();		-- no hit before the last call

--
-- a prepared statement across writes, with a custom then a generic plan
--
PREPARE inv_q(int) AS SELECT id, v FROM inv_a WHERE id = $1;
EXECUTE inv_q(1);
EXECUTE inv_q(1);
EXECUTE inv_q(2);
EXECUTE inv_q(2);
SELECT * FROM inv_delta();		-- two misses, two stores, two hits
UPDATE inv_a SET v = v + 5 WHERE id = 1;
EXECUTE inv_q(1);			-- fresh
EXECUTE inv_q(2);			-- fresh too (same table)
EXECUTE inv_q(1);
EXECUTE inv_q(2);
SELECT * FROM inv_delta();
UPDATE inv_a SET v = v - 5 WHERE id = 1;
EXECUTE inv_q(1);			-- fresh
EXECUTE inv_q(1);
EXECUTE inv_q(2);
SELECT * FROM inv_delta();
DEALLOCATE inv_q;

--
-- cachealot.enabled = off still tracks writes
--
SELECT count(*), sum(v) FROM inv_a;
SELECT count(*), sum(v) FROM inv_a;
SELECT * FROM inv_delta();		-- miss, store, hit
SET cachealot.enabled = off;
UPDATE inv_a SET v = v + 1 WHERE id = 7;
SELECT count(*), sum(v) FROM inv_a;	-- not from the cache
SELECT * FROM inv_delta();
RESET cachealot.enabled;
SELECT count(*), sum(v) FROM inv_a;	-- fresh
SELECT count(*), sum(v) FROM inv_a;
SELECT * FROM inv_delta();
UPDATE inv_a SET v = v - 1 WHERE id = 7;
SELECT count(*), sum(v) FROM inv_a;	-- fresh
SELECT * FROM inv_delta();

--
-- a write through an automatically updatable view
--
SELECT * FROM inv_av ORDER BY id;
SELECT * FROM inv_av ORDER BY id;
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();		-- view: miss, store, hit; table (written since): miss, store
BEGIN;
UPDATE inv_av SET v = 1000 WHERE id = 1;
SELECT * FROM inv_av ORDER BY id;
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();		-- both bypassed
COMMIT;
SELECT * FROM inv_av ORDER BY id;	-- fresh: id 1 has 1000
SELECT * FROM inv_av ORDER BY id;
SELECT * FROM inv_a ORDER BY id;	-- fresh: id 1 has 1000
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();

--
-- ROLLBACK invalidates nothing committed
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
UPDATE inv_a SET v = 0;
DELETE FROM inv_a WHERE id = 7;
SELECT * FROM inv_a ORDER BY id;	-- own writes visible
ROLLBACK;
SELECT * FROM inv_a ORDER BY id;	-- unchanged
SELECT * FROM inv_a ORDER BY id;
-- the rolled-back writes leave this session free to use the cache: at
-- least the repeat hits
SELECT hits >= 1 AS hit, hits + misses = 2 AS cacheable,
       NOT invalidated AS nothing_invalidated FROM inv_delta();

--
-- ROLLBACK TO SAVEPOINT invalidates nothing committed
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_delta();
BEGIN;
SAVEPOINT s1;
UPDATE inv_a SET v = 0 WHERE id <= 3;
SELECT * FROM inv_a ORDER BY id;	-- own write visible
ROLLBACK TO SAVEPOINT s1;
SELECT * FROM inv_a ORDER BY id;	-- unchanged again
-- the transaction wrote inv_a in a rolled-back subtransaction: it must not
-- be served from the cache until it ends
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- unchanged
SELECT * FROM inv_a ORDER BY id;
SELECT hits >= 1 AS hit, hits + misses = 2 AS cacheable FROM inv_delta();

--
-- a write to inv_b leaves the entries of inv_a hitting
--
SELECT * FROM inv_a ORDER BY id;
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();		-- all three hit
BEGIN;
UPDATE inv_b SET note = 'changed' WHERE id = 1;
SELECT * FROM inv_a ORDER BY id;	-- inv_a still hits inside the writer
SELECT * FROM inv_b ORDER BY id;	-- inv_b bypasses inside the writer
SELECT * FROM inv_delta();
COMMIT;
SELECT * FROM inv_a ORDER BY id;	-- still a hit after the commit
SELECT * FROM inv_delta();
SELECT * FROM inv_b ORDER BY id;	-- fresh: id 1 is 'changed'
SELECT * FROM inv_b ORDER BY id;
SELECT * FROM inv_delta();
