-- title: single-row `UPDATE` by primary key, every key distinct
-- expect: hits=0 misses=0
SELECT format('UPDATE t SET v = v + 1 WHERE id = %s;', i) FROM generate_series(1, :n) AS i ORDER BY i;
