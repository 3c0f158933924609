
# Copyright (c) 2026, cachealot developers

# 015_admission: admission (src/admission.c) learns, per statement (query
# id, user, database), whether the cache pays for it, from the counters of
# cachealot_stats(): hits, misses, stores, admission_skips and
# admission_rejects.  The rule, as admission.c's header states it: every 64
# lookups the window's hit ratio decides, under 1/32 COLD (executions skip
# the cache: admission_skips), under 1/2 DOORKEEPER (a miss is stored only
# if its key was looked up recently, else admission_rejects), else
# STORE_ALL; COLD lasts 64 skipped executions, then a TRIAL of 32 lookups
# stores every miss, and one hit in it leaves COLD, else COLD again with
# the backoff doubled (64, 128, ... 4096).  model_run() below plays that
# rule for one statement run by one session, so most counts are asserted
# exactly, as the rule predicts them:
#
#   1. a point lookup whose keys never repeat goes COLD and stops being
#      stored (skips grow, stores stay far below executions); then, with 20
#      keys cycled, it hits in its next trial and is cached again (the last
#      executions all hit, none is skipped).  Simple queries, and PREPARE /
#      EXECUTE;
#   2. the hot-key mix: 30% of 3000 lookups on 100 hot keys, 70% on keys
#      that never repeat: DOORKEEPER keeps the hot keys cached (most hot
#      lookups of the second half hit) and rejects the one-off keys, so
#      stores stay far below the number of distinct one-off keys;
#   3. an expensive statement (plan cost >= 1000, checked with EXPLAIN,
#      and >= 1 ms a run, checked with EXPLAIN ANALYZE) is stored on its
#      first miss and hits on its second run, while a cheap statement is
#      COLD; with always-distinct constants it keeps being stored (no skip,
#      no reject) where a cheap statement would have gone COLD;
#   4. the statement table is bounded (cachealot.max_statements = 100): a
#      COLD statement with a lot of use stays COLD through a flood of 1000
#      distinct one-off statements (checked to have 1000 distinct query
#      ids), and the 'cachealot admission' shared memory keeps its size;
#      with cachealot.admission = off in a session, the COLD statement is
#      looked up and stored again;
#   5. crash restart (SIGKILL of a backend) and immediate stop: admission
#      starts afresh (a statement that was COLD is stored again on its first
#      executions, admission_skips is 0), and the cache works;
#   6. a statement that differs from a COLD one only in a number that is
#      not a constant for its query id (ORDER BY 1 / ORDER BY 2) is its own
#      statement: stored and hit, also in the session that runs the COLD
#      one.
#
# Two of these found bugs, since fixed: the flood of 4 evicted the much
# used COLD statement (usage decayed too fast), and in 6 the session that
# ran the COLD statement skipped the other one too (a text fingerprint
# that dropped ORDER BY positions).
#
# Statements are sent as many simple queries through one psql (one per
# line), or as EXECUTEs of a PREPAREd statement in such a script.  Note
# that column aliases and constants do not change a query id (PostgreSQL's
# query jumbling ignores them), so the tests tell statements apart by their
# structure (columns, predicates).

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use CachealotNode;

my $t_start = time;

my @cols = qw(hits misses stores admission_skips admission_rejects);

# ---------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------

