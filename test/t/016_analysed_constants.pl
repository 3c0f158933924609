
# Copyright (c) 2026, cachealot developers

# 016_analysed_constants: reproductions from an adversarial review, fixed.
#
#   A. a literal is read under the settings of parse analysis, the key under
#      those of the execution: PREPARE under MDY, EXECUTE under DMY stores
#      the MDY result under the DMY key; a later PREPARE of the same text
#      under DMY is served it.  Same with transform_null_equals and with a
#      PL/pgSQL statement across two sessions.
#   B. with query ids from core (compute_query_id = on), the SELECT actions
#      of one rule share the query id and the text of the statement that
#      fired them: the second is served the first one's rows.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;

my $node = CachealotNode->create(
	'review',
	settings => q{
cachealot.min_cost = 0
cachealot.admission = off
autovacuum = off
});

$node->safe_psql(
	'postgres', q{
CREATE TABLE days (d date);
INSERT INTO days SELECT d FROM generate_series('2024-01-01'::date, '2024-03-01', '1 day') d;
CREATE TABLE nn (a int);
INSERT INTO nn VALUES (1), (NULL), (NULL);
CREATE FUNCTION early() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM days WHERE d < '01/02/2024';
  RETURN n;
END $$;
});

# --- A1: PREPARE under MDY, EXECUTE under DMY -------------------------
my $a1 = $node->safe_psql(
	'postgres', q{
SET DateStyle = 'ISO, MDY';
PREPARE p AS SELECT count(*) FROM days WHERE d < '01/02/2024';
SET DateStyle = 'ISO, DMY';
EXECUTE p;
EXECUTE p;
DEALLOCATE p;
PREPARE p AS SELECT count(*) FROM days WHERE d < '01/02/2024';
EXECUTE p;
});
my $a1_truth = $node->truth(
	q{
SET DateStyle = 'ISO, MDY';
PREPARE p AS SELECT count(*) FROM days WHERE d < '01/02/2024';
SET DateStyle = 'ISO, DMY';
EXECUTE p;
EXECUTE p;
DEALLOCATE p;
PREPARE p AS SELECT count(*) FROM days WHERE d < '01/02/2024';
EXECUTE p;
});
note "A1 cachealot: " . join(' ', split /\n/, $a1);
note "A1 plain:     " . join(' ', split /\n/, $a1_truth);
is($a1, $a1_truth, 'A1: PREPARE under MDY, EXECUTE under DMY, re-PREPARE under DMY');

# --- A2: the same with transform_null_equals --------------------------
my $a2_sql = q{
SET transform_null_equals = on;
PREPARE q AS SELECT count(*) FROM nn WHERE a = NULL;
SET transform_null_equals = off;
EXECUTE q;
EXECUTE q;
DEALLOCATE q;
PREPARE q AS SELECT count(*) FROM nn WHERE a = NULL;
EXECUTE q;
};
my $a2 = $node->safe_psql('postgres', $a2_sql);
my $a2_truth = $node->truth($a2_sql);
note "A2 cachealot: " . join(' ', split /\n/, $a2);
note "A2 plain:     " . join(' ', split /\n/, $a2_truth);
is($a2, $a2_truth, 'A2: transform_null_equals changed between PREPARE and EXECUTE');

# --- A3: a PL/pgSQL statement, two sessions ---------------------------
$node->safe_psql('postgres', 'SELECT cachealot_flush()');
my $s1 = $node->safe_psql(
	'postgres', q{
SET DateStyle = 'ISO, MDY';
SELECT early();
SET DateStyle = 'ISO, DMY';
SELECT early();
SELECT early();
});
my $s2 = $node->safe_psql(
	'postgres', q{
SET DateStyle = 'ISO, DMY';
SELECT early();
});
my $s2_truth = $node->truth(q{
SET DateStyle = 'ISO, DMY';
SELECT early();
});
note "A3 session 1: " . join(' ', split /\n/, $s1);
note "A3 session 2: $s2, plain $s2_truth";
is($s2, $s2_truth, 'A3: a fresh DMY session calling the PL/pgSQL function');


