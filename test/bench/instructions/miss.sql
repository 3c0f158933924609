-- title: point lookup, every key distinct (all misses)
-- expect: hits=0 misses=n
SELECT format('SELECT v FROM t WHERE id = %s;', i) FROM generate_series(1, :n) AS i ORDER BY i;