# A node with t(id int primary key, v int) of 100000 rows
sub admission_node
{
	my ($name, $extra) = @_;
	my $node = CachealotNode->create(
		$name, settings => q{
cachealot.min_cost = 0
# nothing but the test's own statements moves the counters
autovacuum = off
# the expensive aggregate of test 3 runs in the backend, timed there
max_parallel_workers_per_gather = 0
# test 5 kills a backend: the postmaster restarts the others
restart_after_crash = on
} . ($extra // ''));
	$node->safe_psql(
		'postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t SELECT g, g * 2 FROM generate_series(1, 100000) g;
ANALYZE t;
});
	return $node;
}

# The admission counters of cachealot_stats()
sub counters
{
	my ($node) = @_;
	my $row = $node->safe_psql('postgres',
		'SELECT ' . join(', ', @cols) . ' FROM cachealot_stats()');
	my %c;
	@c{@cols} = split /\|/, $row;
	return \%c;
}

sub delta
{
	my ($before, $after) = @_;
	return { map { $_ => $after->{$_} - $before->{$_} } @cols };
}

sub show
{
	my ($d) = @_;
	return join(' ', map { "$_=$d->{$_}" } @cols);
}

# Run the statements in one psql session, each line a simple query; the
# counters it moved
sub run_script
{
	my ($node, $name, @lines) = @_;
	my $before = counters($node);
	my ($ret, $out, $err) =
	  $node->psql('postgres', join("\n", @lines) . "\n", on_error_stop => 1);
	die "$name: psql failed ($ret): $err" if $ret != 0;
	my $d = delta($before, counters($node));
	note("$name: " . show($d));
	return $d;
}

# Assert every counter of a delta (or only those named), as the rule
# predicts it
sub counters_are
{
	my ($name, $got, $want, @only) = @_;
	for my $c (@only ? @only : @cols)
	{
		is($got->{$c}, $want->{$c}, "$name: $c");
	}
}

# The rule, played for one statement run by one session on a cache that
# keeps what it stores: the counters the executions of these keys move
sub model_new
{
	return {
		state => 'STORE_ALL',
		lookups => 0,         # in the current window
		hits => 0,
		skips_left => 0,
		failed => 0,          # failed trials in a row
		cached => {},
		seen => {},           # the doorkeeper
	};
}

sub model_run
{
	my ($m, @keys) = @_;
	my %d = map { $_ => 0 } @cols;

	for my $k (@keys)
	{
		if ($m->{state} eq 'COLD')
		{
			if ($m->{skips_left} > 0)
			{
				$m->{skips_left}--;
				$d{admission_skips}++;
				next;
			}
			$m->{state} = 'TRIAL';
			$m->{lookups} = $m->{hits} = 0;
		}
		$m->{lookups}++;
		if ($m->{cached}{$k})
		{
			$d{hits}++;
			$m->{hits}++;
		}
		else
		{
			$d{misses}++;
			if ($m->{state} eq 'DOORKEEPER' && !$m->{seen}{$k}++)
			{
				$d{admission_rejects}++;
			}
			else
			{
				$d{stores}++;
				$m->{cached}{$k} = 1;
			}
		}
		next if $m->{lookups} < ($m->{state} eq 'TRIAL' ? 32 : 64);

		# the window is complete: its hit ratio decides
		if ($m->{hits} * 32 < $m->{lookups})
		{
			$m->{failed}++ if $m->{state} eq 'TRIAL' && $m->{failed} < 6;
			$m->{skips_left} = 64 << $m->{failed};
			$m->{state} = 'COLD';
		}
		else
		{
			$m->{state} =
			  $m->{hits} * 2 < $m->{lookups} ? 'DOORKEEPER' : 'STORE_ALL';
			$m->{failed} = 0;
		}
		$m->{lookups} = $m->{hits} = 0;
	}
	return \%d;
}

# A deterministic pseudo-random number in [0, 1)
my $seed = 12345;
sub lcg
{
	$seed = ($seed * 1103515245 + 12345) % 2147483648;
	return $seed / 2147483648;
}

sub admission_size
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		q{SELECT size FROM pg_shmem_allocations WHERE name = 'cachealot admission'});
}

my $node = admission_node('admission');
my $default_size = admission_size($node);
cmp_ok($default_size, '>', 0, "'cachealot admission' is in pg_shmem_allocations");

