-- miss: a primary-key lookup that never repeats. :run is unique to each
-- pgbench run (-D run=N), :client_id to each client and :k counts the
-- client's transactions (-D k=0), so every execution has a new key
-- (new text with -M simple, new parameters with -M prepared) and is a
-- cacheable miss that gets captured and stored.
\set k :k + 1
\set aid random(1, 100000 * :scale)
SELECT abalance, :run AS run, :client_id AS client, :k AS k FROM pgbench_accounts WHERE aid = :aid;
