/* cachealot--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION cachealot" to load this file. \quit

CREATE FUNCTION cachealot_stats(
    OUT hits bigint,
    OUT misses bigint,
    OUT stores bigint,
    OUT bypasses bigint,
    OUT invalidations bigint,
    OUT evictions bigint,
    OUT admission_skips bigint,
    OUT admission_rejects bigint,
    OUT entries bigint,
    OUT memory_used bigint,
    OUT memory_limit bigint,
    OUT stats_reset timestamptz
)
RETURNS record
AS 'MODULE_PATHNAME', 'cachealot_stats'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION cachealot_flush()
RETURNS bigint
AS 'MODULE_PATHNAME', 'cachealot_flush'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION cachealot_invalidate(regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'cachealot_invalidate'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION cachealot_reset_stats()
RETURNS void
AS 'MODULE_PATHNAME', 'cachealot_reset_stats'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- dropping cached results and statistics is for administrators
REVOKE ALL ON FUNCTION cachealot_flush() FROM PUBLIC;
REVOKE ALL ON FUNCTION cachealot_invalidate(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION cachealot_reset_stats() FROM PUBLIC;
