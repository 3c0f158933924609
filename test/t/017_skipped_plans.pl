
# Copyright (c) 2026, cachealot developers

# 017_skipped_plans: (fixed) a Bind that re-analyses a statement without parameters
# (its plan was invalidated) looks like a simple query to parse_analysis.c;
# while the statement is COLD, its generic plan is made "skipped" and kept
# by the plan cache: from then on that statement never consults admission
# again in this backend (no skip counted, no trial, no hit) until the next
# invalidation.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;

my $node = CachealotNode->create(
	'review_skip',
	settings => q{
cachealot.min_cost = 0
autovacuum = off
});
$node->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v int);
INSERT INTO t SELECT g, g FROM generate_series(1, 100) g;
});

sub run_bench
{
	my ($analyze) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $script = "$dir/s.sql";
	PostgreSQL::Test::Utils::append_to_file($script, qq{
SELECT count(*) FROM t;
\\if :n < 300
UPDATE t SET v = v WHERE id = 1;
\\endif
\\if :n < 300 and :n % 50 = 0 and $analyze = 1
INSERT INTO t VALUES (1000 + :n, 0);
ANALYZE t;
\\endif
\\set n :n + 1
});
	$node->safe_psql('postgres', 'SELECT cachealot_flush(); SELECT cachealot_reset_stats()');
	my ($out, $err) = PostgreSQL::Test::Utils::run_command(
		[ 'pgbench', '-n', '-M', 'prepared', '-t', '1000', '-D', 'n=0', '-f', $script,
		  '-h', $node->host, '-p', $node->port, 'postgres' ]);
	note "pgbench stderr: $err" if $err;
	return $node->safe_psql('postgres',
		'SELECT hits, misses, stores, admission_skips FROM cachealot_stats()');
}

my $control = run_bench(0);
note "without ANALYZE: hits|misses|stores|skips = $control";
my $with = run_bench(1);
note "with ANALYZE every 50 while writing: hits|misses|stores|skips = $with";
my ($hc) = split /\|/, $control;
my ($hw) = split /\|/, $with;
cmp_ok($hc, '>', 0, 'control: the statement recovers from COLD and hits');
cmp_ok($hw, '>', 0, 'after revalidations while COLD: it recovers too');

done_testing();
