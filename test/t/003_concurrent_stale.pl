
# Copyright (c) 2026, cachealot developers

# 003_concurrent_stale: a short multi-session check that no reader is ever
# served a stale counter while a writer keeps committing (DESIGN.md 3.2).
#
# One writer increments counter.v (autocommit UPDATEs, and every tenth
# time a two-UPDATE transaction) with short pauses; each of its commits
# holds the window between becoming visible and invalidating open for 2 ms
# (cachealot.test_commit_delay), so that readers fall into it often.  Three READ COMMITTED
# readers loop over a pair of reads:
#   truth:  SELECT v FROM counter WHERE id = 1 AND random() >= 0
#           (random() is volatile: never cached, always the executor)
#   cached: SELECT v FROM counter WHERE id = 1
#           (two readers send it as simple queries, one through
#           PREPARE/EXECUTE)
# Each cached read starts after its truth read has returned, so it must
# return at least that value, which was committed before it started; each
# reader's cached values must never decrease; and a cached value can never
# exceed the truth read that follows it.  At the end the cache must have
# served hits (it was exercised), and there must be zero violations.
# Bounded: the sessions run a fixed amount of work under a 60 s timeout.

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;
use Time::HiRes qw(time);

my $writes = 200;         # writer iterations
my $reader_iters = 8000;  # pairs of reads per reader

my $node = CachealotNode->create('concurrent_stale');

$node->safe_psql(
	'postgres', q{
CREATE TABLE counter (id int PRIMARY KEY, v bigint NOT NULL);
INSERT INTO counter VALUES (1, 0), (2, 0);
});

my $truth_q = 'SELECT v FROM counter WHERE id = 1 AND random() >= 0';
my $cached_q = 'SELECT v FROM counter WHERE id = 1';

# control: the cached query is cached, the truth query is not
my $h0 = $node->cache_stats->{hits};
$node->safe_psql('postgres', $cached_q) for 1 .. 2;
$node->safe_psql('postgres', $truth_q) for 1 .. 2;
my $h1 = $node->cache_stats->{hits};
is($h1 - $h0, 1, 'control: the cached query hits, the truth query never does');

# ---------------------------------------------------------------------
# Scripts
# ---------------------------------------------------------------------
my $expected_total = 0;
# every commit holds the window between visibility and invalidation open
# for 2 ms, so that readers land in it often
my $writer_sql = "SET cachealot.test_commit_delay = 2;\n";
for my $i (1 .. $writes)
{
	if ($i % 10 == 0)
	{
		$writer_sql .= "BEGIN;\n"
		  . "UPDATE counter SET v = v + 1 WHERE id = 1;\n"
		  . "UPDATE counter SET v = v + 1 WHERE id = 2;\n"
		  . "UPDATE counter SET v = v + 1 WHERE id = 1;\n"
		  . "COMMIT;\n";
		$expected_total += 2;
	}
	else
	{
		$writer_sql .= "UPDATE counter SET v = v + 1 WHERE id = 1;\n";
		$expected_total += 1;
	}
	$writer_sql .= "SELECT pg_sleep(0.005);\n";
}

my $simple_reader_sql = '';
for (1 .. $reader_iters)
{
	$simple_reader_sql .= "$truth_q;\n$cached_q;\n";
}

my $prepared_reader_sql = "PREPARE cached AS $cached_q;\n";
for (1 .. $reader_iters)
{
	$prepared_reader_sql .= "$truth_q;\nEXECUTE cached;\n";
}

# ---------------------------------------------------------------------
# Run them all at once
# ---------------------------------------------------------------------
my $psql = $node->installed_command('psql');
my $connstr = $node->connstr('postgres');
my $timer = IPC::Run::timeout(60);

my $dir = PostgreSQL::Test::Utils::tempdir();
my $nfiles = 0;

# Start psql on a script; input and output are files, so that every session
# runs freely while this process waits on another one
sub start_psql
{
	my ($sql, $out, $err) = @_;
	my $file = "$dir/script_" . ++$nfiles . '.sql';
	open my $fh, '>', $file or die "could not write $file: $!";
	print $fh $sql;
	close $fh;
	$$out = "$dir/out_$nfiles";
	$$err = "$dir/err_$nfiles";
	return IPC::Run::start(
		[ $psql, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $connstr, '-f', $file ],
		'<', \undef, '>', $$out, '2>', $$err, $timer);
}

