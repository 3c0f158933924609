
# Copyright (c) 2026, cachealot developers

# 006_logical_replication: a subscriber with cachealot preloaded, whose
# subscribed tables are read through the cache, sees every replicated
# change (DESIGN 3.5: the apply worker and the table sync worker write
# without passing through the executor or utility hooks).
#
#   1. initial table sync: the subscriber holds a cached, empty result for
#      the table (cached after CREATE SUBSCRIPTION committed, while the
#      sync worker is held back by a lock); once the sync is done the query
#      returns the publisher's rows;
#   2. replicated INSERT, UPDATE, DELETE, TRUNCATE, a transaction writing
#      two tables, and a large transaction streamed to the subscriber: after
#      each, once the subscriber has caught up, the cached query returns the
#      fresh rows, and the cache serves again.
# Every freshness check comes with a control that the query hit before.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode qw(check_and_hit_retrying);

# bounded: no wait in this test may take more than a minute
$PostgreSQL::Test::Utils::timeout_default = 60;

my $pub = CachealotNode->create(
	'publisher',
	library => 0,
	extension => 0,
	init => { allows_streaming => 'logical' },
	settings => q{
autovacuum = off
# small, so that the large transaction below is streamed
logical_decoding_work_mem = 64kB
});

my $sub = CachealotNode->create(
	'subscriber', settings => q{
cachealot.min_cost = 0
autovacuum = off
});

my $schema = q{
CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
CREATE TABLE u (id int PRIMARY KEY, n int NOT NULL);
};
$pub->safe_psql('postgres', $schema . q{
INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO u VALUES (1, 10);
CREATE PUBLICATION pub FOR TABLE t, u;
});
$sub->safe_psql('postgres', $schema);

my $q_t = q{SELECT string_agg(id::text || ':' || v, ',' ORDER BY id) FROM t};
my $q_tcount = 'SELECT count(*), sum(id) FROM t';
my $q_u = 'SELECT sum(n) FROM u';

my $reader = $sub->background_psql('postgres');

# Each check: the query returns $want in the reader, and a repeat is served
# from the cache.  The subscription's workers commit transactions of their
# own now and then (sync state changes), and a reader whose snapshot a
# commit overtook rightly bypasses: so the repeat may take a few tries to
# hit, and every try must return $want.
sub reader_check_and_hit
{
	my ($name, $sql, $want) = @_;
	check_and_hit_retrying($name, $reader, $sql, $want, 20);
}

# ---------------------------------------------------------------------
# 1. Initial table sync over a cached empty result
# ---------------------------------------------------------------------
# Hold the sync workers back: their COPY needs ROW EXCLUSIVE on the tables
my $locker = $sub->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE t, u IN SHARE MODE');

my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION sub CONNECTION '$connstr' PUBLICATION pub");

# a sync worker waits for its lock: CREATE SUBSCRIPTION has committed and
# nothing is copied yet
ok( $sub->poll_query_until(
		'postgres', q{
SELECT count(*) > 0 FROM pg_locks
 WHERE relation IN ('t'::regclass, 'u'::regclass) AND NOT granted}),
	'a table sync worker waits for the lock');

# the empty result, cached now
reader_check_and_hit('before the sync', $q_t, '');
reader_check_and_hit('before the sync, count', $q_tcount, '0|');
reader_check_and_hit('before the sync, u', $q_u, '');

# let the sync run
$locker->query_safe('COMMIT');
$locker->quit;
ok( $sub->poll_query_until(
		'postgres', q{
SELECT count(*) = 2 FROM pg_subscription_rel WHERE srsubstate IN ('r', 's')}),
	'the initial sync finished');

reader_check_and_hit('after the sync', $q_t, '1:one,2:two,3:three');
reader_check_and_hit('after the sync, count', $q_tcount, '3|6');
reader_check_and_hit('after the sync, u', $q_u, '10');
$pub->wait_for_catchup('sub');

# ---------------------------------------------------------------------
# 2. Replicated changes
# ---------------------------------------------------------------------

# Write on the publisher, wait for the subscriber, check every query
sub replicate
{
	my ($name, $sql, %want) = @_;
	# control: the queries hit before the change
	reader_check_and_hit("$name, before: $_", $_, $want{before}{$_})
	  for sort keys %{ $want{before} };
	$pub->safe_psql('postgres', $sql);
	$pub->wait_for_catchup('sub');
	reader_check_and_hit("$name, after: $_", $_, $want{after}{$_})
	  for sort keys %{ $want{after} };
}

replicate(
	'INSERT',
	q{INSERT INTO t VALUES (4, 'four')},
	before => { $q_t => '1:one,2:two,3:three', $q_tcount => '3|6' },
	after => { $q_t => '1:one,2:two,3:three,4:four', $q_tcount => '4|10' });

replicate(
	'UPDATE',
	q{UPDATE t SET v = 'TWO' WHERE id = 2},
	before => { $q_t => '1:one,2:two,3:three,4:four' },
	after => { $q_t => '1:one,2:TWO,3:three,4:four', $q_tcount => '4|10' });

replicate(
	'UPDATE of the key',
	q{UPDATE t SET id = 5 WHERE id = 1},
	before => { $q_t => '1:one,2:TWO,3:three,4:four', $q_tcount => '4|10' },
	after => { $q_t => '2:TWO,3:three,4:four,5:one', $q_tcount => '4|14' });

replicate(
	'DELETE',
	q{DELETE FROM t WHERE id = 3},
	before => { $q_t => '2:TWO,3:three,4:four,5:one' },
	after => { $q_t => '2:TWO,4:four,5:one', $q_tcount => '3|11' });

replicate(
	'one transaction writing two tables',
	q{BEGIN; INSERT INTO t VALUES (6, 'six'); UPDATE u SET n = n + 1; COMMIT},
	before => { $q_t => '2:TWO,4:four,5:one', $q_u => '10' },
	after => { $q_t => '2:TWO,4:four,5:one,6:six', $q_u => '11' });

replicate(
	'TRUNCATE',
	q{TRUNCATE t},
	before => { $q_t => '2:TWO,4:four,5:one,6:six', $q_tcount => '4|17' },
	after => { $q_t => '', $q_tcount => '0|', $q_u => '11' });

replicate(
	'TRUNCATE of two tables, then rows in the same transaction',
	q{BEGIN; TRUNCATE t, u; INSERT INTO t VALUES (7, 'seven');
	  INSERT INTO u VALUES (2, 5); COMMIT},
	before => { $q_t => '', $q_u => '11' },
	after => { $q_t => '7:seven', $q_u => '5' });

# a transaction larger than logical_decoding_work_mem, streamed
$sub->safe_psql('postgres', 'ALTER SUBSCRIPTION sub SET (streaming = on)');
$pub->wait_for_catchup('sub');
replicate(
	'a streamed transaction',
	q{BEGIN;
	  INSERT INTO t SELECT g, 'bulk' FROM generate_series(100, 5099) g;
	  UPDATE u SET n = n + 1;
	  COMMIT},
	before => { $q_tcount => '1|7', $q_u => '5' },
	after => { $q_tcount => '5001|12997507', $q_u => '6' });

$reader->quit;
$sub->stop;
$pub->stop;
done_testing();