# --- A4: a SQL function whose first statement changes DateStyle -------
$node->safe_psql('postgres', q{
CREATE FUNCTION sqlf() RETURNS bigint LANGUAGE sql AS $$
  SELECT set_config('datestyle', 'ISO, DMY', false);
  SELECT count(*) FROM days WHERE d < '01/02/2024';
$$;
SELECT cachealot_flush();
});
my $a4_sql = q{
SET DateStyle = 'ISO, MDY';
SELECT sqlf();
SELECT sqlf();
};
my $a4 = $node->safe_psql('postgres', $a4_sql);
my $a4_truth = $node->truth($a4_sql);
note "A4 cachealot: " . join(' ', split /\n/, $a4);
note "A4 plain:     " . join(' ', split /\n/, $a4_truth);
is($a4, $a4_truth, 'A4: SQL function body analysed before its first statement ran');


# --- A5: extended protocol (pgbench -M prepared) pollutes a simple query -
$node->safe_psql('postgres', 'SELECT cachealot_flush()');
my $script = PostgreSQL::Test::Utils::tempdir() . '/a5.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"SELECT count(*) FROM days WHERE d < '01/02/2024';\nSET DateStyle = 'ISO, DMY';\n");
my ($pb_out, $pb_err) = PostgreSQL::Test::Utils::run_command(
	[ 'pgbench', '-n', '-M', 'prepared', '-t', '2', '-f', $script,
	  '-h', $node->host, '-p', $node->port, 'postgres' ]);
