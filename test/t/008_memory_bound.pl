
# Copyright (c) 2026, cachealot developers

# 008_memory_bound: cachealot.max_memory is a hard bound that a full cache
# lives within by evicting, never by failing (issue 4, DESIGN.md 3.6).
#
# A node with cachealot.max_memory = 2MB (a 16 kB index, the rest an area
# for entries), and a table "big" whose row id holds v = md5(id) x 30
# (960 bytes), so that every result can be checked row by row in Perl:
#
#   1. memory full: 3,000 distinct cacheable queries of 1-8 kB each (about
#      seven times max_memory in all) run in batches, with a hot set of five
#      queries repeated every 50 of them.  No client sees an error, every
#      row is right, memory_used never exceeds memory_limit (sampled by a
#      concurrent session, and checked after every batch), entries are
#      evicted, and the hot set keeps hitting in every batch;
#   2. no leaks: fill past the bound, flush, twenty times: every round
#      stores (nearly) all its distinct results, each flush leaves no
#      entry, and memory_used returns exactly to its baseline (the fixed
#      index, measured right after the first flush); afterwards the emptied
#      area still takes a 300 kB result;
#   3. max_entry_size: set to 16kB by ALTER SYSTEM and a reload, a 100 kB
#      (and a 20 kB) result is not stored, a 4 kB one is; reset, the 100 kB
#      result is stored again;
#   4. a slow client: a hit of a ~690 kB result goes to a psql whose output
#      pipe is not read, so the backend blocks on its socket in the middle
#      of the replay (wait event ClientWrite) with the entry pinned.
#      Meanwhile another session flushes the cache and churns through
#      enough distinct queries to evict everything (or, in the second
#      round, lets CLOCK evict the pinned entry itself).  Then the client
#      reads everything: its rows are complete and right, and once the pin
#      is gone a flush brings memory_used back to the baseline.

use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;
use Time::HiRes qw(usleep time);

my $t_start = time;

my $node = CachealotNode->create(
	'memory_bound', settings => q{
cachealot.max_memory = '2MB'
# every eligible query is cached, whatever the default admission rule:
# this test floods the cache with results that never repeat on purpose
cachealot.min_cost = 0
cachealot.admission = off
# nothing but the test's own queries moves the counters
autovacuum = off
});

my $nrows = 20000;
$node->safe_psql(
	'postgres', qq{
CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO big SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, $nrows) g;
CREATE TABLE sampler_stop (x int);
});

# what big holds for one id
my %val_memo;
sub val
{
	my ($id) = @_;
	return $val_memo{$id} //= md5_hex($id) x 30;
}

# A query returning rows lo .. lo+n-1 of big, and its exact psql -At output
sub range_query
{
	my ($lo, $n) = @_;
	my $hi = $lo + $n - 1;
	my $sql = "SELECT id, v FROM big WHERE id BETWEEN $lo AND $hi ORDER BY id";
	my @lines = map { "$_|" . val($_) } ($lo .. $hi);
	return ($sql, join("\n", @lines));
}

