
# Copyright (c) 2026, cachealot developers

# 014_catalog_generation: after another session's catalog change, a
# session's plans made before it must not store (they may predate it), and
# storing must resume once the session has planned them again
# (catalog_view.c).  The isolation specs catalog_* pin down the races; this
# test checks that the rule costs only what README says, with sessions
# that live across the change:
#
#   1. a prepared statement and a PL/pgSQL function's cached plan, both
#      hitting; another session runs unrelated DDL; a write to the table
#      read; in the next transactions both are fresh and hit again;
#   2. a transaction open across the DDL: its reads are fresh, and after it
#      ends its statements hit again;
#   3. one-shot statements of a session that absorbs the DDL as its next
#      transaction starts store and hit as before;
#   4. a transaction open across a drop and re-create whose plan holds a
#      '{a}'::regclass[] constant: a fresh session gets the new OID.
# Every value is checked against the executor (cache off).

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode qw(read_counting check_and_hit);

my $node = CachealotNode->create(
	'catalog_generation', settings => q{
cachealot.min_cost = 0
autovacuum = off
});

$node->safe_psql(
	'postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;
CREATE FUNCTION t_sum() RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT sum(v) FROM t); END $$;
});

my $sum = 'SELECT sum(v) FROM t';

my $a = $node->background_psql('postgres');
$a->query_safe('PREPARE p AS SELECT sum(v) FROM t');

# ---------------------------------------------------------------------
# 1. saved plans across another session's DDL
# ---------------------------------------------------------------------
my $want = $node->truth($sum);
check_and_hit('before: prepared', $a, 'EXECUTE p', $want);
check_and_hit('before: PL/pgSQL', $a, 'SELECT t_sum()', $want);

$node->safe_psql('postgres', 'CREATE TABLE unrelated (x int)');
$node->safe_psql('postgres', 'UPDATE t SET v = v + 1 WHERE id = 1');
$want = $node->truth($sum);

# the first transaction after the change: plans made before it, fresh
my ($out) = read_counting($a, 'EXECUTE p');
is($out, $want, 'after the DDL and a write: prepared, fresh');
($out) = read_counting($a, 'SELECT t_sum()');
is($out, $want, 'after the DDL and a write: PL/pgSQL, fresh');

# planned again since: stored and served
check_and_hit('after: prepared', $a, 'EXECUTE p', $want);
check_and_hit('after: PL/pgSQL', $a, 'SELECT t_sum()', $want);

# ---------------------------------------------------------------------
# 2. a transaction open across the DDL
# ---------------------------------------------------------------------
$a->query_safe('BEGIN');
is($a->query_safe('EXECUTE p'), $want, 'open transaction: before the DDL');
$node->safe_psql('postgres', 'CREATE TABLE unrelated2 (x int)');
$node->safe_psql('postgres', 'UPDATE t SET v = v + 1 WHERE id = 2');
# READ COMMITTED: each statement sees the write
$want = $node->truth($sum);
is($a->query_safe('EXECUTE p'), $want, 'open transaction: fresh after the write');
is($a->query_safe('EXECUTE p'), $want, 'open transaction: fresh again');
is($a->query_safe($sum), $want, 'open transaction: a one-shot statement, fresh');
$a->query_safe('COMMIT');
($out) = read_counting($a, 'EXECUTE p');
is($out, $want, 'after the open transaction: fresh');
check_and_hit('after the open transaction', $a, 'EXECUTE p', $want);

# ---------------------------------------------------------------------
# 3. one-shot statements absorb the change as their transaction starts
# ---------------------------------------------------------------------
my $b = $node->background_psql('postgres');
check_and_hit('one-shot: before', $b, $sum, $want);
$node->safe_psql('postgres', 'CREATE TABLE unrelated3 (x int)');
$node->safe_psql('postgres', 'UPDATE t SET v = v + 1 WHERE id = 3');
$want = $node->truth($sum);
check_and_hit('one-shot: after the DDL', $b,
	$sum, $want);

# ---------------------------------------------------------------------
# 4. a transaction open across a drop and re-create: its plan keeps a
#    '{a}'::regclass[] constant naming the dropped table (as plain
#    PostgreSQL's does); what it runs must not be served to others.  Two
#    defences hold it: the transaction stores nothing across the change,
#    and the key holds the array's OIDs (found by an adversarial review,
#    with neither in place)
# ---------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE TABLE a (x int)');
my $rc = q{SELECT k, '{a}'::regclass[]::oid[] AS o FROM t WHERE id = 1};
$rc =~ s/k, /id AS k, /;
$a->query_safe('BEGIN');
$a->query_safe("PREPARE rc AS $rc");
my $old = $a->query_safe('EXECUTE rc');
$node->safe_psql('postgres', 'DROP TABLE a; CREATE TABLE a (x int)');
is($a->query_safe('EXECUTE rc'), $old, 'open transaction: its plan keeps the old OID');
$a->query_safe('EXECUTE rc') for 1 .. 2;
$a->query_safe('COMMIT');
my $c = $node->background_psql('postgres');
$c->query_safe("PREPARE rc AS $rc");
my $fresh = $node->truth($rc);
isnt($fresh, $old, 'the re-created table has another OID');
check_and_hit('a fresh session after the re-create', $c, 'EXECUTE rc', $fresh);

$a->quit;
$b->quit;
$c->quit;
$node->stop;
done_testing();
