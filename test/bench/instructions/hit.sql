-- title: point lookup over 50 keys (hits after the first 50)
-- expect: hits=n-50 misses=50
SELECT format('SELECT v FROM t WHERE id = %s;', (i - 1) % 50 + 1) FROM generate_series(1, :n) AS i ORDER BY i;