my $stats_before = $node->cache_stats;

my @readers = (
	{ name => 'reader 1 (simple)', sql => $simple_reader_sql },
	{ name => 'reader 2 (simple)', sql => $simple_reader_sql },
	{ name => 'reader 3 (prepared)', sql => $prepared_reader_sql },);

my $t0 = time;
my ($w_out, $w_err);
my $writer = start_psql($writer_sql, \$w_out, \$w_err);
for my $r (@readers)
{
	$r->{h} = start_psql($r->{sql}, \$r->{out_file}, \$r->{err_file});
}

my $writer_ok = eval { $writer->finish; 1 } && $writer->result == 0;
my $writer_time = time - $t0;
for my $r (@readers)
{
	$r->{ok} = eval { $r->{h}->finish; 1 } && $r->{h}->result == 0;
	$r->{out} = slurp_file($r->{out_file});
	$r->{err} = slurp_file($r->{err_file});
}
$w_err = slurp_file($w_err);
my $elapsed = time - $t0;
note sprintf('writer took %.1f s, all sessions %.1f s', $writer_time, $elapsed);

ok($writer_ok, 'writer finished') or diag("writer stderr: $w_err");
is($w_err, '', 'writer reported no error');

# ---------------------------------------------------------------------
# Check every reader
# ---------------------------------------------------------------------
my $total_violations = 0;
my $overlapped = 0;
for my $r (@readers)
{
	my $name = $r->{name};
	ok($r->{ok}, "$name finished") or diag("$name stderr: $r->{err}");
	is($r->{err}, '', "$name reported no error");

	my @lines = split /\n/, $r->{out};
	is(scalar(@lines), 2 * $reader_iters, "$name: every read returned a row");

	my @violations;
	my $last_cached = -1;
	my %distinct;
	for (my $i = 0; $i + 1 < @lines; $i += 2)
	{
		my ($truth, $cached) = @lines[ $i, $i + 1 ];
		my $next_truth = $i + 2 < @lines ? $lines[ $i + 2 ] : undef;
		$distinct{$cached} = 1;

		push @violations,
		  "pair $i: cached $cached < truth $truth read before it (stale)"
		  if $cached < $truth;
		push @violations,
		  "pair $i: cached $cached < previous cached $last_cached (went back)"
		  if $cached < $last_cached;
		push @violations,
		  "pair $i: cached $cached > truth $next_truth read after it"
		  if defined $next_truth && $cached > $next_truth;
		$last_cached = $cached;
	}
	is(scalar(@violations), 0, "$name: no stale read")
	  or diag(join("\n", @violations[ 0 .. ($#violations < 9 ? $#violations : 9) ]));
	$total_violations += @violations;
	$overlapped++ if keys(%distinct) > 1;
	note "$name saw " . keys(%distinct) . ' distinct values';
}
is($total_violations, 0, 'zero violations over all readers');
is($overlapped, scalar(@readers),
	'every reader ran while the writer committed (saw the counter move)');

my $stats_after = $node->cache_stats;
my %during =
  map { $_ => $stats_after->{$_} - $stats_before->{$_} }
  qw(hits bypasses stores invalidations);
note "during the run: hits $during{hits}, bypasses $during{bypasses}, "
  . "stores $during{stores}, invalidations $during{invalidations}";
cmp_ok($during{hits}, '>', 0, 'the cache served hits during the run');
cmp_ok($during{invalidations}, '>', 0, 'the writes invalidated');

# the end state, fresh and then cached
is($node->safe_psql('postgres', $truth_q), $expected_total,
	'the counter holds every increment');
is($node->safe_psql('postgres', $cached_q), $expected_total,
	'cached query after the run: final value');
my $h2 = $node->cache_stats->{hits};
is($node->safe_psql('postgres', $cached_q), $expected_total,
	'cached query after the run, again: final value');
cmp_ok($node->cache_stats->{hits}, '>', $h2,
	'control: the last read is a hit');

unlike(
	slurp_file($node->logfile),
	qr/terminated by signal|PANIC/,
	'no backend crashed');
$node->stop;

done_testing();
