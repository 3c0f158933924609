-- one committed single-row write to pgbench_accounts (read-mostly writes,
-- invalidation vs size): every commit invalidates the table's cached results.
\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
