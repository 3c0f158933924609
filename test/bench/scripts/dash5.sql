-- dashboard 5: top blocks of accounts by total balance
SELECT aid / 10000 AS block, sum(abalance) AS total, count(*) AS accounts FROM pgbench_accounts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10;