# Run a list of [sql, expected output] in one psql session; returns
# (ok, message): psql succeeded, wrote nothing to stderr, and printed
# exactly the expected rows
sub run_checked
{
	my ($queries) = @_;
	my $sql = join('', map { "$_->[0];\n" } @$queries);
	my $want = join("\n", grep { $_ ne '' } map { $_->[1] } @$queries);
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	return (0, "psql exit code $ret, stderr: $err") if $ret != 0;
	return (0, "stderr: $err") if $err ne '';
	if ($out ne $want)
	{
		my @o = split /\n/, $out;
		my @w = split /\n/, $want;
		for my $i (0 .. ($#o > $#w ? $#o : $#w))
		{
			my $g = $o[$i] // '<missing>';
			my $e = $w[$i] // '<missing>';
			if ($g ne $e)
			{
				return (0,
					sprintf("%d lines, expected %d; line %d differs: got '%s' expected '%s'",
						scalar(@o), scalar(@w), $i + 1,
						substr($g, 0, 60), substr($e, 0, 60)));
			}
		}
	}
	return (1, 'ok');
}

# ---------------------------------------------------------------------
# Baseline: an empty cache is the fixed index
# ---------------------------------------------------------------------
$node->safe_psql('postgres', 'SELECT cachealot_flush()');
my $s0 = $node->cache_stats;
my $baseline = $s0->{memory_used};
my $limit = $s0->{memory_limit};
is($limit, 2 * 1024 * 1024, 'memory_limit is cachealot.max_memory');
is($s0->{entries}, 0, 'baseline: no entries after a flush');
cmp_ok($baseline, '>', 0, 'baseline: the index takes some memory');
cmp_ok($baseline, '<', $limit / 8, 'baseline: the index is a small part of max_memory');
note "baseline memory_used $baseline of $limit";

# ---------------------------------------------------------------------
# 1. Memory full: churn far past the bound, a hot set keeps hitting
# ---------------------------------------------------------------------
{
	my $name = 'memory full';
	my $batches = 10;
	my $per_batch = 300;
	my $hot_every = 50;
	my @hot = map { [ range_query(19000 + 10 * $_, 4) ] } (1 .. 5);

	# a concurrent session samples memory_used all along, with the cache
	# off for itself (its reads must not count as hits)
	my ($smp_out, $smp_err) = ('', '');
	my $sampler = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-d',
			$node->connstr('postgres'), '-c', q{
SET cachealot.enabled = off;
DO $$
DECLARE
	m bigint; lim bigint; mx bigint := 0; n int := 0;
	deadline timestamptz := clock_timestamp() + interval '120 s';
BEGIN
	LOOP
		SELECT memory_used, memory_limit INTO m, lim FROM cachealot_stats();
		mx := greatest(mx, m);
		n := n + 1;
		EXIT WHEN EXISTS (SELECT FROM sampler_stop)
			OR clock_timestamp() > deadline;
		PERFORM pg_sleep(0.002);
	END LOOP;
	RAISE NOTICE 'sampled max=% limit=% samples=%', mx, lim, n;
END $$;}
		],
		'<', \undef, '>', \$smp_out, '2>', \$smp_err,
		IPC::Run::timeout(180));

	my $before = $node->cache_stats;
	my $total_bytes = 0;
	my $i = 0;
	my $all_ok = 1;
	my $hot_runs = 0;
	for my $b (1 .. $batches)
	{
		my @q;
		for my $k (1 .. $per_batch)
		{
			$i++;
			my $n = 1 + $i % 8;
			push @q, [ range_query($i, $n) ];
			$total_bytes += $n * 960;
			if ($k % $hot_every == 0)
			{
				push @q, @hot;
				$hot_runs += @hot;
			}
		}
		my $bs = $node->cache_stats;
		my ($ok, $msg) = run_checked(\@q);
		my $as = $node->cache_stats;
		$all_ok &&= $ok;
		ok($ok, "$name: batch $b: no error, every row right") or diag($msg);
		cmp_ok($as->{memory_used}, '<=', $limit,
			"$name: batch $b: memory_used within memory_limit");
		# 6 rounds of 5 hot queries: the first round of the first batch
		# misses, the rest should hit (the churn queries are all distinct)
		my $hot_hits = $as->{hits} - $bs->{hits};
		cmp_ok($hot_hits, '>=', ($b == 1 ? 20 : 25),
			"$name: batch $b: the hot set keeps hitting ($hot_hits of 30)");
		note sprintf('batch %d: hits +%d stores +%d evictions +%d entries %d memory_used %d',
			$b, $hot_hits, $as->{stores} - $bs->{stores},
			$as->{evictions} - $bs->{evictions}, $as->{entries},
			$as->{memory_used});
	}
	my $after = $node->cache_stats;

	$node->safe_psql('postgres', 'INSERT INTO sampler_stop VALUES (1)');
	my $sampler_ok = eval { $sampler->finish; 1 } && ($sampler->result // 0) == 0;
	ok($sampler_ok, "$name: the sampler session ran") or diag("sampler: $@ $smp_err");
	if ($smp_err =~ /sampled max=(\d+) limit=(\d+) samples=(\d+)/)
	{
		my ($mx, $lim, $n) = ($1, $2, $3);
		note "sampler: max memory_used $mx of $lim over $n samples";
		cmp_ok($mx, '<=', $lim, "$name: memory_used never seen above memory_limit");
		cmp_ok($mx, '>', $limit / 2, "$name: the sampler saw the cache fill up");
		cmp_ok($n, '>=', 20, "$name: the sampler took samples throughout");
	}
	else
	{
		fail("$name: sampler reported: $smp_err");
	}

	cmp_ok($total_bytes, '>', 5 * $limit,
		"$name: the distinct results far exceed max_memory ($total_bytes bytes)");
	cmp_ok($after->{stores} - $before->{stores}, '>=', $batches * $per_batch * 0.9,
		"$name: nearly every distinct result was stored");
	cmp_ok($after->{evictions} - $before->{evictions}, '>', 0,
		"$name: entries were evicted");
	cmp_ok($after->{memory_used}, '<=', $limit,
		"$name: memory_used <= memory_limit at the end");
	cmp_ok($after->{entries}, '>', 0, "$name: the cache holds entries at the end");
	cmp_ok($after->{hits} - $before->{hits}, '>=', $hot_runs - 5 * $batches,
		"$name: hot set hits over the whole loop");
}

# ---------------------------------------------------------------------
# 2. No leaks: fill, flush, twenty times
# ---------------------------------------------------------------------
{
	my $name = 'no leaks';
	my $leaks = 0;
	for my $iter (1 .. 20)
	{
		my @q;
		my $fill = 0;
		for my $k (1 .. 250)
		{
			my $n = 1 + ($k * 7 + $iter) % 16;
			my $lo = 1 + ($iter * 250 + $k) * 3 % ($nrows - 20);
			push @q, [ range_query($lo, $n) ];
			$fill += $n * 960;
		}
		# a few of them again: hits
		push @q, @q[ -10 .. -1 ];

		my $bs = $node->cache_stats;
		my ($ok, $msg) = run_checked(\@q);
		my $fs = $node->cache_stats;
		my $dropped = $node->safe_psql('postgres', 'SELECT cachealot_flush()');
		my $as = $node->cache_stats;

		# (nearly) every distinct result is stored, round after round: memory
		# freed by the flushes and evictions is really reusable.  A few
		# stores may fail when the area's free space is fragmented (the
		# query then just runs uncached), hence 90%.
		my $good = $ok
		  && $fs->{stores} - $bs->{stores} >= 225
		  && $fs->{hits} > $bs->{hits}
		  && $fs->{memory_used} > $limit / 2
		  && $fs->{memory_used} <= $limit
		  && $dropped == $fs->{entries}
		  && $as->{entries} == 0
		  && $as->{memory_used} == $baseline;
		$leaks++ unless $good;
		note sprintf('round %d: misses +%d stores +%d evictions +%d filled %d',
			$iter, $fs->{misses} - $bs->{misses}, $fs->{stores} - $bs->{stores},
			$fs->{evictions} - $bs->{evictions}, $fs->{memory_used});
		ok($good, "$name: round $iter: filled, flushed, back to the baseline")
		  or diag(
			sprintf(
				"run: %s; misses +%d bypasses +%d stores +%d hits +%d evictions +%d; filled to %d bytes, %d entries (%d bytes asked); "
				  . "flush dropped %s; after: %d entries, memory_used %d (baseline %d)",
				$msg, $fs->{misses} - $bs->{misses}, $fs->{bypasses} - $bs->{bypasses},
				$fs->{stores} - $bs->{stores}, $fs->{hits} - $bs->{hits},
				$fs->{evictions} - $bs->{evictions},
				$fs->{memory_used}, $fs->{entries}, $fill, $dropped,
				$as->{entries}, $as->{memory_used}, $baseline));
	}
	is($leaks, 0, "$name: memory_used returned to $baseline after every flush");

	# and the emptied area still has room for a large result (~300 kB)
	my $b = $node->cache_stats;
	is($b->{entries}, 0, "$name: empty after the last round");
	my ($ok, $msg) = run_checked([ [ range_query(7001, 300) ], [ range_query(7001, 300) ] ]);
	my $a = $node->cache_stats;
	ok($ok, "$name: a 300 kB result after the rounds: right rows") or diag($msg);
	is($a->{stores} - $b->{stores}, 1, "$name: a 300 kB result is stored after the rounds");
	is($a->{hits} - $b->{hits}, 1, "$name: and hits");
}

# ---------------------------------------------------------------------
# 3. max_entry_size, changed by a reload
# ---------------------------------------------------------------------
sub set_max_entry_size
{
	my ($value, $show) = @_;
	if (defined $value)
	{
		$node->safe_psql('postgres',
			"ALTER SYSTEM SET cachealot.max_entry_size = '$value'");
	}
	else
	{
		$node->safe_psql('postgres', 'ALTER SYSTEM RESET cachealot.max_entry_size');
	}
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	ok($node->poll_query_until('postgres', 'SHOW cachealot.max_entry_size', $show),
		"max_entry_size: reload took effect ($show)");
}

# run a query twice: did the first run store, did the second hit?
sub twice
{
	my ($name, $lo, $n) = @_;
	my ($sql, $want) = range_query($lo, $n);
	my $before = $node->cache_stats;
	my ($ok1, $msg1) = run_checked([ [ $sql, $want ] ]);
	my $mid = $node->cache_stats;
	my ($ok2, $msg2) = run_checked([ [ $sql, $want ] ]);
	my $after = $node->cache_stats;
	ok($ok1 && $ok2, "$name: right rows both times") or diag("$msg1; $msg2");
	return ($mid->{stores} - $before->{stores}, $after->{hits} - $mid->{hits});
}

{
	my $name = 'max_entry_size';
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	set_max_entry_size('16kB', '16kB');

	my ($stored, $hit) = twice("$name 16kB, 100 kB result", 2001, 100);
	is($stored, 0, "$name 16kB: a 100 kB result is not stored");
	is($hit, 0, "$name 16kB: a 100 kB result is not a hit");

	($stored, $hit) = twice("$name 16kB, 20 kB result", 3001, 20);
	is($stored, 0, "$name 16kB: a 20 kB result is not stored");
	is($hit, 0, "$name 16kB: a 20 kB result is not a hit");

	($stored, $hit) = twice("$name 16kB, 4 kB result", 4001, 4);
	is($stored, 1, "$name 16kB: a 4 kB result is stored");
	is($hit, 1, "$name 16kB: a 4 kB result hits");

	($stored, $hit) = twice("$name 16kB, 12 kB result", 4101, 12);
	is($stored, 1, "$name 16kB: a 12 kB result is stored");
	is($hit, 1, "$name 16kB: a 12 kB result hits");

	set_max_entry_size(undef, '1MB');
	($stored, $hit) = twice("$name reset, 100 kB result", 2001, 100);
	is($stored, 1, "$name back to 1MB: the 100 kB result is stored");
	is($hit, 1, "$name back to 1MB: the 100 kB result hits");
}

# ---------------------------------------------------------------------
# 4. A client that stops reading in the middle of a hit while eviction runs
# ---------------------------------------------------------------------
my $big_lo = 1;
my $big_n = 700;
my $copy_sql = "COPY (SELECT id, v FROM big WHERE id BETWEEN $big_lo AND "
  . ($big_lo + $big_n - 1)
  . " ORDER BY id) TO STDOUT";
my $copy_want = join('', map { "$_\t" . val($_) . "\n" } ($big_lo .. $big_lo + $big_n - 1));

sub reader_state
{
	return $node->safe_psql(
		'postgres', q{
SELECT coalesce(wait_event, '-') FROM pg_stat_activity
WHERE query LIKE 'COPY (SELECT id, v FROM big%' AND pid <> pg_backend_pid()});
}

my $churn_next = 5000;
sub churn
{
	my ($count) = @_;
	my @q;
	for (1 .. $count)
	{
		$churn_next++;
		push @q, [ range_query($churn_next % ($nrows - 20) + 1, 1 + $churn_next % 8) ];
	}
	return run_checked(\@q);
}

for my $round ('flush', 'evict')
{
	my $name = "slow reader ($round)";
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');

	my $s1 = $node->cache_stats;
	my $first = $node->safe_psql('postgres', $copy_sql);
	is("$first\n", $copy_want, "$name: first run right");
	my $s2 = $node->cache_stats;
	is($s2->{stores} - $s1->{stores}, 1, "$name: the large result was stored");
	my $entry_bytes = $s2->{memory_used} - $s1->{memory_used};
	cmp_ok($entry_bytes, '>', 600_000, "$name: the entry takes $entry_bytes bytes");

	# the client: psql copies the rows to a pipe nobody reads
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-d',
			$node->connstr('postgres'), '-c', $copy_sql
		],
		'<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(180));

	my $blocked = 0;
	for (1 .. 100 * $PostgreSQL::Test::Utils::timeout_default)
	{
		if (reader_state() eq 'ClientWrite')
		{
			$blocked = 1;
			last;
		}
		usleep(10_000);
	}
	ok($blocked, "$name: the backend is blocked sending the result");
	my $s3 = $node->cache_stats;
	is($s3->{hits} - $s2->{hits}, 1, "$name: the blocked client is replaying a hit");

	if ($round eq 'flush')
	{
		my $dropped = $node->safe_psql('postgres', 'SELECT cachealot_flush()');
		cmp_ok($dropped, '>=', 1, "$name: the flush dropped the entry being replayed");
		my $s4 = $node->cache_stats;
		is($s4->{entries}, 0, "$name: no entries after the flush");
		cmp_ok($s4->{memory_used}, '>=', $baseline + $entry_bytes,
			"$name: the pinned entry's memory is kept while it is replayed");
	}

	# enough distinct results to evict everything that can go, several times
	my ($ok, $msg) = churn($round eq 'flush' ? 600 : 1500);
	ok($ok, "$name: churn while the client is blocked: no error, rows right")
	  or diag($msg);
	my $s5 = $node->cache_stats;
	cmp_ok($s5->{evictions} - $s3->{evictions}, '>', 0,
		"$name: entries were evicted while the client was blocked");
	cmp_ok($s5->{memory_used}, '<=', $limit, "$name: memory_used within the limit");
	is(reader_state(), 'ClientWrite',
		"$name: the client was still blocked in the middle of the result");

	# now read everything
	my $done = eval { $h->finish; 1 };
	ok($done && ($h->result // 0) == 0, "$name: the client finished") or diag("$@ $err");
	is($err, '', "$name: the client got no error");
	my @got = split /\n/, $out;
	is(scalar(@got), $big_n, "$name: the client got every row");
	ok($out eq $copy_want, "$name: every row the client got is right")
	  or diag('first difference at line '
		  . (grep { $got[$_] ne (split /\n/, $copy_want)[$_] } (0 .. $#got))[0]);

	if ($round eq 'evict')
	{
		# the pinned entry itself was evicted (unlinked) underneath the reader
		my $b = $node->cache_stats;
		my $again = $node->safe_psql('postgres', $copy_sql);
		my $a = $node->cache_stats;
		is("$again\n", $copy_want, "$name: the query again gives the right rows");
		is($a->{hits} - $b->{hits}, 0,
			"$name: the entry being replayed had been evicted");
	}

	# once the reader has let go, nothing stays behind
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	my $s6 = $node->cache_stats;
	is($s6->{entries}, 0, "$name: empty after a flush");
	is($s6->{memory_used}, $baseline,
		"$name: memory_used back to the baseline once the pin is released");

	# and the server is healthy: cache and hit again
	my ($hsql, $hwant) = range_query(12345, 3);
	my ($ok1) = run_checked([ [ $hsql, $hwant ], [ $hsql, $hwant ] ]);
	my $s7 = $node->cache_stats;
	ok($ok1, "$name: the server still answers");
	is($s7->{hits} - $s6->{hits}, 1, "$name: and hits again");
}

$node->stop;
note sprintf('008_memory_bound took %.1f s', time - $t_start);

done_testing();