# ---------------------------------------------------------------------
# 1. a statement that keeps missing goes COLD; repeating keys bring it back
# ---------------------------------------------------------------------
{
	my $simple = sub { map { "SELECT v FROM t WHERE id = $_;" } @_ };
	my $prepare = 'PREPARE p(int) AS SELECT v FROM t WHERE id = $1;';
	my $prepared = sub { ($prepare, map { "EXECUTE p($_);" } @_) };

	for my $case ([ 'simple', $simple ], [ 'PREPARE/EXECUTE', $prepared ])
	{
		my ($proto, $lines) = @$case;
		my $m = model_new();
		my @distinct = (1 .. 300);
		my @repeating = map { 1001 + $_ % 20 } (0 .. 399);

		# distinct keys: 64 stored, 64 skipped, a trial of 32 stored that
		# fails, then 128 skipped
		my $name = "1 $proto, distinct keys, first 160";
		my $d = run_script($node, $name, $lines->(@distinct[0 .. 159]));
		counters_are($name, $d, model_run($m, @distinct[0 .. 159]));
		cmp_ok($d->{admission_skips}, '>=', 64, "$name: skips grow");

		$name = "1 $proto, distinct keys, last 140";
		$d = run_script($node, $name, $lines->(@distinct[160 .. 299]));
		counters_are($name, $d, model_run($m, @distinct[160 .. 299]));
		cmp_ok($d->{admission_skips}, '>=', 128, "$name: skips grow");
		cmp_ok($d->{stores}, '<=', 32,
			"$name: stores stopped growing (well below 140 executions)");
		is($d->{hits}, 0, "$name: nothing hits");

		# 20 keys cycled: the rest of the trial stores them and fails, the
		# backoff (now 256) passes, and the next trial hits every time
		$name = "1 $proto, 20 keys cycled, first 300";
		$d = run_script($node, $name, $lines->(@repeating[0 .. 299]));
		counters_are($name, $d, model_run($m, @repeating[0 .. 299]));
		cmp_ok($d->{hits}, '>', 0, "$name: hits appear");

		$name = "1 $proto, 20 keys cycled, last 100";
		$d = run_script($node, $name, $lines->(@repeating[300 .. 399]));
		counters_are($name, $d, model_run($m, @repeating[300 .. 399]));
		is($d->{hits}, 100, "$name: cached again, every execution hits");
		is($d->{admission_skips}, 0, "$name: skips stopped growing");
	}
}

# ---------------------------------------------------------------------
# 2. the hot-key mix: hot keys cached, one-off keys rejected
# ---------------------------------------------------------------------
{
	my (@keys, @is_hot);
	my $cold = 0;
	for my $i (0 .. 2999)
	{
		if (lcg() < 0.3)
		{
			push @keys, 1 + int(lcg() * 100);
			push @is_hot, 1;
		}
		else
		{
			# never repeats, never a hot key
			push @keys, 1000 + 37 * $cold++;
			push @is_hot, 0;
		}
	}
	my @half1 = @keys[0 .. 1499];
	my @half2 = @keys[1500 .. 2999];
	my $hot2 = grep { $_ } @is_hot[1500 .. 2999];
	my $cold2 = 1500 - $hot2;
	note("hot-key mix: $cold distinct one-off keys; second half: "
		  . "$hot2 hot lookups, $cold2 one-off");

	# another statement than test 1's: two columns
	my $lines = sub { map { "SELECT id, v FROM t WHERE id = $_;" } @_ };
	my $m = model_new();
	my $d1 = run_script($node, '2 first half', $lines->(@half1));
	my $d2 = run_script($node, '2 second half', $lines->(@half2));
	my $w1 = model_run($m, @half1);
	my $w2 = model_run($m, @half2);
	note('2 the rule predicts: ' . show($w1) . ' / ' . show($w2));

	cmp_ok($d2->{hits}, '>=', $hot2 / 2,
		"2 second half: at least half of the $hot2 hot lookups hit");
	cmp_ok($d2->{hits}, '<=', $hot2,
		'2 second half: only hot lookups hit');
	cmp_ok($d1->{admission_rejects}, '>', 0, '2 first half: rejects');
	cmp_ok($d2->{admission_rejects}, '>=', $cold2 * 0.9,
		"2 second half: (nearly) all $cold2 one-off misses rejected");
	my $stores = $d1->{stores} + $d2->{stores};
	cmp_ok($stores, '<=', $cold / 10,
		"2 stores ($stores) much smaller than the $cold distinct one-off keys");
	cmp_ok($d2->{stores}, '<=', 20, '2 second half: stores nearly stopped');
	is($d1->{hits} + $d1->{misses} + $d1->{admission_skips}, 1500,
		'2 first half: every execution counted once');
	is($d2->{hits} + $d2->{misses} + $d2->{admission_skips}, 1500,
		'2 second half: every execution counted once');

	# the rule's own prediction, give or take a doorkeeper false positive
	for my $c (@cols)
	{
		for my $h ([ 'first half', $d1, $w1 ], [ 'second half', $d2, $w2 ])
		{
			my ($half, $got, $want) = @$h;
			ok(abs($got->{$c} - $want->{$c}) <= 3,
				"2 $half: $c is $got->{$c}, the rule predicts $want->{$c}");
		}
	}
}

