--
-- upgrade: the extension's SQL objects by version.  A 1.0 installation keeps
-- working with this library, ALTER EXTENSION ... UPDATE brings it to 1.1,
-- and the result has the same objects as a fresh 1.1 installation.
--
\set regress_db :DBNAME
CREATE DATABASE regress_upgrade_old;
CREATE DATABASE regress_upgrade_new;

-- the objects of the extension, as a catalog listing that two databases
-- can be compared by
\set list_objects 'SELECT pg_describe_object(classid, objid, objsubid) AS object, CASE WHEN classid = ''pg_proc''::regclass THEN pg_get_function_identity_arguments(objid) || '' -> '' || pg_get_function_result(objid) END AS signature, CASE WHEN classid = ''pg_proc''::regclass THEN has_function_privilege(''public'', objid, ''EXECUTE'') END AS public_may_call FROM pg_depend WHERE refclassid = ''pg_extension''::regclass AND refobjid = (SELECT oid FROM pg_extension WHERE extname = ''cachealot'') AND deptype = ''e'' ORDER BY 1'

\c regress_upgrade_old
CREATE EXTENSION cachealot VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'cachealot';
-- the 1.0 function returns the 1.0 columns from this library
SELECT hits >= 0 AS hits, stats_reset IS NOT NULL AS stats_reset
  FROM cachealot_stats();
SELECT array_length(proallargtypes, 1) AS columns
  FROM pg_proc WHERE oid = 'cachealot_stats'::regproc;
ALTER EXTENSION cachealot UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'cachealot';
SELECT admission_skips >= 0 AS admission_skips,
       admission_rejects >= 0 AS admission_rejects
  FROM cachealot_stats();
:list_objects;

\c regress_upgrade_new
CREATE EXTENSION cachealot;
SELECT extversion FROM pg_extension WHERE extname = 'cachealot';
:list_objects;
-- the update path from 1.0 is the only one
SELECT source, target FROM pg_extension_update_paths('cachealot')
  WHERE path IS NOT NULL ORDER BY 1, 2;

\c :regress_db
DROP DATABASE regress_upgrade_old;
DROP DATABASE regress_upgrade_new;
