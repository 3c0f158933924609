-- cachealot.min_cost: plans estimated cheaper than it are not cached
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;

CREATE TABLE adm_t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO adm_t SELECT g, g % 7 FROM generate_series(1, 20000) g;
ANALYZE adm_t;

-- a cheap primary-key lookup and an expensive aggregate
CREATE FUNCTION adm_plan_cost(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
	RETURN (j -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END $$;
SELECT adm_plan_cost('SELECT v FROM adm_t WHERE id = 5') < 100 AS lookup_is_cheap,
       adm_plan_cost('SELECT v, count(*) FROM adm_t GROUP BY v ORDER BY v') > 100 AS aggregate_is_not;

SET cachealot.min_cost = 100;
SELECT cachealot_reset_stats();
SELECT v FROM adm_t WHERE id = 5;
SELECT v FROM adm_t WHERE id = 5;
SELECT v, count(*) FROM adm_t GROUP BY v ORDER BY v;
SELECT v, count(*) FROM adm_t GROUP BY v ORDER BY v;
-- the lookup bypassed twice (plus the stats query), the aggregate hit once
SELECT hits, misses, stores, bypasses - 1 AS bypasses FROM cachealot_stats();

-- at 0 (the default) the lookup is cached as well
RESET cachealot.min_cost;
SELECT cachealot_reset_stats();
SELECT v FROM adm_t WHERE id = 5;
SELECT v FROM adm_t WHERE id = 5;
SELECT hits, misses, stores FROM cachealot_stats();

-- out of range
SET cachealot.min_cost = -1;

DROP TABLE adm_t;
DROP FUNCTION adm_plan_cost(text);
