-- title: `PREPARE`/`EXECUTE` point lookup, every key distinct (all misses)
-- expect: hits=0 misses=n
SELECT 'PREPARE p AS SELECT v FROM t WHERE id = $1;';
SELECT format('EXECUTE p(%s);', i) FROM generate_series(1, :n) AS i ORDER BY i;