# ---------------------------------------------------------------------
# 3. an expensive statement is always stored
# ---------------------------------------------------------------------
{
	my $expensive = sub { "SELECT sum(v) FROM t WHERE v >= $_[0];" };
	my $explain = $node->safe_psql('postgres', 'EXPLAIN ' . $expensive->(0));
	my ($cost) = $explain =~ /^\S.*?cost=[\d.]+\.\.([\d.]+)/;
	cmp_ok($cost, '>=', 1000, "3 the expensive statement's plan costs $cost");
	my $analyze = $node->safe_psql('postgres',
		'EXPLAIN (ANALYZE, TIMING OFF) ' . $expensive->(0));
	my ($ms) = $analyze =~ /Execution Time: ([\d.]+) ms/;
	cmp_ok($ms, '>=', 1, "3 the expensive statement runs in $ms ms");
	my $cheap_cost = $node->safe_psql('postgres',
		'EXPLAIN SELECT id FROM t WHERE id = 1');
	($cheap_cost) = $cheap_cost =~ /cost=[\d.]+\.\.([\d.]+)/;
	cmp_ok($cheap_cost, '<', 1000, "3 the cheap statement's plan costs $cheap_cost");

	# a cheap statement goes COLD (128 skips left)
	my $cheap = sub { map { "SELECT id FROM t WHERE id = $_;" } @_ };
	my $m = model_new();
	my $d = run_script($node, '3 cheap, distinct keys', $cheap->(1 .. 160));
	counters_are('3 cheap, distinct keys', $d, model_run($m, 1 .. 160));

	$d = run_script($node, '3 expensive, twice, after the cold cheap one',
		$cheap->(161), $expensive->(0), $expensive->(0));
	counters_are(
		'3 expensive, twice, after the cold cheap one',
		$d,
		{
			hits => 1,                 # the expensive one, second run
			misses => 1,               # its first run
			stores => 1,
			admission_skips => 1,      # the cheap one
			admission_rejects => 0
		});

	# always-distinct constants: 100 misses, all stored, none skipped
	$d = run_script($node, '3 expensive, distinct constants',
		map { $expensive->($_) } (1 .. 100));
	counters_are(
		'3 expensive, distinct constants',
		$d,
		{
			hits => 0,
			misses => 100,
			stores => 100,
			admission_skips => 0,
			admission_rejects => 0
		});
	# the same executions of a cheap statement would have gone COLD
	my $would = model_run(model_new(), 0, 0, 1 .. 100);
	cmp_ok($would->{admission_skips}, '>', 0,
		"3 (a cheap statement would have skipped $would->{admission_skips})");
}

