
# Copyright (c) 2026, cachealot developers

# 009_faults: faults in the middle of the cache's work leave nothing behind
# (issue 4, "Faults").
#
#   1. a miss cancelled while its result is being captured
#      (pg_cancel_backend, statement_timeout), or failing with an ERROR on a
#      late row (at top level, and caught by a PL/pgSQL exception block),
#      stores nothing: stores, entries and memory_used are unchanged, and
#      the query afterwards returns the right rows, is stored, and hits;
#   2. a hit being replayed to a client that stopped reading (psql copying
#      the rows into a pipe nobody reads, so the backend blocks on its
#      socket with the entry pinned), interrupted: pg_terminate_backend
#      ends the backend; pg_cancel_backend and statement_timeout fail the
#      statement once the client reads again and the rest of the rows are
#      not sent, as without the cache, and the session's next statement
#      runs untouched; in every case the pin is released (a flush brings
#      memory_used back to the bare index);
#   3. a backend leaving in the middle of a transaction that wrote a table,
#      by quitting or by pg_terminate_backend, and a backend terminated
#      while its commit sits in the window where the table is pending
#      (cachealot.test_commit_delay): the table's cached queries give the
#      committed value and hit again (no pending count is left behind,
#      which would make every read of the table bypass forever);
#   4. a backend killed with SIGKILL in the middle of a capture, in the
#      middle of replaying a hit to a client that does not read, and in the
#      commit window: the postmaster restarts every backend, the cache comes
#      back empty (entries = 0, memory_used = the bare index), queries give
#      the right rows and hit again, and a table written before the kill
#      can be written, read fresh and hit again;
#   5. one transaction that writes 3,000 partitions (an UPDATE through the
#      partitioned parent and an INSERT into every partition directly)
#      commits without error, and every query cached on the parent and on
#      partitions returns fresh rows afterwards, then hits again.
# Every check that a fault left nothing behind comes with a control that
# the cache was exercised (a store, a hit).

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;
use Time::HiRes qw(usleep time);

my $t_start = time;

my $node = CachealotNode->create(
	'faults', settings => q{
# every eligible query is cached, whatever the default admission rule
cachealot.min_cost = 0
autovacuum = off
# the 3,000-partition transaction locks every partition; JIT would spend
# seconds compiling its 6,000 expressions
max_locks_per_transaction = 256
jit = off
restart_after_crash = on
});

