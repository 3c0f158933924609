
# Copyright (c) 2026, cachealot developers

# 001_commit_window: a reader in the window between a commit becoming
# visible and its invalidation completing must never be served the entry
# cached before that commit (DESIGN.md 3.2, writer steps 2-3).
#
# cachealot.test_commit_delay holds the window open: the writer's commit is
# visible to new snapshots, then the writer sleeps before it advances the
# versions and drops "pending".  The isolation tester cannot see that sleep
# (it only sees heavyweight lock waits), hence a TAP test.
#
# Each scenario:
#   1. control: the cached query runs twice and the second run is a hit,
#      returning the value before the write (a build that never caches
#      fails here);
#   2. the writer commits under the delay; once the new value is visible
#      (read with the cache off), readers in fresh connections and in a
#      session that existed before the write run the cached query: they
#      must get the new value, and no hit may be counted.  The invalidation
#      counter not having moved proves the reads happened inside the window;
#   3. after the writer returns, the query gives the new value, and the
#      second run is a hit again.
# Scenarios: an autocommit UPDATE, an explicit BEGIN ... COMMIT, and a
# catalog change (CREATE OR REPLACE FUNCTION of an IMMUTABLE SQL function
# inlined into the cached query) with and without a data write.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;
use Time::HiRes qw(usleep time);

my $delay_ms = 3000;

my $node = CachealotNode->create(
	'commit_window', settings => q{
# an ANALYZE finishing during a read only costs a hit, but would make the
# hit counts below flaky
autovacuum = off
});

