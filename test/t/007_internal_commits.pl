
# Copyright (c) 2026, cachealot developers

# 007_internal_commits: statements that commit internally, once per table
# they process, must make each table's cached results unreachable at the
# commit that changes it (DESIGN 3.5), not only at their last one.
#
#   1. VACUUM FULL t1, t2; CLUSTER without a table (every table clustered
#      before); CLUSTER of a partitioned table (one transaction per
#      partition): every table is locked by a session of its own, so the
#      command stops before each table; at each stop, the tables already
#      processed are checked against the executor, and the table it waits
#      for is read (cached) in its locker's session just before it is
#      released.  The queries read ctid, which a rewrite changes while the
#      rows stay the same: a result cached before a table's rewrite
#      committed and served after it is stale.  After the command, every
#      query is fresh and hits again.
#   2. ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY, held between its
#      two transactions by a session that read the parent: the parent's
#      cached query no longer includes the partition's rows, in between and
#      after; the partition's own query keeps them.
#   3. a procedure that commits inside (UPDATE; COMMIT; UPDATE; COMMIT, and
#      a ROLLBACK), held after each commit by an advisory lock: another
#      session sees each committed value in turn, never a cached older one.
# Every freshness check comes with a control that the query hit before.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode qw(check_and_hit);
use Time::HiRes qw(usleep time);

# bounded: no wait in this test may take more than a minute
$PostgreSQL::Test::Utils::timeout_default = 60;

my $node = CachealotNode->create(
	'internal_commits', settings => q{
cachealot.min_cost = 0
# deterministic rewrites (dead rows removed) and no background transaction
# between a read's snapshot and its lookup
autovacuum = off
});