my $slow_rows = 20;
my $big_rows = 700;
$node->safe_psql(
	'postgres', qq{
-- declared IMMUTABLE on purpose (the user's promise), but slow: 0.1 s a
-- row keeps a cacheable miss capturing for ~2 s
CREATE FUNCTION slow(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
	AS \$\$ BEGIN PERFORM pg_sleep(0.1); RETURN \$1; END \$\$;
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t SELECT g, g * 10 FROM generate_series(1, $slow_rows) g;
-- 1000 / v fails on row 15 of 20
CREATE TABLE d (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO d SELECT g, CASE WHEN g = 15 THEN 0 ELSE g END
	FROM generate_series(1, 20) g;
-- a large result (~700 kB) for a client that stops reading
CREATE TABLE bigt (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO bigt SELECT g, repeat(chr(65 + g % 26), 1000)
	FROM generate_series(1, $big_rows) g;
-- written around the faults
CREATE TABLE w (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO w VALUES (1, 100), (2, 200), (3, 300);
});

sub wait_for
{
	my ($cond) = @_;
	for (1 .. 100 * $PostgreSQL::Test::Utils::timeout_default)
	{
		return 1 if $cond->();
		usleep(10_000);
	}
	return 0;
}

# A psql session in the background running a script, its output kept
# unread until bg_finish (so that psql, then the backend, block once the
# pipe is full).  No ON_ERROR_STOP: after an error the script goes on.
my $tmpdir = PostgreSQL::Test::Utils::tempdir();
my $nscripts = 0;

sub bg_start
{
	my ($appname, $sql, $pgoptions) = @_;
	my %bg = (out => '', err => '', app => $appname);
	my $file = "$tmpdir/script_" . ++$nscripts . '.sql';
	$sql .= ";\n" unless $sql =~ /;\s*$/;
	open my $fh, '>', $file or die "could not write $file: $!";
	print $fh $sql;
	close $fh;
	local $ENV{PGOPTIONS} = $pgoptions if defined $pgoptions;
	$bg{h} = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-d',
			$node->connstr('postgres') . " application_name=$appname",
			'-f', $file
		],
		'<', \undef, '>', \$bg{out}, '2>', \$bg{err},
		IPC::Run::timeout(180));
	return \%bg;
}

sub bg_finish
{
	my ($bg) = @_;
	eval { $bg->{h}->finish; 1 } or return -1;
	# IPC::Run's result is undef when the command exited with 0
	return $bg->{h}->result // 0;
}

# pid of the backend serving a background session ('' if none)
sub bg_pid
{
	my ($bg, $extra) = @_;
	$extra //= '';
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE application_name = '$bg->{app}' $extra"
	);
}

sub gone
{
	my ($pid) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE pid = $pid") eq '0';
}

# Run a query twice, each time in a new connection (the module's
# check_and_hit reads in one session and asks for any hit): checks both
# results and that the second run is exactly one hit; returns how many
# results the first run stored
sub node_check_and_hit
{
	my ($name, $sql, $want) = @_;
	my $b = $node->cache_stats;
	is($node->safe_psql('postgres', $sql), $want, "$name: right rows");
	my $m = $node->cache_stats;
	is($node->safe_psql('postgres', $sql), $want, "$name: right rows again");
	my $a = $node->cache_stats;
	is($a->{hits} - $m->{hits}, 1, "$name: the second run is a hit");
	return $m->{stores} - $b->{stores};
}

# Nothing of a failed capture left behind
sub nothing_stored
{
	my ($name, $before) = @_;
	my $after = $node->cache_stats;
	is($after->{stores}, $before->{stores}, "$name: nothing stored");
	is($after->{entries}, $before->{entries}, "$name: entries unchanged");
	is($after->{memory_used}, $before->{memory_used},
		"$name: memory_used unchanged");
	is($after->{hits}, $before->{hits}, "$name: no hit");
	return $after;
}

my $slow_sql = 'SELECT id, v, slow(id) FROM t ORDER BY id';
my $slow_want = join("\n", map { "$_|" . ($_ * 10) . "|$_" } (1 .. $slow_rows));

$node->safe_psql('postgres', 'SELECT cachealot_flush()');
my $baseline = $node->cache_stats->{memory_used};
note "baseline memory_used: $baseline";

# ---------------------------------------------------------------------
# 1. Cancelled and failing captures store nothing
# ---------------------------------------------------------------------
{
	my $name = 'pg_cancel_backend mid-capture';
	my $before = $node->cache_stats;
	my $bg = bg_start('cancel_me', $slow_sql);
	ok(wait_for(sub { $node->cache_stats->{misses} > $before->{misses} }),
		"$name: the slow query started as a miss");
	usleep(400_000);    # a few rows captured
	my $pid = bg_pid($bg, "AND state = 'active'");
	isnt($pid, '', "$name: the query is still running");
	is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"),
		't', "$name: cancel sent");
	my $rc = bg_finish($bg);
	isnt($rc, 0, "$name: the query failed");
	like($bg->{err}, qr/canceling statement due to user request/,
		"$name: it was cancelled");
	nothing_stored($name, $before);
	is(node_check_and_hit("$name, then the same query", $slow_sql, $slow_want),
		1, "$name: the same query afterwards is stored");
}

{
	my $name = 'statement_timeout mid-capture';
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	my $before = $node->cache_stats;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET statement_timeout = '500ms'; $slow_sql");
	isnt($ret, 0, "$name: the query failed");
	like($err, qr/canceling statement due to statement timeout/,
		"$name: it timed out");
	my $after = nothing_stored($name, $before);
	is($after->{misses} - $before->{misses}, 1, "$name: it was a capturing miss");
	is(node_check_and_hit("$name, then the same query", $slow_sql, $slow_want),
		1, "$name: the same query afterwards is stored");
}

{
	my $name = 'ERROR on a late row';
	my $dsql = 'SELECT id, 1000 / v FROM d ORDER BY id';
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	my $before = $node->cache_stats;
	for my $i (1 .. 2)
	{
		my ($ret, $out, $err) = $node->psql('postgres', $dsql);
		isnt($ret, 0, "$name: run $i failed");
		like($err, qr/division by zero/, "$name: run $i: division by zero");
	}
	my $after = nothing_stored($name, $before);
	is($after->{misses} - $before->{misses}, 2, "$name: both runs were misses");

	# the same, caught inside a subtransaction: the transaction goes on
	my ($ret, $out, $err) = $node->psql(
		'postgres', q{
DO $$
BEGIN
	BEGIN
		PERFORM id, 1000 / v FROM d ORDER BY id;
	EXCEPTION WHEN division_by_zero THEN
		RAISE NOTICE 'caught';
	END;
END $$;
SELECT 'done';});
	is($ret, 0, "$name, caught: the transaction went on");
	like($err, qr/caught/, "$name, caught: the error was caught");
	my $after2 = nothing_stored("$name, caught", $after);
	cmp_ok($after2->{misses}, '>', $after->{misses},
		"$name, caught: the inner query was a capturing miss");

	$node->safe_psql('postgres', 'UPDATE d SET v = 5 WHERE id = 15');
	my $dwant = join("\n",
		map { "$_|" . int(1000 / ($_ == 15 ? 5 : $_)) } (1 .. 20));
	is(node_check_and_hit("$name, after the fix", $dsql, $dwant),
		1, "$name: the query is stored once it succeeds");
}

# ---------------------------------------------------------------------
# 2. A hit being replayed to a client that stopped reading, interrupted
# ---------------------------------------------------------------------
my $copy_sql = 'COPY (SELECT id, v FROM bigt ORDER BY id) TO STDOUT';
my $copy_want =
  join("\n", map { "$_\t" . (chr(65 + $_ % 26) x 1000) } (1 .. $big_rows));

# Cache the large result, then start a client that asks for it and does
# not read: psql copies the rows to a pipe nobody reads, so the backend
# blocks on its socket in the middle of the replay, the entry pinned
sub start_blocked_hit
{
	my ($name, $app, $pgoptions, $tail) = @_;
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	my $s1 = $node->cache_stats;
	is($node->safe_psql('postgres', $copy_sql), $copy_want, "$name: first run");
	my $s2 = $node->cache_stats;
	is($s2->{stores} - $s1->{stores}, 1, "$name: the large result is stored");
	my $bg = bg_start($app, "$copy_sql;\n" . ($tail // ''), $pgoptions);
	ok( wait_for(
			sub { bg_pid($bg, "AND wait_event = 'ClientWrite'") ne '' }),
		"$name: the backend is blocked sending the hit");
	is($node->cache_stats->{hits} - $s2->{hits}, 1, "$name: it is replaying a hit");
	return $bg;
}

# the pin is gone: a flush brings memory_used back to the bare index
sub pin_released
{
	my ($name) = @_;
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	my $s = $node->cache_stats;
	is($s->{entries}, 0, "$name: empty after a flush");
	is($s->{memory_used}, $baseline, "$name: no pinned memory left behind");
	node_check_and_hit("$name: the large result again", $copy_sql, $copy_want);
}

{
	my $name = 'pg_terminate_backend mid-hit';
	my $bg = start_blocked_hit($name, 'term_hit');
	my $pid = bg_pid($bg);
	is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"),
		't', "$name: terminated");
	ok(wait_for(sub { gone($pid) }), "$name: the blocked backend exited");
	isnt(bg_finish($bg), 0, "$name: the client lost its connection");
	cmp_ok(length($bg->{out}), '<', length($copy_want),
		"$name: the client had not got the whole result");
	pin_released($name);
}

# A cancel (or a statement_timeout) that arrives while the backend is
# blocked sending rows takes effect once the client reads again, as it
# does without the cache: the statement fails and the rest of its rows are
# not sent; the session's next statement is not affected.
my $next_sql = "SELECT 'next statement', count(*) FROM bigt;\n";
sub check_interrupted_hit
{
	my ($name, $bg, $errpat) = @_;
	my $rc = bg_finish($bg);
	my @lines = grep { !/^next statement/ } split /\n/, $bg->{out};
	note "$name: client exit code $rc, " . scalar(@lines) . " rows, stderr: $bg->{err}";
	like($bg->{err}, qr/:1: ERROR:  $errpat/, "$name: the statement was interrupted");
	cmp_ok(scalar(@lines), '<', $big_rows,
		"$name: the rest of the result was not sent");
	like($bg->{out}, qr/^next statement\|$big_rows$/m,
		"$name: the session's next statement ran");
	unlike($bg->{err}, qr/:2: ERROR/,
		"$name: the session's next statement got no error");
	pin_released($name);
}

{
	my $name = 'pg_cancel_backend mid-hit';
	my $bg = start_blocked_hit($name, 'cancel_hit', undef, $next_sql);
	my $pid = bg_pid($bg);
	is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"),
		't', "$name: cancel sent");
	usleep(200_000);
	check_interrupted_hit($name, $bg, 'canceling statement due to user request');
}

{
	my $name = 'statement_timeout mid-hit';
	my $bg = start_blocked_hit($name, 'timeout_hit', '-c statement_timeout=1000',
		$next_sql);
	usleep(1_500_000);    # past the timeout, still blocked
	check_interrupted_hit($name, $bg,
		'canceling statement due to statement timeout');
}

# ---------------------------------------------------------------------
# 3. Backends leaving in the middle of a writing transaction
# ---------------------------------------------------------------------
my $w_sql = 'SELECT v FROM w WHERE id = 2';
my $w_val = 200;

# the committed value of w.2 is read right and hits; then a committed
# write is seen at once, and hits again
sub w_alive
{
	my ($name) = @_;
	is($node->truth($w_sql), $w_val, "$name: the committed value is $w_val");
	node_check_and_hit("$name: w", $w_sql, $w_val);
	$w_val++;
	$node->safe_psql('postgres', "UPDATE w SET v = $w_val WHERE id = 2");
	node_check_and_hit("$name: w after a new write", $w_sql, $w_val);
}

# After a control that w.2 hits, a writer (application name $app) whose
# commit of a new value is visible but held in the commit window
# (cachealot.test_commit_delay): its background session, its backend's pid
# and the new value
sub start_window_writer
{
	my ($name, $app) = @_;
	node_check_and_hit("$name: control", $w_sql, $w_val);
	my $new = $w_val + 1000;
	my $bg = bg_start($app,
		"SET cachealot.test_commit_delay = 20000; UPDATE w SET v = $new WHERE id = 2"
	);
	ok(wait_for(sub { $node->truth($w_sql) eq $new }),
		"$name: the commit became visible");
	my $pid = bg_pid($bg);
	isnt($pid, '', "$name: the writer is still in its commit");
	return ($bg, $pid, $new);
}

{
	my $name = 'session quits mid-transaction';
	node_check_and_hit("$name: control", $w_sql, $w_val);
	my $s = $node->background_psql('postgres');
	$s->query_safe('BEGIN');
	$s->query_safe('UPDATE w SET v = -1 WHERE id = 2');
	is($s->query_safe($w_sql), '-1', "$name: the writer sees its own write");
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	my $h0 = $node->cache_stats->{hits};
	is($node->safe_psql('postgres', $w_sql), $w_val,
		"$name: others see the committed value meanwhile");
	cmp_ok($node->cache_stats->{hits}, '>', $h0, "$name: and it hits meanwhile");
	$s->quit;
	ok(wait_for(sub { gone($pid) }), "$name: the backend exited");
	$h0 = $node->cache_stats->{hits};
	is($node->safe_psql('postgres', $w_sql), $w_val,
		"$name: the committed value after the exit");
	cmp_ok($node->cache_stats->{hits}, '>', $h0, "$name: served from the cache");
	w_alive($name);
}

{
	my $name = 'pg_terminate_backend mid-transaction';
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('BEGIN');
	$s->query_safe('UPDATE w SET v = -2 WHERE id = 2');
	$s->query_safe('UPDATE t SET v = -2 WHERE id = 2');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"),
		't', "$name: terminated");
	ok(wait_for(sub { gone($pid) }), "$name: the backend exited");
	eval { $s->quit; };
	w_alive($name);
}

