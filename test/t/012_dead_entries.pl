
# Copyright (c) 2026, cachealot developers

# 012_dead_entries: results of a write-heavy table are reclaimed once a
# write makes them unservable, well before eviction pressure would reach
# them (issue 4), and the sweep that does so leaves live entries alone.
#
# A node with cachealot.max_memory = 8MB (about 7MB for entries):
#
#   1. 400 distinct point queries on a read-only table "stable" are
#      cached;
#   2. 12,000 distinct point queries on a table "hot", with an UPDATE of
#      "hot" after every 100 of them: every result stored is dead within
#      100 queries.  Together they take about 5MB, within the budget, so
#      eviction never has to make room: without a sweep all 12,000 would
#      still be linked.  The test asserts that most were reclaimed
#      (entries stay under a third of that, sampled after every batch),
#      that the reclaimed count shows in cachealot_stats().evictions, and
#      that memory_used ends well under the bound;
#   3. the 400 "stable" queries all hit afterwards, with the right rows.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;

my $node = CachealotNode->create(
	'dead_entries', settings => q{
cachealot.max_memory = '8MB'
# every eligible query is stored, even those admission would learn to skip
cachealot.min_cost = 0
cachealot.admission = off
autovacuum = off
});

$node->safe_psql(
	'postgres', q{
CREATE TABLE stable (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO stable SELECT g, 'stable-' || g FROM generate_series(1, 400) g;
CREATE TABLE hot (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO hot SELECT g, 'hot-' || g FROM generate_series(1, 12000) g;
ANALYZE;
});

# the reads of "stable", as one script: each row's value checked by psql
my $stable_sql = join '',
  map { "SELECT v = 'stable-$_' AS ok FROM stable WHERE id = $_;\n" } 1 .. 400;

my $out = $node->safe_psql('postgres', $stable_sql);
is($out, join("\n", ('t') x 400), 'the stable reads are right');
my $base = $node->cache_stats;
cmp_ok($base->{stores}, '>=', 400, 'the stable reads were stored');

# the write-heavy table: 120 batches of 100 distinct reads, then a write
my $max_entries = 0;
for my $batch (0 .. 119)
{
	my $sql = join '', map {
		my $id = $batch * 100 + $_;
		"SELECT v FROM hot WHERE id = $id;\n"
	} 1 .. 100;
	$sql .= "UPDATE hot SET v = v WHERE id = " . ($batch * 100 + 1) . ";\n";
	$node->safe_psql('postgres', $sql);

	my $s = $node->cache_stats;
	$max_entries = $s->{entries} if $s->{entries} > $max_entries;
}
my $after = $node->cache_stats;
my $stored = $after->{stores} - $base->{stores};
cmp_ok($stored, '>=', 11900, "the hot reads were stored ($stored)");
cmp_ok($max_entries, '<', 4000,
	"dead entries are reclaimed as the cache fills (at most $max_entries linked)"
);
cmp_ok($after->{evictions} - $base->{evictions},
	'>=', $stored - 4000 - 400, 'the reclaimed entries count as evictions');
cmp_ok($after->{memory_used}, '<', $after->{memory_limit} / 2,
	"memory_used stays well under the bound ($after->{memory_used} of $after->{memory_limit})"
);

# the live entries survived the sweep
my $before_hits = $node->cache_stats->{hits};
$out = $node->safe_psql('postgres', $stable_sql);
is($out, join("\n", ('t') x 400), 'the stable reads are still right');
is($node->cache_stats->{hits} - $before_hits, 400, 'and every one of them hits');

$node->stop;
done_testing();
