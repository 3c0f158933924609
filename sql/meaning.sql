--
-- meaning: statements that change what a query means without writing its
-- tables (function bodies and settings, domains, operators, views,
-- policies, row-level security, role attributes, privileges) make the
-- cached results unreachable when they commit, and a role switch never
-- sees another role's cached rows nor gets around a missing privilege.
--
-- The sections named after CVE-2024-45624 have one test per leak that
-- pgpool-II advisory describes (a query cache serving rows across REVOKE,
-- SET ROLE and row-level security policies); each first proves the cache
-- served the query before the switch.
--
-- The domain section comes last so that, should it end the session, every
-- other section has run.
--
-- quiet: whether the extension exists depends on which test ran first
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cachealot;
RESET client_min_messages;
SELECT cachealot_flush() >= 0 AS flushed;
SELECT cachealot_reset_stats();

-- Was anything served from the cache since the last call?  Then reset.
-- SECURITY DEFINER: the roles below may not reset the counters themselves.
CREATE FUNCTION mn_hit() RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
DECLARE
    h bigint;
BEGIN
    SELECT hits INTO h FROM cachealot_stats();
    PERFORM cachealot_reset_stats();
    RETURN h > 0;
END
$$;

-- Hits and misses since the last call, then reset (both zero: bypassed).
CREATE FUNCTION mn_delta(OUT hits bigint, OUT misses bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    SELECT s.hits, s.misses INTO hits, misses FROM cachealot_stats() s;
    PERFORM cachealot_reset_stats();
END
$$;

-- All setup first: catalog changes make the whole database's entries
-- unreachable at commit.
CREATE ROLE regress_cachealot_mn_owner;
CREATE ROLE regress_cachealot_mn_a;
CREATE ROLE regress_cachealot_mn_b;
CREATE ROLE regress_cachealot_mn_c;
CREATE ROLE regress_cachealot_mn_readers;

CREATE TABLE mn_t (id int PRIMARY KEY, v int NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO mn_t VALUES (1, 10), (2, 150);

-- an IMMUTABLE SQL function, inlined at plan time
CREATE FUNCTION mn_f(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 * 2';
-- a function to be renamed away and replaced by another of the same name
CREATE FUNCTION mn_g(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + 1';
-- a function whose body depends on its own search_path setting
CREATE SCHEMA mn_s1;
CREATE SCHEMA mn_s2;
CREATE FUNCTION mn_s1.mn_helper(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + 1';
CREATE FUNCTION mn_s2.mn_helper(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + 1000';
CREATE FUNCTION mn_k(int) RETURNS int IMMUTABLE LANGUAGE sql
    SET search_path = mn_s1 AS 'SELECT mn_helper($1)';
-- a domain
CREATE DOMAIN mn_d AS int;
-- an operator, later re-created with another function
CREATE FUNCTION mn_plus(int, int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 + $2';
CREATE FUNCTION mn_times(int, int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 * $2';
CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = mn_plus);
-- a view, later replaced
CREATE VIEW mn_view AS SELECT id, v FROM mn_t WHERE v < 100;

-- row-level security: a table owned by a plain role, one policy per role
CREATE TABLE mn_docs (owner text NOT NULL, body text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO mn_docs VALUES ('a', 'a-1'), ('a', 'a-2'), ('b', 'b-1'),
    ('c', 'c-1');
ALTER TABLE mn_docs OWNER TO regress_cachealot_mn_owner;
ALTER TABLE mn_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY mn_pa ON mn_docs TO regress_cachealot_mn_a
    USING (owner = 'a');
CREATE POLICY mn_pb ON mn_docs TO regress_cachealot_mn_b
    USING (owner = 'b');
GRANT SELECT ON mn_docs TO regress_cachealot_mn_a, regress_cachealot_mn_b,
    regress_cachealot_mn_c;

-- privileges: a table readable by regress_cachealot_mn_a only, a table
-- with column privileges, a table readable through a group role
CREATE TABLE mn_secret (id int PRIMARY KEY, secret text NOT NULL,
                        pub text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO mn_secret VALUES (1, 'top secret', 'public info');
GRANT SELECT ON mn_secret TO regress_cachealot_mn_a;
CREATE TABLE mn_cols (id int PRIMARY KEY, open text NOT NULL,
                      closed text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO mn_cols VALUES (1, 'open-1', 'closed-1');
GRANT SELECT (id, open) ON mn_cols TO regress_cachealot_mn_a;
CREATE TABLE mn_grp (id int PRIMARY KEY, v text NOT NULL)
    WITH (autovacuum_enabled = off);
INSERT INTO mn_grp VALUES (1, 'group row');
GRANT SELECT ON mn_grp TO regress_cachealot_mn_readers;
GRANT regress_cachealot_mn_readers TO regress_cachealot_mn_b;

SELECT cachealot_reset_stats();

--
-- CREATE OR REPLACE FUNCTION of an IMMUTABLE SQL function (same OID)
--
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT mn_hit();
PREPARE mn_q AS SELECT id, mn_f(v) FROM mn_t ORDER BY id;
EXECUTE mn_q;
EXECUTE mn_q;
SELECT mn_hit();
BEGIN;
CREATE OR REPLACE FUNCTION mn_f(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 * 3';
SELECT id, mn_f(v) FROM mn_t ORDER BY id;	-- own change: times 3
ROLLBACK;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;	-- unchanged: times 2
EXECUTE mn_q;					-- unchanged: times 2
SELECT FROM cachealot_reset_stats();
BEGIN;
CREATE OR REPLACE FUNCTION mn_f(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 * 3';
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
COMMIT;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;	-- fresh: times 3
EXECUTE mn_q;					-- fresh: times 3
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT mn_hit();
EXECUTE mn_q;
SELECT mn_hit();
DEALLOCATE mn_q;

--
-- ALTER FUNCTION ... VOLATILE: the query is no longer cacheable; back to
-- IMMUTABLE, it is cached again
--
ALTER FUNCTION mn_f(int) VOLATILE;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT * FROM mn_delta();			-- bypassed
ALTER FUNCTION mn_f(int) IMMUTABLE;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT id, mn_f(v) FROM mn_t ORDER BY id;
SELECT mn_hit();

--
-- ALTER FUNCTION ... RENAME, and a new function under the old name
--
SELECT id, mn_g(v) FROM mn_t ORDER BY id;
SELECT id, mn_g(v) FROM mn_t ORDER BY id;
SELECT mn_hit();
BEGIN;
ALTER FUNCTION mn_g(int) RENAME TO mn_g_old;
CREATE FUNCTION mn_g(int) RETURNS int IMMUTABLE LANGUAGE sql
    AS 'SELECT $1 - 1';
SELECT id, mn_g(v) FROM mn_t ORDER BY id;	-- own change: minus 1
COMMIT;
SELECT id, mn_g(v) FROM mn_t ORDER BY id;	-- fresh: minus 1
SELECT id, mn_g(v) FROM mn_t ORDER BY id;
SELECT mn_hit();
ALTER FUNCTION mn_g(int) RENAME TO mn_g_new;
SELECT id, mn_g(v) FROM mn_t ORDER BY id;	-- error: no such function
SELECT id, mn_g_old(v) FROM mn_t ORDER BY id;

--
-- ALTER FUNCTION ... SET search_path: the body resolves another helper
--
SELECT id, mn_k(v) FROM mn_t ORDER BY id;
SELECT id, mn_k(v) FROM mn_t ORDER BY id;
SELECT mn_hit();
BEGIN;
ALTER FUNCTION mn_k(int) SET search_path = mn_s2;
SELECT id, mn_k(v) FROM mn_t ORDER BY id;	-- own change: plus 1000
ROLLBACK;
SELECT id, mn_k(v) FROM mn_t ORDER BY id;	-- unchanged: plus 1
SELECT FROM cachealot_reset_stats();
ALTER FUNCTION mn_k(int) SET search_path = mn_s2;
SELECT id, mn_k(v) FROM mn_t ORDER BY id;	-- fresh: plus 1000
SELECT id, mn_k(v) FROM mn_t ORDER BY id;
SELECT mn_hit();
-- and the helper itself replaced
CREATE OR REPLACE FUNCTION mn_s2.mn_helper(int) RETURNS int IMMUTABLE
    LANGUAGE sql AS 'SELECT $1 + 2000';
SELECT id, mn_k(v) FROM mn_t ORDER BY id;	-- fresh: plus 2000
SELECT id, mn_k(v) FROM mn_t ORDER BY id;
SELECT mn_hit();

--
-- an operator dropped and re-created with another function
--
SELECT id, v ### 3 FROM mn_t ORDER BY id;
SELECT id, v ### 3 FROM mn_t ORDER BY id;
SELECT mn_hit();
BEGIN;
DROP OPERATOR ### (int, int);
CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = mn_times);
SELECT id, v ### 3 FROM mn_t ORDER BY id;	-- own change: times 3
ROLLBACK;
SELECT id, v ### 3 FROM mn_t ORDER BY id;	-- unchanged: plus 3
SELECT FROM cachealot_reset_stats();
BEGIN;
DROP OPERATOR ### (int, int);
CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = mn_times);
COMMIT;
SELECT id, v ### 3 FROM mn_t ORDER BY id;	-- fresh: times 3
SELECT id, v ### 3 FROM mn_t ORDER BY id;
SELECT mn_hit();
-- the operator's function replaced in place
CREATE OR REPLACE FUNCTION mn_times(int, int) RETURNS int IMMUTABLE
    LANGUAGE sql AS 'SELECT $1 * $2 * 10';
SELECT id, v ### 3 FROM mn_t ORDER BY id;	-- fresh: times 30
SELECT id, v ### 3 FROM mn_t ORDER BY id;
SELECT mn_hit();

--
-- CREATE OR REPLACE VIEW
--
SELECT id, v FROM mn_view ORDER BY id;
SELECT id, v FROM mn_view ORDER BY id;
SELECT mn_hit();
CREATE OR REPLACE VIEW mn_view AS SELECT id, v FROM mn_t WHERE v > 100;
SELECT id, v FROM mn_view ORDER BY id;		-- fresh: id 2
SELECT id, v FROM mn_view ORDER BY id;
SELECT mn_hit();

--
-- policies: CREATE, ALTER, DROP POLICY; ENABLE / DISABLE ROW LEVEL
-- SECURITY; FORCE ROW LEVEL SECURITY for the owner
--
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
BEGIN;
ALTER POLICY mn_pa ON mn_docs USING (owner = 'c');
SET LOCAL ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- own change: c's row
ROLLBACK;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- unchanged: a's rows
RESET ROLE;
SELECT FROM cachealot_reset_stats();
ALTER POLICY mn_pa ON mn_docs USING (owner = 'c');
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: c's row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
-- a second permissive policy adds rows
CREATE POLICY mn_pa2 ON mn_docs TO regress_cachealot_mn_a
    USING (owner = 'b');
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: b's and c's
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
-- a restrictive policy removes some
CREATE POLICY mn_pr ON mn_docs AS RESTRICTIVE TO regress_cachealot_mn_a
    USING (body <> 'c-1');
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: b's only
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
DROP POLICY mn_pr ON mn_docs;
DROP POLICY mn_pa2 ON mn_docs;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: c's only
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
-- a policy moved to another role
ALTER POLICY mn_pa ON mn_docs TO regress_cachealot_mn_c;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: no policy, no rows
RESET ROLE;
ALTER POLICY mn_pa ON mn_docs TO regress_cachealot_mn_a USING (owner = 'a');
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: a's rows
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
-- row-level security disabled, then enabled again
ALTER TABLE mn_docs DISABLE ROW LEVEL SECURITY;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: every row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
ALTER TABLE mn_docs ENABLE ROW LEVEL SECURITY;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: a's rows
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
-- the owner is exempt, until FORCE ROW LEVEL SECURITY
SET ROLE regress_cachealot_mn_owner;
SELECT owner, body FROM mn_docs ORDER BY body;	-- every row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
ALTER TABLE mn_docs FORCE ROW LEVEL SECURITY;
SET ROLE regress_cachealot_mn_owner;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: no policy, no rows
RESET ROLE;
ALTER TABLE mn_docs NO FORCE ROW LEVEL SECURITY;
SET ROLE regress_cachealot_mn_owner;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: every row
RESET ROLE;

--
-- ALTER ROLE ... BYPASSRLS / NOBYPASSRLS
--
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
ALTER ROLE regress_cachealot_mn_a BYPASSRLS;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: every row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;
ALTER ROLE regress_cachealot_mn_a NOBYPASSRLS;
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- fresh: a's rows
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
RESET ROLE;

--
-- GRANT / REVOKE on a table and on columns
--
SET ROLE regress_cachealot_mn_b;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: no privilege
RESET ROLE;
GRANT SELECT ON mn_secret TO regress_cachealot_mn_b;
SET ROLE regress_cachealot_mn_b;
SELECT id, secret FROM mn_secret ORDER BY id;	-- allowed now
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT mn_hit();
RESET ROLE;
REVOKE SELECT ON mn_secret FROM regress_cachealot_mn_b;
SET ROLE regress_cachealot_mn_b;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: revoked
RESET ROLE;
-- columns
SET ROLE regress_cachealot_mn_a;
SELECT id, open FROM mn_cols ORDER BY id;
SELECT id, open FROM mn_cols ORDER BY id;
SELECT mn_hit();
SELECT id, closed FROM mn_cols ORDER BY id;	-- error: no column privilege
RESET ROLE;
GRANT SELECT (closed) ON mn_cols TO regress_cachealot_mn_a;
SET ROLE regress_cachealot_mn_a;
SELECT id, closed FROM mn_cols ORDER BY id;	-- allowed now
SELECT id, closed FROM mn_cols ORDER BY id;
SELECT mn_hit();
SELECT id, open FROM mn_cols ORDER BY id;
SELECT id, open FROM mn_cols ORDER BY id;
SELECT mn_hit();
RESET ROLE;
REVOKE SELECT (open) ON mn_cols FROM regress_cachealot_mn_a;
SET ROLE regress_cachealot_mn_a;
SELECT id, open FROM mn_cols ORDER BY id;	-- error: column revoked
SELECT id, closed FROM mn_cols ORDER BY id;	-- still allowed
RESET ROLE;
-- a privilege held through a group role: revoking the membership
SET ROLE regress_cachealot_mn_b;
SELECT id, v FROM mn_grp ORDER BY id;
SELECT id, v FROM mn_grp ORDER BY id;
SELECT mn_hit();
RESET ROLE;
REVOKE regress_cachealot_mn_readers FROM regress_cachealot_mn_b;
SET ROLE regress_cachealot_mn_b;
SELECT id, v FROM mn_grp ORDER BY id;		-- error: no longer a member
RESET ROLE;

--
-- CVE-2024-45624 (a): cached as a privileged role, then REVOKE
--
SET ROLE regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT mn_hit();
RESET ROLE;
-- revoked in a transaction that rolls back: still allowed
BEGIN;
REVOKE SELECT ON mn_secret FROM regress_cachealot_mn_a;
SET LOCAL ROLE regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: revoked here
ROLLBACK;
SET ROLE regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;	-- allowed
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT mn_hit();
RESET ROLE;
REVOKE SELECT ON mn_secret FROM regress_cachealot_mn_a;
SET ROLE regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: revoked
SELECT id, secret FROM mn_secret ORDER BY id;	-- error again
RESET ROLE;
-- the same text cached by the superuser is no way around it either
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: revoked
RESET ROLE;
SET SESSION AUTHORIZATION regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: revoked
RESET SESSION AUTHORIZATION;
GRANT SELECT ON mn_secret TO regress_cachealot_mn_a;

--
-- CVE-2024-45624 (b): cached as role A, then SET ROLE B: without the
-- privilege, permission denied; with it but another policy, B's rows only
--
SET ROLE regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_b;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: no privilege
RESET ROLE;
SET SESSION AUTHORIZATION regress_cachealot_mn_a;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT id, secret FROM mn_secret ORDER BY id;
SELECT mn_hit();
SET SESSION AUTHORIZATION regress_cachealot_mn_b;
SELECT id, secret FROM mn_secret ORDER BY id;	-- error: no privilege
RESET SESSION AUTHORIZATION;
-- policies
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_b;
SELECT owner, body FROM mn_docs ORDER BY body;	-- b's row only
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows again
RESET ROLE;
SET SESSION AUTHORIZATION regress_cachealot_mn_b;
SELECT owner, body FROM mn_docs ORDER BY body;	-- b's row only
SET SESSION AUTHORIZATION regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows
RESET SESSION AUTHORIZATION;
SELECT owner, body FROM mn_docs ORDER BY body;	-- superuser: every row
-- a role switch inside a transaction, and SET LOCAL ROLE
BEGIN;
SET LOCAL ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows
SET LOCAL ROLE regress_cachealot_mn_b;
SELECT owner, body FROM mn_docs ORDER BY body;	-- b's row only
COMMIT;
-- and through a SECURITY DEFINER function owned by another role
CREATE FUNCTION mn_docs_as_b() RETURNS SETOF text LANGUAGE plpgsql
    SECURITY DEFINER AS $$
BEGIN
    RETURN QUERY SELECT body FROM mn_docs ORDER BY body;
END
$$;
ALTER FUNCTION mn_docs_as_b() OWNER TO regress_cachealot_mn_b;
CREATE FUNCTION mn_docs_as_caller() RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT body FROM mn_docs ORDER BY body;
END
$$;
SET ROLE regress_cachealot_mn_a;
SELECT * FROM mn_docs_as_caller();		-- a's rows
SELECT * FROM mn_docs_as_caller();
SELECT mn_hit();
SELECT * FROM mn_docs_as_b();			-- b's row only
SELECT * FROM mn_docs_as_caller();		-- a's rows
RESET ROLE;

--
-- CVE-2024-45624 (c): rows cached for a user exempt from the policies (the
-- table owner, a BYPASSRLS role, a superuser) are never served to a user
-- subject to them
--
SET ROLE regress_cachealot_mn_owner;
SELECT owner, body FROM mn_docs ORDER BY body;	-- every row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows only
SET ROLE regress_cachealot_mn_b;
SELECT owner, body FROM mn_docs ORDER BY body;	-- b's row only
RESET ROLE;
ALTER ROLE regress_cachealot_mn_c BYPASSRLS;
SET ROLE regress_cachealot_mn_c;
SELECT owner, body FROM mn_docs ORDER BY body;	-- every row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows only
RESET ROLE;
SELECT owner, body FROM mn_docs ORDER BY body;	-- superuser: every row
SELECT owner, body FROM mn_docs ORDER BY body;
SELECT mn_hit();
SET ROLE regress_cachealot_mn_b;
SELECT owner, body FROM mn_docs ORDER BY body;	-- b's row only
RESET ROLE;
SET SESSION AUTHORIZATION regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- a's rows only
RESET SESSION AUTHORIZATION;
-- row_security = off: an error for a user subject to a policy, never the
-- cached rows of an exempt one
SET row_security = off;
SELECT owner, body FROM mn_docs ORDER BY body;	-- superuser: every row
SET ROLE regress_cachealot_mn_a;
SELECT owner, body FROM mn_docs ORDER BY body;	-- error
RESET ROLE;
RESET row_security;

--
-- ALTER DOMAIN ... ADD CONSTRAINT: the cast now fails for 150
--
SELECT id, v::mn_d FROM mn_t ORDER BY id;
SELECT id, v::mn_d FROM mn_t ORDER BY id;
SELECT mn_hit();
BEGIN;
ALTER DOMAIN mn_d ADD CONSTRAINT mn_d_small CHECK (VALUE < 100);
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- own change: error
ROLLBACK;
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- unchanged
SELECT FROM cachealot_reset_stats();
ALTER DOMAIN mn_d ADD CONSTRAINT mn_d_small CHECK (VALUE < 100);
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- error: 150 violates it
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- error again
SELECT id, v::mn_d FROM mn_t WHERE id = 1;
SELECT id, v::mn_d FROM mn_t WHERE id = 1;
SELECT mn_hit();
ALTER DOMAIN mn_d DROP CONSTRAINT mn_d_small;
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- fresh: both rows
SELECT id, v::mn_d FROM mn_t ORDER BY id;
SELECT mn_hit();
-- NOT NULL on the domain: the cast of a null now fails
ALTER TABLE mn_t ALTER COLUMN v DROP NOT NULL;
INSERT INTO mn_t VALUES (3, NULL);
SELECT id, v::mn_d FROM mn_t ORDER BY id;
SELECT id, v::mn_d FROM mn_t ORDER BY id;
SELECT mn_hit();
ALTER DOMAIN mn_d SET NOT NULL;
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- error: null
ALTER DOMAIN mn_d DROP NOT NULL;
SELECT id, v::mn_d FROM mn_t ORDER BY id;	-- fresh: three rows
DELETE FROM mn_t WHERE id = 3;

--
-- Clean up
--
DROP TABLE mn_t, mn_docs, mn_secret, mn_cols, mn_grp CASCADE;
DROP FUNCTION mn_f(int), mn_g_old(int), mn_g_new(int), mn_k(int),
    mn_docs_as_b(), mn_docs_as_caller();
DROP OPERATOR ### (int, int);
DROP FUNCTION mn_plus(int, int), mn_times(int, int);
DROP DOMAIN mn_d;
DROP SCHEMA mn_s1, mn_s2 CASCADE;
DROP ROLE regress_cachealot_mn_owner, regress_cachealot_mn_a,
    regress_cachealot_mn_b, regress_cachealot_mn_c,
    regress_cachealot_mn_readers;
DROP FUNCTION mn_hit(), mn_delta();
