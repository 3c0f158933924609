
# Copyright (c) 2026, cachealot developers

# 011_two_phase_subscription: a subscription with two_phase = on applies
# PREPARE TRANSACTION and COMMIT PREPARED in its apply worker, where no
# statement passes through cachealot's hooks.  While the worker holds a
# prepared transaction its database's results must not be served or stored
# (the reads bypass), and after COMMIT PREPARED the next read is fresh and
# caching resumes.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;

my $pub = CachealotNode->create(
	'publisher',
	library => 0,
	extension => 0,
	init => { allows_streaming => 'logical' },
	settings => 'max_prepared_transactions = 10');

my $sub = CachealotNode->create('subscriber',
	settings => 'max_prepared_transactions = 10');

$pub->safe_psql('postgres', q{
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL);
INSERT INTO acct VALUES (1, 100), (2, 200);
CREATE PUBLICATION pub FOR TABLE acct;
});
$sub->safe_psql('postgres', q{
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL);
});
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION sub CONNECTION '$connstr' PUBLICATION pub WITH (two_phase = on)");
$pub->wait_for_catchup('sub');
$sub->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')")
  or die 'initial sync did not finish';
$sub->poll_query_until('postgres',
	"SELECT subtwophasestate = 'e' FROM pg_subscription WHERE subname = 'sub'")
  or die 'two_phase did not become enabled';

my $query = 'SELECT bal FROM acct WHERE id = 1';

# control: the subscriber caches the replicated table
is($sub->safe_psql('postgres', $query), '100', 'synced value');
my $before = $sub->cache_stats->{hits};
is($sub->safe_psql('postgres', $query), '100', 'same value again');
cmp_ok($sub->cache_stats->{hits}, '>', $before,
	'control: the second read is a hit');

# the publisher prepares a change; the subscriber's worker prepares it too
$pub->safe_psql('postgres', q{
BEGIN;
UPDATE acct SET bal = 150 WHERE id = 1;
PREPARE TRANSACTION 'p1';
});
$sub->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_prepared_xacts WHERE gid LIKE 'pg_gid_%'")
  or die 'the subscriber did not prepare the transaction';

$before = $sub->cache_stats->{hits};
for (1 .. 3)
{
	is($sub->safe_psql('postgres', $query), '100',
		'while prepared: the committed value');
}
is($sub->cache_stats->{hits}, $before,
	'while the worker holds a prepared transaction, reads bypass the cache');

# COMMIT PREPARED on the publisher, applied by the worker
$pub->safe_psql('postgres', "COMMIT PREPARED 'p1'");
$pub->wait_for_catchup('sub');
$sub->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_prepared_xacts")
  or die 'the subscriber did not commit the prepared transaction';

is($sub->safe_psql('postgres', $query), '150',
	'after COMMIT PREPARED: the new value');

# the hold is released at the worker's next transaction: wait for the cache
# to serve again, and check it serves the new value
my $resumed = 0;
for (1 .. 100)
{
	my $h = $sub->cache_stats->{hits};
	my $v = $sub->safe_psql('postgres', $query);
	is($v, '150', 'after COMMIT PREPARED: never the old value') if $v ne '150';
	if ($sub->cache_stats->{hits} > $h)
	{
		$resumed = 1;
		last;
	}
	# any replicated transaction lets the worker release its hold
	$pub->safe_psql('postgres', 'UPDATE acct SET bal = bal WHERE id = 2');
	$pub->wait_for_catchup('sub');
}
ok($resumed, 'caching resumes after the prepared transaction finished');
is($sub->safe_psql('postgres', $query), '150', 'and serves the new value');

# a prepared transaction rolled back: the value stays, caching resumes
$pub->safe_psql('postgres', q{
BEGIN;
UPDATE acct SET bal = 999 WHERE id = 1;
PREPARE TRANSACTION 'p2';
});
$sub->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_prepared_xacts")
  or die 'the subscriber did not prepare the second transaction';
$pub->safe_psql('postgres', "ROLLBACK PREPARED 'p2'");
$pub->wait_for_catchup('sub');
$sub->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_prepared_xacts")
  or die 'the subscriber did not roll back the prepared transaction';
is($sub->safe_psql('postgres', $query), '150', 'after ROLLBACK PREPARED: unchanged');

$sub->stop;
$pub->stop;
done_testing();
