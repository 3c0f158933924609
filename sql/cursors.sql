--
-- cursors: rows stay right and complete when a query is fetched in pieces,
-- scrolled, held across COMMIT or abandoned part way; a partly fetched
-- result is never stored.  PL/pgSQL FOR loops and RETURN QUERY are cached.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Counters since the last call, then reset.
CREATE FUNCTION cur_delta(OUT hits bigint, OUT misses bigint, OUT stores bigint)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.hits, s.misses, s.stores INTO hits, misses, stores
      FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- All DDL first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE TABLE cur_t (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO cur_t SELECT g, 'row ' || g FROM generate_series(1, 10) g;
CREATE TABLE cur_big (id int PRIMARY KEY);
INSERT INTO cur_big SELECT generate_series(1, 100);

-- every row of cur_big through a FOR loop
CREATE FUNCTION cur_for_all(OUT n bigint, OUT total bigint) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    n := 0;
    total := 0;
    FOR r IN SELECT id FROM cur_big ORDER BY id LOOP
        n := n + 1;
        total := total + r.id;
    END LOOP;
END
$$;
-- the same loop, left after k rows
CREATE FUNCTION cur_for_exit(k int, OUT n bigint, OUT total bigint) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    n := 0;
    total := 0;
    FOR r IN SELECT id FROM cur_big ORDER BY id LOOP
        n := n + 1;
        total := total + r.id;
        EXIT WHEN n >= k;
    END LOOP;
END
$$;
-- an explicit PL/pgSQL cursor over the same query, fetched k rows, closed
CREATE FUNCTION cur_open_fetch(k int, OUT n bigint, OUT total bigint) LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    i int;
BEGIN
    n := 0;
    total := 0;
    OPEN c NO SCROLL FOR SELECT id FROM cur_big ORDER BY id;
    LOOP
        FETCH c INTO i;
        EXIT WHEN NOT FOUND;
        n := n + 1;
        total := total + i;
        EXIT WHEN n >= k;
    END LOOP;
    CLOSE c;
END
$$;
-- the same with a cursor left to default scrollability
CREATE FUNCTION cur_open_fetch_default(k int, OUT n bigint, OUT total bigint) LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    i int;
BEGIN
    n := 0;
    total := 0;
    OPEN c FOR SELECT id FROM cur_big ORDER BY id;
    LOOP
        FETCH c INTO i;
        EXIT WHEN NOT FOUND;
        n := n + 1;
        total := total + i;
        EXIT WHEN n >= k;
    END LOOP;
    CLOSE c;
END
$$;
CREATE FUNCTION cur_return_query() RETURNS SETOF cur_t LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT id, v FROM cur_t WHERE id <= 4 ORDER BY id;
END
$$;
CREATE FUNCTION cur_return_query_p(p_min int) RETURNS SETOF cur_t LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT id, v FROM cur_t WHERE id >= p_min AND id < p_min + 2 ORDER BY id;
END
$$;
-- a SQL function: one row per call in a target list, all at once in FROM
CREATE FUNCTION cur_sqlf() RETURNS SETOF int LANGUAGE sql
    AS 'SELECT id AS x FROM cur_big ORDER BY id';
CREATE FUNCTION cur_for_rows() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, v FROM cur_t WHERE id > 6 ORDER BY id LOOP
        RETURN NEXT r.id || '=' || r.v;
    END LOOP;
END
$$;

SELECT cachealot_reset_stats();

--
-- a cursor over a cached query, fetched in pieces
--
SELECT id, v FROM cur_t ORDER BY id;
SELECT id, v FROM cur_t ORDER BY id;
SELECT * FROM cur_delta();		-- miss, store, hit
BEGIN;
DECLARE c CURSOR FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH 2 FROM c;
FETCH 3 FROM c;
FETCH ALL FROM c;
FETCH ALL FROM c;				-- nothing left
COMMIT;
-- the same declared twice, so that a first run could have stored it
BEGIN;
DECLARE c NO SCROLL CURSOR FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH 4 FROM c;
FETCH ALL FROM c;
CLOSE c;
DECLARE c NO SCROLL CURSOR FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH 1 FROM c;
FETCH 2 FROM c;
FETCH ALL FROM c;
COMMIT;
SELECT id, v FROM cur_t ORDER BY id;	-- still all rows
SELECT hits >= 1 AS plain_query_hit FROM cur_delta();

--
-- a SCROLL cursor
--
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH ABSOLUTE 3 FROM c;		-- 3
MOVE BACKWARD 2 IN c;			-- on 1
FETCH NEXT FROM c;				-- 2
FETCH PRIOR FROM c;				-- 1
FETCH LAST FROM c;				-- 10
FETCH BACKWARD 3 FROM c;		-- 9, 8, 7
FETCH RELATIVE -2 FROM c;		-- 5
FETCH FORWARD ALL FROM c;		-- 6 .. 10
FETCH FIRST FROM c;				-- 1
FETCH ABSOLUTE -1 FROM c;		-- 10
COMMIT;
-- declared twice in one transaction, read backward then forward
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH ALL FROM c;
FETCH BACKWARD ALL FROM c;
CLOSE c;
DECLARE c SCROLL CURSOR FOR SELECT id, v FROM cur_t ORDER BY id;
MOVE FORWARD 8 IN c;
FETCH ALL FROM c;				-- 9, 10
FETCH BACKWARD 2 FROM c;		-- 10, 9
COMMIT;

--
-- a WITH HOLD cursor
--
BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH 2 FROM c;
COMMIT;
FETCH ALL FROM c;				-- 3 .. 10
CLOSE c;
-- a held cursor keeps the rows of its own snapshot; a new query sees a
-- write committed meanwhile
BEGIN;
DECLARE c SCROLL CURSOR WITH HOLD FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH 2 FROM c;
COMMIT;
UPDATE cur_t SET v = 'changed' WHERE id IN (2, 5);
FETCH ALL FROM c;				-- 3 .. 10, row 5 unchanged
FETCH FIRST FROM c;				-- 1
FETCH NEXT FROM c;				-- 2, unchanged
CLOSE c;
SELECT id, v FROM cur_t ORDER BY id;	-- fresh: rows 2 and 5 changed
SELECT id, v FROM cur_t ORDER BY id;
SELECT * FROM cur_delta();		-- miss, store, hit
-- a WITH HOLD cursor over the now cached query
BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT id, v FROM cur_t ORDER BY id;
FETCH 3 FROM c;
COMMIT;
FETCH 3 FROM c;
FETCH ALL FROM c;
CLOSE c;

--
-- psql's FETCH_COUNT reads every result through a NO SCROLL cursor in pieces
--
\set FETCH_COUNT 3
\pset format unaligned
SELECT id, v FROM cur_t WHERE id % 2 = 0 ORDER BY id;
SELECT id, v FROM cur_t WHERE id % 2 = 0 ORDER BY id;
\pset format aligned
\unset FETCH_COUNT
SELECT id, v FROM cur_t WHERE id % 2 = 0 ORDER BY id;
SELECT id, v FROM cur_t WHERE id % 2 = 0 ORDER BY id;

--
-- PL/pgSQL: cursors and FOR loops left part way never store a partial
-- result.  All four functions run the same query text (one key).
--
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();
SELECT * FROM cur_open_fetch(3);
SELECT * FROM cur_open_fetch(3);
SELECT * FROM cur_open_fetch_default(3);
SELECT * FROM cur_open_fetch_default(3);
SELECT * FROM cur_for_exit(3);
SELECT * FROM cur_for_exit(3);
SELECT * FROM cur_for_exit(25);
-- the FOR loops (at least) looked the query up, and nothing was stored
SELECT misses >= 3 AS looked_up, stores AS partial_results_stored, hits
  FROM cur_delta();
-- all rows, however the query is read now
SELECT * FROM cur_for_all();
SELECT * FROM cur_for_all();
SELECT * FROM cur_delta();		-- miss, store, hit
SELECT * FROM cur_open_fetch(1000);
SELECT * FROM cur_for_exit(1000);
SELECT * FROM cur_open_fetch(3);
SELECT * FROM cur_for_exit(3);
SELECT * FROM cur_for_all();
SELECT count(*), sum(id) FROM cur_big;
-- a cursor read to the end first, then loops over the same query
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();
SELECT * FROM cur_open_fetch(1000);
SELECT * FROM cur_for_all();
SELECT * FROM cur_for_exit(3);
SELECT * FROM cur_for_all();

--
-- SQL functions read one row per call when called in a target list: an
-- outer LIMIT leaves the function's query part way, which must not store
--
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();
SELECT cur_sqlf() LIMIT 3;
SELECT cur_sqlf() LIMIT 3;
SELECT misses >= 2 AS looked_up, stores AS partial_results_stored, hits
  FROM cur_delta();
SELECT count(*), sum(x) FROM (SELECT cur_sqlf() AS x) s;
SELECT count(*), sum(x) FROM (SELECT cur_sqlf() AS x) s;
SELECT count(*), sum(x) FROM cur_sqlf() x;
SELECT * FROM cur_delta();		-- miss, store, two hits
SELECT cur_sqlf() LIMIT 3;		-- part of a hit
SELECT count(*), sum(x) FROM cur_sqlf() x;
SELECT * FROM cur_delta();		-- two hits

--
-- PL/pgSQL FOR loop and RETURN QUERY over cached queries
--
SELECT cachealot_reset_stats();
SELECT * FROM cur_for_rows();
SELECT * FROM cur_for_rows();
SELECT * FROM cur_return_query();
SELECT * FROM cur_return_query();
SELECT * FROM cur_delta();		-- each: miss, store, hit
UPDATE cur_t SET v = 'new' WHERE id IN (3, 8);
SELECT * FROM cur_for_rows();	-- fresh: 8=new
SELECT * FROM cur_return_query();	-- fresh: 3 is new
SELECT * FROM cur_for_rows();
SELECT * FROM cur_return_query();
SELECT * FROM cur_delta();		-- each: miss, store, hit
-- the parameter is part of the key
SELECT * FROM cur_return_query_p(2);
SELECT * FROM cur_return_query_p(5);
SELECT * FROM cur_return_query_p(2);
SELECT * FROM cur_return_query_p(5);
SELECT * FROM cur_delta();		-- two misses and stores, two hits
