-- dashboard 3: distinct count (sort of every balance)
SELECT count(DISTINCT abalance) AS balances, count(*) FILTER (WHERE abalance < 0) AS negative FROM pgbench_accounts;