# ---------------------------------------------------------------------
# 4. the statement table is bounded, and a used statement survives a flood
# ---------------------------------------------------------------------
{
	my $fnode = admission_node('admission_flood',
		"cachealot.max_statements = 100\n");
	my $small_size = admission_size($fnode);
	cmp_ok($small_size, '<', $default_size,
		"4 'cachealot admission' is smaller for 100 statements ($small_size) "
		  . "than for 5000 ($default_size)");

	my $lines = sub { map { "SELECT v FROM t WHERE id = $_;" } @_ };
	my $m = model_new();

	# COLD: 64 stored, 64 skipped, a failed trial, 128 skipped, another
	# failed trial: 256 skips left
	my $d = run_script($fnode, '4 made COLD', $lines->(1 .. 320));
	counters_are('4 made COLD', $d, model_run($m, 1 .. 320));

	# 1000 one-off statements, each its own query id: a predicate list of
	# ten, each 'id > 0' or 'v > 0' by the bits of its number
	my @flood = map {
		my $i = $_;
		'SELECT v FROM t WHERE id = 1'
		  . join('', map { ($i >> $_) & 1 ? ' AND v > 0' : ' AND id > 0' } 0 .. 9)
		  . ';'
	} (0 .. 999);
	my $explained = $fnode->safe_psql('postgres',
		join("\n",
			'SET compute_query_id = on;',
			map { "EXPLAIN (VERBOSE, COSTS OFF) $_" }
			  ('SELECT v FROM t WHERE id = 1;', @flood)));
	my @ids = $explained =~ /Query Identifier: (-?\d+)/g;
	my %ids = map { $_ => 1 } @ids;
	is(scalar(@ids), 1001, '4 EXPLAIN shows 1001 query ids');
	is(scalar(keys %ids), 1001,
		'4 the flood has 1000 distinct query ids, none the COLD one\'s');

	my $size_before = admission_size($fnode);
	$d = run_script($fnode, '4 the flood', @flood);
	counters_are(
		'4 the flood',
		$d,
		{
			hits => 0,
			misses => 1000,
			stores => 1000,
			admission_skips => 0,
			admission_rejects => 0
		});
	is(admission_size($fnode), $size_before,
		"4 'cachealot admission' has the same size after the flood");

	$d = run_script($fnode, '4 after the flood', $lines->(321 .. 370));
	{
		# About 77 of the 1000 land in the statement's set (13 sets); each
		# eviction there ages its usage (320) by 1/32 only, so it stays
		# above the one-off statements' and survives: its 50 executions
		# are skipped.  (When an eviction halved the others' usage, it was
		# evicted after about log2(320) + 7 additions and came back new.)
		my $want = model_run($m, 321 .. 370);
		counters_are('4 after the flood', $d, $want,
			qw(hits admission_rejects));
		counters_are('4 after the flood', $d, $want,
			qw(misses stores admission_skips));
		is($d->{admission_skips}, 50,
			'4 the COLD statement survived the flood: its 50 executions skipped');
	}

	# admission off in a session: looked up and stored again
	$d = run_script($fnode, '4 admission off', 'SET cachealot.admission = off;',
		$lines->(371 .. 390));
	counters_are(
		'4 admission off',
		$d,
		{
			hits => 0,
			misses => 20,
			stores => 20,
			admission_skips => 0,
			admission_rejects => 0
		});
	$fnode->stop;
}