{
	my $name = 'pg_terminate_backend in the commit window';
	my ($bg, $pid, $new) = start_window_writer($name, 'window_term');
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	ok(wait_for(sub { gone($pid) }), "$name: the writer exited");
	bg_finish($bg);
	$w_val = $new;
	w_alive($name);
}

# ---------------------------------------------------------------------
# 4. SIGKILL: crash restart, the cache comes back empty and correct
# ---------------------------------------------------------------------
sub kill9_and_wait
{
	my ($name, $pid) = @_;
	$node->safe_psql('postgres', 'CHECKPOINT');    # a short recovery
	my $offset = -s $node->logfile;
	ok(kill('KILL', $pid), "$name: SIGKILL sent to backend $pid");
	$node->wait_for_log(qr/all server processes terminated; reinitializing/,
		$offset);
	$node->wait_for_log(qr/database system is ready to accept connections/,
		$offset);
	ok($node->poll_query_until('postgres', 'SELECT true'),
		"$name: the server restarted");
	my $s = $node->cache_stats;
	is($s->{entries}, 0, "$name: the cache came back empty");
	is($s->{memory_used}, $baseline, "$name: memory_used is the bare index");
}

{
	my $name = 'SIGKILL mid-capture';
	$node->safe_psql('postgres', 'SELECT cachealot_flush()');
	my $before = $node->cache_stats;
	my $bg = bg_start('kill_capture', $slow_sql);
	ok(wait_for(sub { $node->cache_stats->{misses} > $before->{misses} }),
		"$name: the slow query started as a miss");
	usleep(400_000);
	my $pid = bg_pid($bg, "AND state = 'active'");
	isnt($pid, '', "$name: the query is running");
	kill9_and_wait($name, $pid);
	isnt(bg_finish($bg), 0, "$name: the client lost its connection");
	is(node_check_and_hit("$name: the slow query", $slow_sql, $slow_want),
		1, "$name: the slow query is stored again");
	w_alive($name);
}

