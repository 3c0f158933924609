-- hot30: mixed, 30% hot keys: point.sql's lookup, 30% of the time on one of
-- 100 fixed hot keys (1, 1 + 1000 * scale, ..., 1 + 99000 * scale: spread
-- over the table), otherwise on a random key over all accounts.
\set r random(1, 100)
\if :r <= 30
\set aid 1 + random(0, 99) * 1000 * :scale
\else
\set aid random(1, 100000 * :scale)
\endif
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
