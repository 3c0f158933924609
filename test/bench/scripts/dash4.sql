-- dashboard 4: tellers joined to an aggregate over accounts
SELECT t.bid, count(*) AS tellers, sum(t.tbalance) AS teller_total, a.accounts FROM pgbench_tellers t JOIN (SELECT bid, count(*) AS accounts FROM pgbench_accounts GROUP BY bid) a ON a.bid = t.bid GROUP BY t.bid, a.accounts ORDER BY t.bid;