# ---------------------------------------------------------------------
# 5. crash restart and immediate stop: admission starts afresh
# ---------------------------------------------------------------------
{
	# a statement of its own: a second predicate
	my $lines = sub { map { "SELECT v FROM t WHERE id = $_ AND v >= 0;" } @_ };
	my $next = 1;
	my $m = model_new();

	for my $how ('SIGKILL of a backend', 'immediate stop')
	{
		# COLD (the second time, from where the first restart left it)
		my @keys = ($next .. $next + 159);
		$next += 160;
		my $d = run_script($node, "5 $how: made COLD", $lines->(@keys));
		counters_are("5 $how: made COLD", $d, model_run($m, @keys));
		$d = run_script($node, "5 $how: still COLD", $lines->($next));
		counters_are("5 $how: still COLD", $d, model_run($m, $next++));
		is($d->{admission_skips}, 1, "5 $how: COLD before the crash");

		if ($how eq 'immediate stop')
		{
			$node->stop('immediate');
			$node->start;
		}
		else
		{
			my $bg = $node->background_psql('postgres', on_error_stop => 0);
			my $pid = $bg->query_safe('SELECT pg_backend_pid()');
			$node->safe_psql('postgres', 'CHECKPOINT');    # a short recovery
			my $offset = -s $node->logfile;
			ok(kill('KILL', $pid), "5 $how: SIGKILL sent to backend $pid");
			$node->wait_for_log(
				qr/all server processes terminated; reinitializing/, $offset);
			$node->wait_for_log(
				qr/database system is ready to accept connections/, $offset);
			eval { $bg->quit };
		}
		ok($node->poll_query_until('postgres', 'SELECT true'),
			"5 $how: the server is back");

		my $c = counters($node);
		is($c->{admission_skips}, 0, "5 $how: admission_skips is 0");
		is($c->{stores}, 0, "5 $how: stores is 0 (the cache starts empty)");
		is(admission_size($node), $default_size,
			"5 $how: 'cachealot admission' has its size");
		$node->safe_psql('postgres', 'SELECT cachealot_reset_stats()');

		# treated as new: every first miss is stored
		$m = model_new();
		@keys = ($next .. $next + 9);
		$next += 10;
		$d = run_script($node, "5 $how: after the restart", $lines->(@keys));
		counters_are("5 $how: after the restart", $d, model_run($m, @keys));
		is($d->{stores}, 10, "5 $how: its first misses are stored");
		is($d->{admission_skips}, 0, "5 $how: none is skipped");
		$d = run_script($node, "5 $how: a repeated query",
			$lines->($next, $next));
		counters_are("5 $how: a repeated query", $d,
			model_run($m, $next, $next));
		$next++;
		is($d->{hits}, 1, "5 $how: the repeat hits");
	}
}

# ---------------------------------------------------------------------
# 6. a statement sharing a COLD statement's text but for its constants
# ---------------------------------------------------------------------
{
	# ORDER BY 1 and ORDER BY 2: two query ids, one text fingerprint
	# (admission_text_fingerprint leaves numbers out)
	my $a = sub { map { "SELECT id, v FROM t WHERE id = $_ ORDER BY 1;" } @_ };
	my $b = 'SELECT id, v FROM t WHERE id = 7 ORDER BY 2;';
	my $m = model_new();
	my $d = run_script($node, '6 A made COLD', $a->(1 .. 160));
	counters_are('6 A made COLD', $d, model_run($m, 1 .. 160));

	# in a session of its own, B is a new statement: stored, then hit
	$d = run_script($node, '6 B in a new session',
		'SELECT id, v FROM t WHERE id = 8 ORDER BY 2;',
		'SELECT id, v FROM t WHERE id = 8 ORDER BY 2;');
	counters_are('6 B in a new session', $d, model_run(model_new(), 8, 8));

	# in the session that ran A, B is a statement of its own too (the text
	# fingerprint keeps ORDER BY positions)
	$d = run_script($node, '6 B after A in one session', $a->(161), $b, $b);
	{
		my $want = model_run($m, 161);
		my $want_b = model_run(model_new(), 7, 7);
		$want->{$_} += $want_b->{$_} for @cols;
		counters_are('6 B after A in one session', $d, $want,
			'admission_rejects');
		counters_are('6 B after A in one session', $d, $want,
			qw(hits misses stores admission_skips));
	}
}

$node->stop;

note(sprintf('015_admission took %.1f s', time - $t_start));
done_testing();
