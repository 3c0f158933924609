-- title: grouped aggregate over 1,000 rows in 10 groups, repeated (hits after the first)
-- expect: hits=n-1 misses=1
SELECT 'SELECT g, count(*), sum(v) FROM t2 GROUP BY g;' FROM generate_series(1, :n) AS i ORDER BY i;
