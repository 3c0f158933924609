-- title: 90% point lookups over 200 keys, every 10th statement an `UPDATE` of one of them (each makes t's results unreachable: all misses)
-- expect: hits=0 misses=n-n/10
-- Statement i (from 1): i % 10 = 0 updates key u % 200 + 1 (u = i / 10 - 1,
-- the updates so far); any other looks up key j % 200 + 1 (j = i - i / 10 - 1,
-- the lookups so far). Each UPDATE makes every cached result of t unreachable.
SELECT CASE WHEN i % 10 = 0
            THEN format('UPDATE t SET v = v + 1 WHERE id = %s;', (i / 10 - 1) % 200 + 1)
            ELSE format('SELECT v FROM t WHERE id = %s;', (i - i / 10 - 1) % 200 + 1) END
  FROM generate_series(1, :n) AS i ORDER BY i;
