-- title: `SELECT 1` (names no table: never cached)
-- expect: hits=0 misses=0
SELECT 'SELECT 1;' FROM generate_series(1, :n) AS i ORDER BY i;
