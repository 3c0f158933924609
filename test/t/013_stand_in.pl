
# Copyright (c) 2026, cachealot developers

# 013_stand_in: a statement the client sends whose result is cached is
# served without being planned (a stand-in plan, src/stand_in.c), and is
# planned after all, with the right rows, whenever the hit cannot be
# served at ExecutorStart.
#
#   1. simple protocol: a cached aggregate is served again and again, with
#      the right rows and without being planned again (pg_stat_statements
#      counts its plans); EXPLAIN still shows the real plan;
#   2. the transaction wrote the table: the stand-in is planned for real
#      and the transaction sees its own write; after ROLLBACK, hits again;
#   3. a REPEATABLE READ snapshot older than the entry: another session
#      commits a write and a third caches the new result; the old snapshot
#      gets its old rows (planned for real), not the entry's;
#   4. two statements in one query string each get their own result;
#   5. permissions: a role without SELECT on the table is refused, also
#      when the statement is cached for another role; a view is checked
#      through its owner as always;
#   6. min_cost raised above the entry's plan cost: not served;
#   7. plan caches: pgbench -M prepared and -M extended over a warm cache
#      (the prepared statements' plans are made while the entry exists, so
#      they are stand-ins kept by the plan cache), one client, with a write
#      to the table every round: every read is checked against an uncached
#      read just before it, and both hits and misses happen.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode qw(session_hits);

# pg_stat_statements counts plans: a statement served without planning
# shows as a call without a plan (its planner hook runs inside ours, so it
# is loaded first)
my $node = CachealotNode->create(
	'stand_in',
	library => 'pg_stat_statements, cachealot',
	settings => q{
cachealot.min_cost = 0
autovacuum = off
pg_stat_statements.track_planning = on
});

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_stat_statements;
CREATE TABLE t (id int PRIMARY KEY, grp int NOT NULL, v int NOT NULL);
INSERT INTO t SELECT g, g % 3, g FROM generate_series(1, 3000) g;
CREATE TABLE other (id int PRIMARY KEY);
CREATE VIEW t_view AS SELECT grp, count(*) AS n FROM t GROUP BY grp;
CREATE ROLE reader LOGIN;
CREATE ROLE outsider LOGIN;
GRANT SELECT ON t, t_view TO reader;
GRANT SELECT ON t_view TO outsider;
GRANT EXECUTE ON FUNCTION cachealot_stats() TO reader, outsider;
ANALYZE;
});

my $agg = 'SELECT grp, sum(v) FROM t GROUP BY grp ORDER BY grp';
my $uncached = 'SELECT grp, sum(v) FROM t WHERE random() >= 0 GROUP BY grp ORDER BY grp';

# ---------------------------------------------------------------------
# 1. served without planning, with the right rows
# ---------------------------------------------------------------------
my $s = $node->background_psql('postgres');
my $truth = $s->query_safe($uncached);
is($s->query_safe($agg), $truth, 'first run: right rows');
my $h0 = session_hits($s);
for my $i (1 .. 5)
{
	is($s->query_safe($agg), $truth, "cached run $i: right rows");
}
is(session_hits($s) - $h0, 5, 'every repeat is a hit');
is( $s->query_safe(
		q{SELECT calls || ' ' || plans FROM pg_stat_statements
		  WHERE query = 'SELECT grp, sum(v) FROM t GROUP BY grp ORDER BY grp'}),
	'6 1',
	'six calls, one plan: the repeats were not planned');
like($s->query_safe("EXPLAIN (COSTS OFF) $agg"),
	qr/Aggregate/, 'EXPLAIN shows the real plan, not a stand-in');

# ---------------------------------------------------------------------
# 2. the transaction wrote the table
# ---------------------------------------------------------------------
$s->query_safe('BEGIN');
$s->query_safe('UPDATE t SET v = v + 1000 WHERE id = 3');
my $own = $s->query_safe($uncached);
isnt($own, $truth, 'the write changes the sum');
$h0 = session_hits($s);
is($s->query_safe($agg), $own, 'the writing transaction sees its own write');
is(session_hits($s) - $h0, 0, 'and is not served from the cache');
$s->query_safe('ROLLBACK');
$h0 = session_hits($s);
is($s->query_safe($agg), $truth, 'after ROLLBACK: the committed rows');
is(session_hits($s) - $h0, 1, 'served from the cache again');

# ---------------------------------------------------------------------
# 3. an older REPEATABLE READ snapshot
# ---------------------------------------------------------------------
my $rr = $node->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($rr->query_safe($agg), $truth, 'RR: first read');
$node->safe_psql('postgres', 'UPDATE t SET v = v + 7 WHERE id = 4');
my $new = $node->safe_psql('postgres', $uncached);
isnt($new, $truth, 'the committed write changes the sum');
is($s->query_safe($agg), $new, 'another session reads the new rows');
is($s->query_safe($agg), $new, 'and caches them');
my $hr = session_hits($rr);
is($rr->query_safe($agg), $truth,
	'RR: the old snapshot still gets its old rows');