{
	my $name = 'SIGKILL mid-hit';
	my $bg = start_blocked_hit($name, 'kill_hit');
	my $pid = bg_pid($bg);
	kill9_and_wait($name, $pid);
	isnt(bg_finish($bg), 0, "$name: the client lost its connection");
	cmp_ok(length($bg->{out}), '<', length($copy_want),
		"$name: the client had not got the whole result");
	is(node_check_and_hit("$name: the large result", $copy_sql, $copy_want),
		1, "$name: the large result is stored again");
	w_alive($name);
}

{
	my $name = 'SIGKILL in the commit window';
	my ($bg, $pid, $new) = start_window_writer($name, 'window_kill');
	my $h0 = $node->cache_stats->{hits};
	is($node->safe_psql('postgres', $w_sql), $new,
		"$name: a reader in the window sees the commit");
	is($node->cache_stats->{hits}, $h0, "$name: and is not served the old entry");
	kill9_and_wait($name, $pid);
	bg_finish($bg);
	$w_val = $new;
	w_alive($name);
	node_check_and_hit("$name: t", 'SELECT v FROM t WHERE id = 3', 30);
}

# ---------------------------------------------------------------------
# 5. One transaction writing 3,000 partitions
# ---------------------------------------------------------------------
{
	my $name = '3000 partitions';
	my $nparts = 3000;
	my $t0 = time;
	my $create = "CREATE TABLE part (k int NOT NULL, v int NOT NULL) PARTITION BY LIST (k);\n";
	for (my $lo = 0; $lo < $nparts; $lo += 500)
	{
		my $hi = $lo + 499;
		$create .= qq{DO \$\$ BEGIN FOR i IN $lo..$hi LOOP
	EXECUTE format('CREATE TABLE part_%s PARTITION OF part FOR VALUES IN (%s)', i, i);
END LOOP; END \$\$;\n};
	}
	$create .= "INSERT INTO part SELECT g, g FROM generate_series(0, $nparts - 1) g;\n";
	$node->safe_psql('postgres', $create);
	note sprintf('%s: created in %.1f s', $name, time - $t0);

	my @picked = (0, 1, 7, 150, 999, 1000, 1234, 1500, 2047, 2500, 2998, 2999);
	my %rows = map { $_ => [$_] } (0 .. $nparts - 1);    # k => [v, ...]

	my $expect = sub {
		my @q;
		my ($n, $sum) = (0, 0);
		for my $k (0 .. $nparts - 1)
		{
			$n += @{ $rows{$k} };
			$sum += $_ for @{ $rows{$k} };
		}
		push @q, [ 'SELECT count(*), sum(v) FROM part', "$n|$sum" ];
		for my $k (@picked[ 0, 6, 11 ])
		{
			push @q,
			  [
				"SELECT k, v FROM part WHERE k = $k ORDER BY v",
				join("\n", map { "$k|$_" } sort { $a <=> $b } @{ $rows{$k} })
			  ];
		}
		for my $k (@picked)
		{
			push @q,
			  [
				"SELECT k, v FROM part_$k ORDER BY v",
				join("\n", map { "$k|$_" } sort { $a <=> $b } @{ $rows{$k} })
			  ];
		}
		return \@q;
	};

	# run every query once; returns the hits they made
	my $run_all = sub {
		my ($label) = @_;
		my $q = $expect->();
		my $b = $node->cache_stats;
		my $wrong = 0;
		for my $e (@$q)
		{
			my $got = $node->safe_psql('postgres', $e->[0]);
			if ($got ne $e->[1])
			{
				$wrong++;
				diag("$label: $e->[0]: got '$got', expected '$e->[1]'");
			}
		}
		is($wrong, 0, "$name: $label: all " . scalar(@$q) . ' queries right');
		my $a = $node->cache_stats;
		return ($a->{hits} - $b->{hits}, scalar(@$q));
	};

	$run_all->('before the write, first run');
	my ($hits, $nq) = $run_all->('before the write, second run');
	is($hits, $nq, "$name: before the write, every query hits");

	$t0 = time;
	my $inv0 = $node->cache_stats->{invalidations};
	my ($ret, $out, $err) = $node->psql(
		'postgres', qq{
BEGIN;
UPDATE part SET v = v + 1;
DO \$\$ BEGIN FOR i IN 0..$nparts - 1 LOOP
	EXECUTE format('INSERT INTO part_%s VALUES (%s, %s)', i, i, 100000 + i);
END LOOP; END \$\$;
COMMIT;});
	is($ret, 0, "$name: the transaction writing every partition committed");
	is($err, '', "$name: without any error");
	my $inv = $node->cache_stats->{invalidations} - $inv0;
	note sprintf('%s: write transaction took %.1f s, %d invalidations',
		$name, time - $t0, $inv);
	cmp_ok($inv, '>=', 1000, "$name: the commit invalidated the partitions' slots");
	for my $k (0 .. $nparts - 1)
	{
		$rows{$k} = [ $k + 1, 100000 + $k ];
	}

	($hits) = $run_all->('after the write, first run');
	is($hits, 0, "$name: after the write, no query is served an old entry");
	($hits, $nq) = $run_all->('after the write, second run');
	is($hits, $nq, "$name: after the write, every query hits again");
}

# no crash but the three SIGKILLs, no failed assertion
my $log = slurp_file($node->logfile);
my @bad = grep { /PANIC|TRAP:|terminated by signal (?!9:)|was terminated by exception/ }
  split /\n/, $log;
is(scalar(@bad), 0, 'the server log shows no crash but the intended SIGKILLs')
  or diag(join("\n", @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]));
my @kills = ($log =~ /terminated by signal 9/g);
is(scalar(@kills), 3, 'three backends were killed by SIGKILL');

$node->stop;
note sprintf('009_faults took %.1f s', time - $t_start);

done_testing();
