
# Copyright (c) 2026, cachealot developers

# CachealotNode: a PostgreSQL::Test::Cluster that knows cachealot, and what
# the TAP tests of cachealot share.
#
#   CachealotNode->create($name, %options)
#       a cluster, initialised, configured, started, with the extension
#       created in database "postgres".  Options:
#         settings => $text   appended to postgresql.conf;
#         library => 1        preload 'cachealot' (the default); 0: preload
#                             nothing; a string: the shared_preload_libraries
#                             list to set instead (e.g. 'pg_stat_statements,
#                             cachealot');
#         library_file => $path
#                             preload this library file instead of the
#                             installed cachealot, and bind the extension's
#                             SQL functions to it (the install script run by
#                             hand, not CREATE EXTENSION);
#         extension => 1      CREATE EXTENSION cachealot (the default); 0:
#                             leave it to the test;
#         init => { ... }     options for init (e.g. allows_streaming =>
#                             'logical' for a publisher);
#         start => 1          start the node (the default); 0: only
#                             initialise and configure it (no extension).
#   $node->cache_stats
#       cachealot_stats() as a hash reference, by column name;
#   $node->truth($sql)
#       what the executor returns for $sql: run with cachealot.enabled off.
# and on request (use CachealotNode qw(read_counting check_and_hit ...)),
# for background psql sessions:
#   session_hits($session)
#       cachealot_stats().hits, read in the session;
#   read_counting($session, $sql)
#       run $sql in the session: its output and how many hits it added;
#   check_and_hit($name, $session, $sql, $want)
#       three assertions: $sql returns $want, and again, the second time
#       served from the cache;
#   check_and_hit_retrying($name, $session, $sql, $want, $tries)
#       the same, but the repeat may take up to $tries reads to hit (each
#       must return $want), for a node where background transactions (a
#       subscription's workers) commit now and then: a read whose snapshot
#       such a commit overtook rightly bypasses.

package CachealotNode;

use strict;
use warnings;

use parent 'PostgreSQL::Test::Cluster';

use Exporter 'import';
# not imported: its command_ok and friends would hide the methods of the
# same names that Cluster wraps them in
use PostgreSQL::Test::Utils ();
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT_OK =
  qw(session_hits read_counting check_and_hit check_and_hit_retrying);

my @stat_columns = qw(hits misses stores bypasses invalidations evictions
  entries memory_used memory_limit);

sub create
{
	my ($class, $name, %opt) = @_;
	my $library = $opt{library} // 1;
	my $self = $class->new($name);

	$self->init(%{ $opt{init} // {} });

	my $preload =
	    defined $opt{library_file} ? $opt{library_file}
	  : !$library ? undef
	  : $library eq '1' ? 'cachealot'
	  :                   $library;
	my $conf =
	  (defined $preload ? "shared_preload_libraries = '$preload'\n" : '')
	  . ($opt{settings} // '');
	$self->append_conf('postgresql.conf', $conf) if $conf ne '';

	return $self unless $opt{start} // 1;
	$self->start;

	if (defined $opt{library_file})
	{
		# the install script, with the functions bound to the given file
		my $sql = PostgreSQL::Test::Utils::slurp_file('cachealot--1.0.sql');
		$sql =~ s/^\\echo.*$//mg;
		$sql =~ s/MODULE_PATHNAME/$opt{library_file}/g;
		$self->safe_psql('postgres', $sql);
	}
	elsif ($opt{extension} // 1)
	{
		$self->safe_psql('postgres', 'CREATE EXTENSION cachealot');
	}
	return $self;
}

sub cache_stats
{
	my ($self) = @_;
	my $row = $self->safe_psql('postgres',
		'SELECT ' . join(', ', @stat_columns) . ' FROM cachealot_stats()');
	my %stats;

	@stats{@stat_columns} = split /\|/, $row;
	return \%stats;
}

sub truth
{
	my ($self, $sql) = @_;
	return $self->safe_psql('postgres', "SET cachealot.enabled = off;\n$sql");
}

sub session_hits
{
	my ($session) = @_;
	return $session->query_safe('SELECT hits FROM cachealot_stats()');
}

sub read_counting
{
	my ($session, $sql) = @_;
	my $before = session_hits($session);
	my $out = $session->query_safe($sql);
	my $after = session_hits($session);

	return ($out, $after - $before);
}

sub check_and_hit
{
	my ($name, $session, $sql, $want) = @_;
	check_and_hit_retrying($name, $session, $sql, $want, 1);
}

sub check_and_hit_retrying
{
	my ($name, $session, $sql, $want, $tries) = @_;
	my ($out) = read_counting($session, $sql);
	is($out, $want, "$name: value");
	my ($again, $hits);
	for my $try (1 .. $tries)
	{
		($again, $hits) = read_counting($session, $sql);
		last if $again ne $want || $hits > 0 || $try == $tries;
		usleep(50_000);
	}
	is($again, $want, "$name: value again");
	cmp_ok($hits, '>', 0, "$name: the repeat is served from the cache");
}

1;