is(session_hits($rr) - $hr, 0, 'RR: not from the newer entry');
$rr->query_safe('COMMIT');
is($rr->query_safe($agg), $new, 'after COMMIT: the new rows');
$rr->quit;
$truth = $new;

# ---------------------------------------------------------------------
# 4. two statements in one query string
# ---------------------------------------------------------------------
my $two = 'SELECT count(*) FROM t WHERE grp = 1\; SELECT count(*) FROM t WHERE grp = 2';
my $first = $s->query_safe($two);
$h0 = session_hits($s);
is($s->query_safe($two), $first, 'two statements in one string: same output');
is(session_hits($s) - $h0, 2, 'both served from the cache');
is($first, "1000\n1000", 'each statement got its own result');

# ---------------------------------------------------------------------
# 5. permissions
# ---------------------------------------------------------------------
my $r = $node->background_psql('postgres', extra_params => [ '-U', 'reader' ]);
is($r->query_safe($agg), $truth, 'reader: right rows');
is($r->query_safe($agg), $truth, 'reader: again');
my $o = $node->background_psql('postgres', extra_params => [ '-U', 'outsider' ]);
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', $agg, extra_params => [ '-U', 'outsider' ]);
like($stderr, qr/permission denied for table t/,
	'outsider: refused the cached statement');
my $vq = 'SELECT grp, n FROM t_view ORDER BY grp';
my $vtruth = $o->query_safe($vq);
$h0 = session_hits($o);
is($o->query_safe($vq), $vtruth, 'outsider: the view, again');
is(session_hits($o) - $h0, 1, 'outsider: the view is served from the cache');
$node->safe_psql('postgres', 'REVOKE SELECT ON t_view FROM outsider');
($ret, $stdout, $stderr) =
  $node->psql('postgres', $vq, extra_params => [ '-U', 'outsider' ]);
like($stderr, qr/permission denied for view t_view/,
	'outsider: refused the view once revoked');
$r->quit;
$o->quit;

# ---------------------------------------------------------------------
# 6. min_cost above the entry's cost
# ---------------------------------------------------------------------
# the REVOKE changed the catalog: cache the statement again first
is($s->query_safe($agg), $truth, 'after the REVOKE: right rows');
$h0 = session_hits($s);
is($s->query_safe($agg), $truth, 'after the REVOKE: right rows again');
is(session_hits($s) - $h0, 1, 'after the REVOKE: served from the cache');
$h0 = session_hits($s);
$s->query_safe('SET cachealot.min_cost = 1e9');
is($s->query_safe($agg), $truth, 'min_cost raised: right rows');
is(session_hits($s) - $h0, 0, 'min_cost raised: not served');
$s->query_safe('RESET cachealot.min_cost');
is($s->query_safe($agg), $truth, 'min_cost reset: right rows');
is(session_hits($s) - $h0, 1, 'min_cost reset: served again');
$s->quit;

# ---------------------------------------------------------------------
# 7. stand-ins kept by plan caches
# ---------------------------------------------------------------------
my $script = $node->basedir . '/stand_in.sql';
open my $fh, '>', $script or die "$script: $!";
print $fh q{
SELECT sum(v) FROM t WHERE grp = 0 \gset got_
SELECT sum(v) AS real FROM t WHERE grp = 0 AND random() >= 0 \gset
\if :got_sum != :real
SELECT 1 / 0;
\endif
SELECT sum(v) FROM t WHERE grp = 0 \gset again_
\if :again_sum != :real
SELECT 1 / 0;
\endif
UPDATE t SET v = v + 1 WHERE id = 3;
};
close $fh;

for my $mode (qw(prepared extended simple))
{
	# warm: the statements' first plans are made while the entry exists
	$node->safe_psql('postgres', 'SELECT sum(v) FROM t WHERE grp = 0');
	my $before = $node->cache_stats;
	$node->command_ok(
		[
			'pgbench', '-n', '-M', $mode, '-c', '1', '-t', '200',
			'-f', $script, '-p', $node->port, '-h', $node->host,
			'postgres'
		],
		"pgbench -M $mode: every read is right");
	my $after = $node->cache_stats;
	my $hits = $after->{hits} - $before->{hits};
	my $misses = $after->{misses} - $before->{misses};
	cmp_ok($hits, '>=', 150, "pgbench -M $mode: hits ($hits)");
	cmp_ok($misses, '>=', 150, "pgbench -M $mode: misses ($misses)");
}

$node->stop;
done_testing();
