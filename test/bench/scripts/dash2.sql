-- dashboard 2: branches joined to their accounts
SELECT b.bid, b.bbalance, count(a.aid) AS accounts, sum(a.abalance) AS total FROM pgbench_branches b JOIN pgbench_accounts a ON a.bid = b.bid GROUP BY b.bid, b.bbalance ORDER BY b.bid;