$node->safe_psql(
	'postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t VALUES (1, 'old'), (2, 'other');
CREATE FUNCTION label(int) RETURNS text IMMUTABLE LANGUAGE sql
	AS $$ SELECT 'f-old' $$;
-- declared IMMUTABLE (the user's promise), but slow: keeps a cacheable
-- query running while a writer commits
CREATE FUNCTION spin(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
	AS $$ BEGIN PERFORM pg_sleep(1.5); RETURN 0; END $$;
});

# Wait (bounded) until the writer's commit is visible
sub wait_visible
{
	my ($query, $expected) = @_;
	for (my $i = 0; $i < 10 * $PostgreSQL::Test::Utils::timeout_default; $i++)
	{
		return 1 if $node->truth($query) eq $expected;
		usleep(100_000);
	}
	return 0;
}

# The cached value before the write, and a hit to prove the cache works
sub control
{
	my ($name, $query, $expected) = @_;
	my $before = $node->cache_stats;
	is($node->safe_psql('postgres', $query), $expected, "$name: control, first run");
	is($node->safe_psql('postgres', $query), $expected, "$name: control, second run");
	my $after = $node->cache_stats;
	cmp_ok($after->{hits}, '>', $before->{hits},
		"$name: control, the second run is a hit");
}

# Run one statement in a background session, with the same text a fresh
# connection sends ("...;" parses to the same statement slice as the bare
# statement that safe_psql sends, so both share one cache entry).
my $bg_n = 0;
my %bg_rest;	# output already read past a start marker, per session

# Send a statement without waiting for its result; returns a ticket
sub bg_start
{
	my ($session, $sql) = @_;
	my $n = ++$bg_n;
	my $out = $session->query_until(qr/__start_$n\r?\n/,
		"\\echo __start_$n\n$sql;\n\\echo __end_$n\n");
	# a fast statement's result may have arrived in the same read
	$out =~ s/^.*__start_$n\r?\n//s;
	$bg_rest{$session} = $out;
	return $n;
}

# Wait for the statement sent as ticket $n and return its output
sub bg_finish
{
	my ($session, $n) = @_;
	my $out = $bg_rest{$session} // '';
	$out .= $session->query_until(qr/__end_$n\r?\n/, '')
	  unless $out =~ /__end_$n\r?\n/;
	delete $bg_rest{$session};
	$out =~ s/__end_$n\r?\n.*//s;
	chomp $out;
	return $out;
}

sub bgq
{
	my ($session, $sql) = @_;
	return bg_finish($session, bg_start($session, $sql));
}

# Reads inside the window: fresh connections and the long-lived $reader
sub check_window
{
	my ($name, $reader, $query, $expected, $inval_before) = @_;

	ok(wait_visible($query, $expected),
		"$name: the commit became visible to other sessions");

	my $before = $node->cache_stats;
	is($before->{invalidations}, $inval_before,
		"$name: the writer has not invalidated yet (window open)");

	for my $i (1 .. 3)
	{
		is($node->safe_psql('postgres', $query), $expected,
			"$name: window, fresh connection read $i sees the commit");
	}
	for my $i (1 .. 2)
	{
		is(bgq($reader, $query), $expected,
			"$name: window, existing session read $i sees the commit");
	}

	my $after = $node->cache_stats;
	is($after->{hits}, $before->{hits}, "$name: no hit inside the window");
	is($after->{invalidations}, $inval_before,
		"$name: all window reads happened before the invalidation");
}

# After the writer: fresh, then cached again
sub check_after
{
	my ($name, $query, $expected, $inval_before) = @_;

	my $before = $node->cache_stats;
	cmp_ok($before->{invalidations}, '>', $inval_before,
		"$name: the writer's invalidation is done");
	is($node->safe_psql('postgres', $query), $expected, "$name: after, first run");
	is($node->safe_psql('postgres', $query), $expected, "$name: after, second run");
	my $after = $node->cache_stats;
	cmp_ok($after->{hits}, '>', $before->{hits},
		"$name: after, the second run is a hit");
}

# Run one scenario.  $pre: statements the writer runs before its
# delayed commit statement $commit (autocommit if $pre is empty).
sub scenario
{
	my (%s) = @_;
	my $name = $s{name};
	my $query = $s{query};

	control($name, $query, $s{old});

	# a session that exists (and has read, and cached syscache entries)
	# before the write
	my $reader = $node->background_psql('postgres');
	my $h0 = $node->cache_stats->{hits};
	is(bgq($reader, $query), $s{old},
		"$name: existing session reads the old value before the write");
	cmp_ok($node->cache_stats->{hits}, '>', $h0,
		"$name: existing session is served the entry cached by others");

	my $writer = $node->background_psql('postgres');
	$writer->query_safe("SET cachealot.test_commit_delay = $delay_ms");
	for my $sql (@{ $s{pre} })
	{
		$writer->query_safe($sql);
	}
	if (@{ $s{pre} })
	{
		# inside the writer's open transaction: others still see the old
		# value (from the cache or not), the writer sees its own write
		is($node->safe_psql('postgres', $query), $s{old},
			"$name: before COMMIT, others see the old value");
		is(bgq($writer, $query), $s{new},
			"$name: before COMMIT, the writer sees its own write");
	}

	my $inval_before = $node->cache_stats->{invalidations};
	my $t0 = time;
	$writer->query_until(qr/go/, "\\echo go\n$s{commit}\n");

	check_window($name, $reader, $query, $s{new}, $inval_before);

	# wait for the writer's statement to return
	$writer->query_safe('SELECT 1');
	cmp_ok(time - $t0, '>=', $delay_ms / 1000,
		"$name: the commit was delayed");
	$writer->quit;

	check_after($name, $query, $s{new}, $inval_before);
	is(bgq($reader, $query), $s{new},
		"$name: existing session sees the new value after the write");
	$reader->quit;
}

my $q = 'SELECT v FROM t WHERE id = 1';

scenario(
	name => 'autocommit UPDATE',
	query => $q,
	old => 'old',
	new => 'new1',
	pre => [],
	commit => "UPDATE t SET v = 'new1' WHERE id = 1;");

scenario(
	name => 'BEGIN ... COMMIT',
	query => $q,
	old => 'new1',
	new => 'new2',
	pre => [ 'BEGIN', "UPDATE t SET v = 'new2' WHERE id = 1" ],
	commit => 'COMMIT;');

my $fq = 'SELECT label(id) FROM t WHERE id = 1';

scenario(
	name => 'CREATE OR REPLACE FUNCTION',
	query => $fq,
	old => 'f-old',
	new => 'f-new',
	pre => [],
	commit => q{CREATE OR REPLACE FUNCTION label(int) RETURNS text IMMUTABLE
	LANGUAGE sql AS $$ SELECT 'f-new' $$;});

# a catalog change and a data write in one explicit transaction
my $bq = 'SELECT v || label(id) FROM t WHERE id = 1';

scenario(
	name => 'BEGIN; UPDATE; CREATE OR REPLACE FUNCTION; COMMIT',
	query => $bq,
	old => 'new2f-new',
	new => 'new3f-new3',
	pre => [
		'BEGIN',
		"UPDATE t SET v = 'new3' WHERE id = 1",
		q{CREATE OR REPLACE FUNCTION label(int) RETURNS text IMMUTABLE
	LANGUAGE sql AS $$ SELECT 'f-new3' $$}
	],
	commit => 'COMMIT;');

# A miss in flight across a whole commit: the reader's snapshot predates
# the commit, its run ends after the writer has invalidated.  Its rows are
# old and must not be served to anyone afterwards (the store must not use
# versions read after the snapshot).
{
	my $name = 'miss in flight';
	my $sq = 'SELECT v FROM t WHERE id = 1 AND spin(id) = 0';
	my $active = q{SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE '%spin(id) = 0%' AND state = 'active'
		AND pid <> pg_backend_pid()};

	my $r = $node->background_psql('postgres');
	my $before = $node->cache_stats;
	my $ticket = bg_start($r, $sq);

	# control: the slow read is a cacheable miss, not a bypass
	my $started = 0;
	for (my $i = 0; $i < 10 * $PostgreSQL::Test::Utils::timeout_default; $i++)
	{
		if ($node->cache_stats->{misses} > $before->{misses})
		{
			$started = 1;
			last;
		}
		usleep(20_000);
	}
	ok($started, "$name: the slow read started as a cache miss");

	$node->safe_psql('postgres',
		"SET cachealot.test_commit_delay = 200; UPDATE t SET v = 'new5' WHERE id = 1"
	);
	is($node->safe_psql('postgres', $active), '1',
		"$name: the writer committed and invalidated while the read ran");
	is(bg_finish($r, $ticket), 'new3',
		"$name: the slow read returns its snapshot's value");
	$r->quit;

	my $mid = $node->cache_stats;
	is($node->safe_psql('postgres', $sq), 'new5',
		"$name: the next read sees the commit");
	is($node->cache_stats->{hits}, $mid->{hits},
		"$name: the next read is not served the in-flight rows");
	is($node->safe_psql('postgres', $sq), 'new5', "$name: read again");
	cmp_ok($node->cache_stats->{hits}, '>', $mid->{hits},
		"$name: control, the read after is a hit");
}

$node->stop;

done_testing();
