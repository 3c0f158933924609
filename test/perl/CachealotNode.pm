
# Copyright (c) 2026, cachealot developers

# CachealotNode: the cluster most TAP tests of cachealot start from:
# cachealot preloaded, the test's own settings appended, started, and the
# extension created in database "postgres".
#
#   use CachealotNode;
#   my $node = cachealot_node('name', q{
#   cachealot.min_cost = 0
#   });

package CachealotNode;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(cachealot_node);

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

1;
