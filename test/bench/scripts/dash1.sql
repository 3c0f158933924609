-- dashboard 1: per-branch account statistics (scan of pgbench_accounts).
-- (No min() or max() in the dashboard: pgpool-II 4.3.5 never caches a query
-- that calls them, and this workload compares cache hits.)
SELECT bid, count(*), sum(abalance), avg(abalance), sum(abalance) FILTER (WHERE abalance < 0) AS debits FROM pgbench_accounts GROUP BY bid ORDER BY bid;
