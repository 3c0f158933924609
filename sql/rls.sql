--
-- rls: row-level security.  A cached result is only ever served to the
-- user it was computed for (DESIGN 3.1: the key holds GetUserId(), which
-- role-targeted policies follow), and a policy that depends on the session
-- (current_user) makes the query uncacheable.
--
-- Counters are read right after cachealot_reset_stats(); the SELECT that
-- reads cachealot_stats() is itself a bypass, so every "bypasses" value
-- below includes that one.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Setup first (catalog changes make every entry unreachable at commit)
CREATE ROLE regress_cachealot_alice;
CREATE ROLE regress_cachealot_bob;

-- role-targeted policies with constant predicates
CREATE TABLE rls_docs (owner text, body text) WITH (autovacuum_enabled = off);
INSERT INTO rls_docs VALUES
  ('alice', 'alice-1'), ('alice', 'alice-2'),
  ('bob', 'bob-1'), ('carol', 'carol-1');
ALTER TABLE rls_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_alice ON rls_docs TO regress_cachealot_alice
  USING (owner = 'alice');
CREATE POLICY p_bob ON rls_docs TO regress_cachealot_bob
  USING (owner = 'bob');
GRANT SELECT ON rls_docs TO regress_cachealot_alice, regress_cachealot_bob;

-- a policy that depends on the session user
CREATE TABLE rls_mine (owner name, body text) WITH (autovacuum_enabled = off);
INSERT INTO rls_mine VALUES
  ('regress_cachealot_alice', 'mine-alice'),
  ('regress_cachealot_bob', 'mine-bob'),
  ('somebody_else', 'mine-else');
ALTER TABLE rls_mine ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_mine ON rls_mine USING (owner = current_user);
GRANT SELECT ON rls_mine TO regress_cachealot_alice, regress_cachealot_bob;

-- a policy that depends on a setting (multi-tenant style)
CREATE TABLE rls_tenant (tenant text, body text)
  WITH (autovacuum_enabled = off);
INSERT INTO rls_tenant VALUES ('t1', 'tenant-1'), ('t2', 'tenant-2');
ALTER TABLE rls_tenant ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_tenant ON rls_tenant
  USING (tenant = current_setting('regress_cachealot.tenant'));
GRANT SELECT ON rls_tenant TO regress_cachealot_alice;

-- a policy whose qual reads another table
CREATE TABLE rls_shared (body text) WITH (autovacuum_enabled = off);
CREATE TABLE rls_grants (body text, grantee text)
  WITH (autovacuum_enabled = off);
INSERT INTO rls_shared VALUES ('s-1'), ('s-2'), ('s-3');
INSERT INTO rls_grants VALUES ('s-1', 'alice');
ALTER TABLE rls_shared ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_shared ON rls_shared TO regress_cachealot_alice
  USING (body IN (SELECT g.body FROM rls_grants g WHERE g.grantee = 'alice'));
GRANT SELECT ON rls_shared TO regress_cachealot_alice;
-- the policy's subquery runs with the privileges of the querying user
GRANT SELECT ON rls_grants TO regress_cachealot_alice;

--
-- Role-targeted policies: each role sees only its rows, and its second run
-- is a hit
--
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_docs ORDER BY body;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();
SET ROLE regress_cachealot_bob;
SELECT owner, body FROM rls_docs ORDER BY body;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();

-- alternate again: still only their own rows, now all from the cache
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
SET ROLE regress_cachealot_bob;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();

-- the table owner (a superuser here) is not subject to the policies
SELECT cachealot_reset_stats();
SELECT owner, body FROM rls_docs ORDER BY body;
SELECT owner, body FROM rls_docs ORDER BY body;
SELECT hits, misses, stores FROM cachealot_stats();

-- with row_security off a policy-bound user gets an error, not rows
SET ROLE regress_cachealot_alice;
SET row_security = off;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET row_security;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;

-- a prepared statement: each role its own rows, each one hit
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
PREPARE rls_q(text) AS SELECT body FROM rls_docs WHERE body <> $1 ORDER BY body;
EXECUTE rls_q('x');
EXECUTE rls_q('x');
RESET ROLE;
SET ROLE regress_cachealot_bob;
EXECUTE rls_q('x');
EXECUTE rls_q('x');
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();
DEALLOCATE rls_q;

--
-- A policy on current_user: uncacheable, and still filtered per role
--
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_mine ORDER BY body;
SELECT owner, body FROM rls_mine ORDER BY body;
RESET ROLE;
SET ROLE regress_cachealot_bob;
SELECT owner, body FROM rls_mine ORDER BY body;
SELECT owner, body FROM rls_mine ORDER BY body;
RESET ROLE;
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_mine ORDER BY body;
RESET ROLE;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();

--
-- A policy on current_setting(): uncacheable, filtered by the setting
--
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
SET regress_cachealot.tenant = 't1';
SELECT tenant, body FROM rls_tenant ORDER BY body;
SELECT tenant, body FROM rls_tenant ORDER BY body;
SET regress_cachealot.tenant = 't2';
SELECT tenant, body FROM rls_tenant ORDER BY body;
SET regress_cachealot.tenant = 't1';
SELECT tenant, body FROM rls_tenant ORDER BY body;
RESET regress_cachealot.tenant;
RESET ROLE;
SELECT hits, misses, stores, bypasses FROM cachealot_stats();

--
-- A policy reading another table: a write to that table invalidates
--
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
SELECT body FROM rls_shared ORDER BY body;
SELECT body FROM rls_shared ORDER BY body;
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();
INSERT INTO rls_grants VALUES ('s-3', 'alice');
SELECT cachealot_reset_stats();
SET ROLE regress_cachealot_alice;
SELECT body FROM rls_shared ORDER BY body;
SELECT body FROM rls_shared ORDER BY body;
RESET ROLE;
SELECT hits, misses, stores FROM cachealot_stats();
DELETE FROM rls_grants WHERE body = 's-1';
SET ROLE regress_cachealot_alice;
SELECT body FROM rls_shared ORDER BY body;
RESET ROLE;

--
-- A policy change takes effect at once
--
SET ROLE regress_cachealot_bob;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
ALTER POLICY p_bob ON rls_docs USING (owner IN ('bob', 'carol'));
SET ROLE regress_cachealot_bob;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
DROP POLICY p_alice ON rls_docs;
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
ALTER TABLE rls_docs DISABLE ROW LEVEL SECURITY;
SET ROLE regress_cachealot_alice;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;
SET ROLE regress_cachealot_bob;
SELECT owner, body FROM rls_docs ORDER BY body;
RESET ROLE;

--
-- Clean up
--
DROP TABLE rls_docs, rls_mine, rls_tenant, rls_shared, rls_grants;
DROP ROLE regress_cachealot_alice;
DROP ROLE regress_cachealot_bob;
