
# Copyright (c) 2026, cachealot developers

# CachealotTest: what the TAP tests of cachealot share.
#
#   cachealot_node($name, $settings)
#       a cluster with cachealot preloaded and $settings appended to its
#       postgresql.conf, started, with the extension created in database
#       "postgres";
#   cache_stats($node)
#       cachealot_stats() as a hash reference, by column name;
# and on request (use CachealotTest qw(:DEFAULT read_counting ...)):
#   read_counting($session, $sql)
#       run $sql in a background psql session: its output and how many hits
#       it added;
#   check_and_hit($name, $session, $sql, $want)
#       three assertions: $sql returns $want, and again, the second time
#       served from the cache.

package CachealotTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use Test::More;

our @EXPORT = qw(cachealot_node cache_stats);
our @EXPORT_OK = qw(read_counting check_and_hit);

my @stat_columns = qw(hits misses stores bypasses invalidations evictions
  entries memory_used memory_limit);

sub cachealot_node
{
	my ($name, $settings) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'cachealot'\n" . ($settings // ''));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION cachealot');
	return $node;
}

sub cache_stats
{
	my ($node) = @_;
	my $row = $node->safe_psql('postgres',
		'SELECT ' . join(', ', @stat_columns) . ' FROM cachealot_stats()');
	my %stats;

	@stats{@stat_columns} = split /\|/, $row;
	return \%stats;
}

sub read_counting
{
	my ($session, $sql) = @_;
	my $before = $session->query_safe('SELECT hits FROM cachealot_stats()');
	my $out = $session->query_safe($sql);
	my $after = $session->query_safe('SELECT hits FROM cachealot_stats()');

	return ($out, $after - $before);
}

sub check_and_hit
{
	my ($name, $session, $sql, $want) = @_;
	my ($out) = read_counting($session, $sql);
	is($out, $want, "$name: value");
	my ($again, $hits) = read_counting($session, $sql);
	is($again, $want, "$name: value again");
	cmp_ok($hits, '>', 0, "$name: the repeat is served from the cache");
}

1;