note "pgbench: " . ($pb_err // '');
my $a5 = $node->safe_psql('postgres', q{
SET DateStyle = 'ISO, DMY';
SELECT count(*) FROM days WHERE d < '01/02/2024';
});
my $a5_truth = $node->truth(q{
SET DateStyle = 'ISO, DMY';
SELECT count(*) FROM days WHERE d < '01/02/2024';
});
note "A5 cachealot: $a5, plain: $a5_truth";
is($a5, $a5_truth, 'A5: a DMY simple query after a prepared statement parsed under MDY ran under DMY');


# --- A6: TimeZone between PREPARE and EXECUTE --------------------------
$node->safe_psql('postgres', q{
CREATE TABLE ts (t timestamptz);
INSERT INTO ts SELECT g FROM generate_series('2024-01-01 00:00+00'::timestamptz, '2024-01-02 00:00+00', '1 hour') g;
});
my $a6_sql = q{
SET TimeZone = 'UTC';
PREPARE z AS SELECT count(*) FROM ts WHERE t < '2024-01-01 12:00';
SET TimeZone = 'Asia/Tokyo';
EXECUTE z;
DEALLOCATE z;
PREPARE z AS SELECT count(*) FROM ts WHERE t < '2024-01-01 12:00';
EXECUTE z;
};
my $a6 = $node->safe_psql('postgres', $a6_sql);
my $a6_truth = $node->truth($a6_sql);
note "A6 cachealot: " . join(' ', split /\n/, $a6);
note "A6 plain:     " . join(' ', split /\n/, $a6_truth);
is($a6, $a6_truth, 'A6: TimeZone changed between PREPARE and EXECUTE');

# --- the cache was exercised: under one setting, the same analysed value
# hits (A1's second EXECUTE did too), and the DMY result of A1's
# re-PREPARE is what a DMY simple query of the same text is served
my $hits_out = $node->safe_psql(
	'postgres', q{
SELECT cachealot_reset_stats();
SET DateStyle = 'ISO, DMY';
SELECT count(*) FROM days WHERE d < '01/02/2024';
SELECT count(*) FROM days WHERE d < '01/02/2024';
SET DateStyle = 'ISO, MDY';
SELECT count(*) FROM days WHERE d < '01/02/2024';
SELECT count(*) FROM days WHERE d < '01/02/2024';
SELECT hits FROM cachealot_stats();
});
my @hits_lines = split /\n/, $hits_out;
is(join(' ', @hits_lines[1 .. 4]), '31 31 1 1',
	'the same text under DMY and MDY: the values each reads');
cmp_ok($hits_lines[-1], '>=', 2, 'and each hit its own entry');

# --- B: two SELECT actions of one rule --------------------------------
my $b = CachealotNode->create(
	'review_rules',
	settings => q{
cachealot.min_cost = 0
cachealot.admission = off
compute_query_id = on
autovacuum = off
});
$b->safe_psql(
	'postgres', q{
CREATE TABLE t1 (a int);
INSERT INTO t1 SELECT generate_series(1, 10);
CREATE VIEW v AS SELECT 1 AS x;
CREATE RULE r AS ON UPDATE TO v DO INSTEAD
  (SELECT a FROM t1 WHERE a <= 3; SELECT a FROM t1 WHERE a > 8);
});
my $b_cached = $b->safe_psql('postgres', 'UPDATE v SET x = 2');
my $b_again = $b->safe_psql('postgres', 'UPDATE v SET x = 2');
my $b_truth = $b->truth('UPDATE v SET x = 2');
note "B cachealot: " . join(' ', split /\n/, $b_cached);
note "B again:     " . join(' ', split /\n/, $b_again);
note "B plain:     " . join(' ', split /\n/, $b_truth);
note "B stats: " . $b->safe_psql('postgres', 'SELECT hits, misses, stores, bypasses FROM cachealot_stats()');
is($b_cached, $b_truth, 'B: two SELECT actions of a rule, first run');
is($b_again, $b_truth, 'B: two SELECT actions of a rule, second run');


# --- B2: the same with pg_stat_statements' query ids (compute_query_id = auto)
my $c = CachealotNode->create(
	'review_rules_pgss',
	library => 'pg_stat_statements, cachealot',
	settings => q{
cachealot.min_cost = 0
cachealot.admission = off
autovacuum = off
});
$c->safe_psql(
	'postgres', q{
CREATE TABLE t1 (a int);
INSERT INTO t1 SELECT generate_series(1, 10);
CREATE TABLE u (x int);
CREATE RULE r1 AS ON DELETE TO u DO ALSO SELECT a FROM t1 WHERE a <= 3;
CREATE RULE r2 AS ON DELETE TO u DO ALSO SELECT a FROM t1 WHERE a > 8;
});
my $c1 = $c->safe_psql('postgres', 'DELETE FROM u');
my $c2 = $c->safe_psql('postgres', 'DELETE FROM u');
my $c_truth = $c->truth('DELETE FROM u');
note "B2 cachealot: " . join(' ', split /\n/, $c1) . " / " . join(' ', split /\n/, $c2);
note "B2 plain:     " . join(' ', split /\n/, $c_truth);
is($c1, $c_truth, 'B2: two DO ALSO SELECT rules, pg_stat_statements loaded, first run');
is($c2, $c_truth, 'B2: second run');

# --- B3: default configuration (no core query ids): the rule actions bypass
my $d = CachealotNode->create('review_rules_default',
	settings => "cachealot.min_cost = 0\ncachealot.admission = off\nautovacuum = off\n");
$d->safe_psql('postgres', q{
CREATE TABLE t1 (a int);
INSERT INTO t1 SELECT generate_series(1, 10);
CREATE VIEW v AS SELECT 1 AS x;
CREATE RULE r AS ON UPDATE TO v DO INSTEAD
  (SELECT a FROM t1 WHERE a <= 3; SELECT a FROM t1 WHERE a > 8);
});
my $d1 = $d->safe_psql('postgres', 'UPDATE v SET x = 2');
$d1 = $d->safe_psql('postgres', 'UPDATE v SET x = 2');
note "B3 stats: " . $d->safe_psql('postgres', 'SELECT hits, misses, stores, bypasses FROM cachealot_stats()');
is($d1, $d->truth('UPDATE v SET x = 2'), 'B3: default configuration');

done_testing();
