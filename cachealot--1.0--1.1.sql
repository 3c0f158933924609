/* cachealot--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION cachealot UPDATE TO '1.1'" to load this file. \quit

-- cachealot_stats() gains the admission counters (a function's result
-- columns cannot change in place)
DROP FUNCTION cachealot_stats();

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
