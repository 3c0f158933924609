
# Copyright (c) 2026, cachealot developers

# 004_protocols: the cache serves the simple, the extended and the prepared
# protocol (pgbench -M), with the right rows for each parameter value, and
# fresh rows after a committed write.  pgbench itself checks every row: the
# script divides by zero, which fails the run, on any wrong value.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;

my $node = CachealotNode->create('protocols');

$node->safe_psql(
	'postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t SELECT g, g * 10 FROM generate_series(1, 100) g;
});

# every read checks its row against what the table holds: v = id * 10 + bump
sub script
{
	my ($bump, $name) = @_;
	return {
		"004_check_$name" => qq{
\\set id random(1, 5)
SELECT v AS got FROM t WHERE id = :id \\gset
\\if :got != :id * 10 + $bump
SELECT 1 / 0;
\\endif
}
	};
}

my $bump = 0;
for my $round (1 .. 2)
{
	for my $mode ('simple', 'extended', 'prepared')
	{
		# round 2 keeps what round 1 cached: a missed invalidation would
		# serve it, and the script would fail
		$node->safe_psql('postgres', 'SELECT cachealot_flush()')
		  if $round == 1;
		$node->safe_psql('postgres', 'SELECT cachealot_reset_stats()');
		$node->pgbench(
			"-n -M $mode -c 2 -t 100",
			0,
			[qr{processed: 200/200}],
			[qr{^$}],
			"round $round, $mode protocol: every row right",
			script($bump, "${mode}_$round"));
		my $s = $node->cache_stats;
		# five distinct parameter values: at most a few misses each
		cmp_ok($s->{hits}, '>=', 180,
			"round $round, $mode protocol: served from the cache");
		cmp_ok($s->{stores}, '>=', 5,
			"round $round, $mode protocol: each parameter value stored")
		  if $round == 1;
	}

	# a committed write: every protocol must see it at once
	$node->safe_psql('postgres', 'UPDATE t SET v = v + 1 WHERE id <= 5');
	$bump++;
}

$node->stop;
done_testing();