$node->safe_psql(
	'postgres', q{
-- VACUUM FULL: the first rows deleted, so a rewrite moves the rest up
CREATE TABLE vf1 (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE vf2 (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO vf1 SELECT g, 'vf1-' || g FROM generate_series(1, 6) g;
INSERT INTO vf2 SELECT g, 'vf2-' || g FROM generate_series(1, 6) g;
DELETE FROM vf1 WHERE id <= 3;
DELETE FROM vf2 WHERE id <= 2;
-- CLUSTER: clustered once, then an updated row moves to the end
CREATE TABLE cl1 (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE cl2 (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO cl1 SELECT g, 'cl1-' || g FROM generate_series(5, 1, -1) g;
INSERT INTO cl2 SELECT g, 'cl2-' || g FROM generate_series(5, 1, -1) g;
CLUSTER cl1 USING cl1_pkey;
CLUSTER cl2 USING cl2_pkey;
UPDATE cl1 SET v = v || '!' WHERE id = 1;
UPDATE cl2 SET v = v || '!' WHERE id IN (1, 2);
-- CLUSTER of a partitioned table, partition by partition
CREATE TABLE cp (id int NOT NULL, v text NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE cp1 PARTITION OF cp FOR VALUES FROM (0) TO (100);
CREATE TABLE cp2 PARTITION OF cp FOR VALUES FROM (100) TO (200);
CREATE INDEX cp_id ON cp (id);
INSERT INTO cp SELECT g, 'cp-' || g FROM generate_series(5, 1, -1) g;
INSERT INTO cp SELECT g, 'cp-' || g FROM generate_series(105, 101, -1) g;
-- DETACH PARTITION CONCURRENTLY
CREATE TABLE dp (id int NOT NULL, v text NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE dp1 PARTITION OF dp FOR VALUES FROM (0) TO (10);
CREATE TABLE dp2 PARTITION OF dp FOR VALUES FROM (10) TO (20);
INSERT INTO dp VALUES (1, 'a'), (2, 'b'), (11, 'k'), (12, 'l');
-- a procedure that commits inside
CREATE TABLE pc (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO pc VALUES (1, 0);
CREATE PROCEDURE pc_steps() LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pc SET v = 1 WHERE id = 1;
    COMMIT;
    -- held here until the test releases lock 1
    PERFORM pg_advisory_lock(1);
    PERFORM pg_advisory_unlock(1);
    UPDATE pc SET v = 2 WHERE id = 1;
    COMMIT;
    PERFORM pg_advisory_lock(2);
    PERFORM pg_advisory_unlock(2);
    UPDATE pc SET v = 99 WHERE id = 1;
    ROLLBACK;
    UPDATE pc SET v = v + 1 WHERE id = 1;
    COMMIT;
END
$$;
});

my $reader = $node->background_psql('postgres');

# The cacheable query of a table: each row's physical place and contents
sub ctid_query
{
	my ($table) = @_;
	return "SELECT string_agg(ctid::text || '=' || id::text || ':' || v, ',' ORDER BY id) FROM $table";
}

# Wait until backend $pid waits for a lock; return what it waits for (the
# relation's name, or the lock type)
sub lock_awaited
{
	my ($pid) = @_;
	my $deadline = time + 60;
	while (time < $deadline)
	{
		my $what = $node->safe_psql(
			'postgres', qq{
SELECT coalesce(l.relation::regclass::text, l.locktype)
  FROM pg_locks l WHERE l.pid = $pid AND NOT l.granted});
		return $what if $what ne '';
		usleep(20_000);
	}
	die "backend $pid never waited for a lock";
}

# Start $cmd in a session of its own; return the session and its pid
sub start_command
{
	my ($cmd) = @_;
	my $s = $node->background_psql('postgres');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_until(qr/started/, "\\echo started\n$cmd;\n");
	return ($s, $pid);
}

# ---------------------------------------------------------------------
# 1. Commands that rewrite one table per transaction
# ---------------------------------------------------------------------
sub stepwise
{
	my ($name, $cmd, @tables) = @_;
	my %q = map { $_ => ctid_query($_) } @tables;
	my %before = map { $_ => $node->truth($q{$_}) } @tables;

	check_and_hit("$name: before, $_", $reader, $q{$_}, $before{$_})
	  for @tables;

	# one session per table holds it, so the command stops before each
	my %locker;
	for my $t (@tables)
	{
		my $s = $node->background_psql('postgres');
		$s->query_safe('BEGIN');
		$s->query_safe("LOCK TABLE $t IN ACCESS SHARE MODE");
		$locker{$t} = $s;
	}

	my ($runner, $pid) = start_command($cmd);
	my @done;
	for (1 .. @tables)
	{
		my $t = lock_awaited($pid);
		ok(exists $locker{$t}, "$name: the command waits for $t");
		last unless exists $locker{$t};

		# the tables it processed are rewritten and committed
		for my $d (@done)
		{
			my $want = $node->truth($q{$d});
			isnt($want, $before{$d}, "$name: mid-command, $d was rewritten");
			check_and_hit("$name: mid-command, $d", $reader, $q{$d}, $want);
		}

		# the table it waits for, cached now, before its rewrite
		check_and_hit("$name: mid-command, $t before its turn", $locker{$t},
			$q{$t}, $before{$t});
		$locker{$t}->query_safe('COMMIT');
		$locker{$t}->quit;
		delete $locker{$t};
		push @done, $t;
	}
	$runner->query_safe('SELECT 1');    # returns once the command is done
	$runner->quit;
	$_->quit for values %locker;

	for my $t (@tables)
	{
		my $want = $node->truth($q{$t});
		isnt($want, $before{$t}, "$name: $t was rewritten");
		check_and_hit("$name: after, $t", $reader, $q{$t}, $want);
	}
}

stepwise('VACUUM FULL of two tables', 'VACUUM FULL vf1, vf2', 'vf1', 'vf2');
stepwise('CLUSTER of every clustered table', 'CLUSTER', 'cl1', 'cl2');
stepwise('CLUSTER of a partitioned table', 'CLUSTER cp USING cp_id',
	'cp1', 'cp2');

# the partitioned parent's query after it all
check_and_hit('CLUSTER of a partitioned table: the parent', $reader,
	ctid_query('cp'), $node->truth(ctid_query('cp')));

# ---------------------------------------------------------------------
# 2. DETACH PARTITION CONCURRENTLY
# ---------------------------------------------------------------------
{
	my $name = 'DETACH PARTITION CONCURRENTLY';
	my $q_parent = q{SELECT string_agg(id::text || ':' || v, ',' ORDER BY id) FROM dp};
	my $q_part = q{SELECT string_agg(id::text || ':' || v, ',' ORDER BY id) FROM dp2};

	check_and_hit("$name: parent before", $reader, $q_parent,
		'1:a,2:b,11:k,12:l');
	check_and_hit("$name: partition before", $reader, $q_part, '11:k,12:l');

	# a transaction that read the parent holds the detach between its two
	# transactions
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('BEGIN');
	is($holder->query_safe('SELECT count(*) FROM dp'), '4',
		"$name: the holder read the parent");

	my ($runner, $pid) = start_command('ALTER TABLE dp DETACH PARTITION dp2 CONCURRENTLY');
	lock_awaited($pid);
	is( $node->safe_psql(
			'postgres',
			q{SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'dp2'::regclass}),
		't',
		"$name: the first transaction committed, the detach is pending");

	# in between: new snapshots no longer see the partition in the parent
	is($reader->query_safe($q_parent), '1:a,2:b',
		"$name: in between, the parent without the partition");
	is($reader->query_safe($q_parent), '1:a,2:b',
		"$name: in between, the parent without the partition, again");
	is($reader->query_safe($q_part), '11:k,12:l',
		"$name: in between, the partition keeps its rows");

	$holder->query_safe('COMMIT');
	$holder->quit;
	$runner->query_safe('SELECT 1');
	$runner->quit;
	is( $node->safe_psql(
			'postgres', q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'dp2'::regclass}),
		'0',
		"$name: finished");

	check_and_hit("$name: parent after", $reader, $q_parent, '1:a,2:b');
	check_and_hit("$name: detached table after", $reader, $q_part,
		'11:k,12:l');
	$node->safe_psql('postgres', q{INSERT INTO dp2 VALUES (13, 'm')});
	check_and_hit("$name: detached table written", $reader, $q_part,
		'11:k,12:l,13:m');
	is($reader->query_safe($q_parent), '1:a,2:b',
		"$name: the parent does not see it");
}

# ---------------------------------------------------------------------
# 3. A procedure that commits inside
# ---------------------------------------------------------------------
{
	my $name = 'procedure with COMMIT';
	my $q = 'SELECT v FROM pc WHERE id = 1';

	check_and_hit("$name: before the CALL", $reader, $q, '0');

	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(1), pg_advisory_lock(2)');

	my ($caller, $pid) = start_command('CALL pc_steps()');

	is(lock_awaited($pid), 'advisory', "$name: held after its first COMMIT");
	check_and_hit("$name: after the first COMMIT", $reader, $q, '1');

	$holder->query_safe('SELECT pg_advisory_unlock(1)');
	# wait until it waits for lock 2, past its second COMMIT
	my $deadline = time + 60;
	while (time < $deadline)
	{
		last
		  if $node->safe_psql(
			'postgres', qq{
SELECT count(*) FROM pg_locks
 WHERE pid = $pid AND locktype = 'advisory' AND objid = 2 AND NOT granted})
		  eq '1';
		usleep(20_000);
	}
	check_and_hit("$name: after the second COMMIT", $reader, $q, '2');

	$holder->query_safe('SELECT pg_advisory_unlock(2)');
	$caller->query_safe('SELECT 1');    # returns once the CALL is done
	$caller->quit;
	$holder->quit;
	check_and_hit("$name: after the ROLLBACK and the last COMMIT", $reader,
		$q, '3');
}

$reader->quit;
$node->stop;
done_testing();
