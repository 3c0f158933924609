
# Copyright (c) 2026, cachealot developers

# 005_two_phase: two-phase commit run from sessions (DESIGN 3.5).
#
# COMMIT PREPARED makes a prepared transaction's writes visible inside
# FinishPreparedTransaction, in whatever session runs it, and fires none of
# the preparing session's callbacks.  So:
#   1. while a transaction is prepared, other sessions read the committed
#      (old) value, from the cache or not; the preparing session saw its own
#      write before PREPARE;
#   2. after COMMIT PREPARED, run from another session, the next read of a
#      query cached before returns the new value, and the cache serves again;
#   3. ROLLBACK PREPARED leaves the old value;
#   4. a prepared transaction that survives a server restart: after the
#      restart a query is cached (and hits), then COMMIT PREPARED, from
#      another session or from the reading session itself: the next read
#      returns the new value.
# Every freshness check comes with a control that the query hit before.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode qw(check_and_hit);

# bounded: no wait in this test may take more than a minute
$PostgreSQL::Test::Utils::timeout_default = 60;

my $node = CachealotNode->create(
	'two_phase', settings => q{
max_prepared_transactions = 10
# every eligible query is cached, whatever the default admission rule
cachealot.min_cost = 0
# no background transaction may finish between a read's snapshot and its
# lookup (that read would bypass, and a control could miss its hit)
autovacuum = off
});

$node->safe_psql(
	'postgres', q{
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL);
INSERT INTO acct VALUES (1, 100), (2, 200);
CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO items VALUES (1, 'one'), (2, 'two');
});

my $q_bal = 'SELECT bal FROM acct WHERE id = 1';
my $q_items = q{SELECT string_agg(id::text || ':' || note, ',' ORDER BY id) FROM items};

my $reader = $node->background_psql('postgres');

# ---------------------------------------------------------------------
# 1-2. PREPARE, then COMMIT PREPARED from another session
# ---------------------------------------------------------------------
check_and_hit('before PREPARE', $reader, $q_bal, '100');
check_and_hit('before PREPARE, items', $reader, $q_items, '1:one,2:two');

my $preparer = $node->background_psql('postgres');
$preparer->query_safe('BEGIN');
$preparer->query_safe('UPDATE acct SET bal = 150 WHERE id = 1');
$preparer->query_safe(q{INSERT INTO items VALUES (3, 'three')});
$preparer->query_safe('SAVEPOINT s1');
$preparer->query_safe(q{UPDATE items SET note = 'ONE' WHERE id = 1});
$preparer->query_safe('RELEASE SAVEPOINT s1');
is($preparer->query_safe($q_bal), '150', 'the preparing session sees its own write');
is($preparer->query_safe($q_items), '1:ONE,2:two,3:three',
	'the preparing session sees its own writes to items');
$preparer->query_safe(q{PREPARE TRANSACTION 'w1'});

# prepared, not committed: everyone reads the committed value
for my $i (1 .. 3)
{
	is($reader->query_safe($q_bal), '100', "while prepared ($i): old value");
	is($reader->query_safe($q_items), '1:one,2:two',
		"while prepared ($i): old items");
}
is($preparer->query_safe($q_bal), '100',
	'the preparing session, after PREPARE: old value');
is($node->safe_psql('postgres', $q_bal), '100',
	'a new session while prepared: old value');

# COMMIT PREPARED from a third session
$node->safe_psql('postgres', q{COMMIT PREPARED 'w1'});
check_and_hit('after COMMIT PREPARED', $reader, $q_bal, '150');
check_and_hit('after COMMIT PREPARED, items', $reader, $q_items,
	'1:ONE,2:two,3:three');
is($preparer->query_safe($q_bal), '150',
	'after COMMIT PREPARED, the preparing session: new value');

# the same, the commit run by the reading session itself
$preparer->query_safe('BEGIN');
$preparer->query_safe('UPDATE acct SET bal = 160 WHERE id = 1');
$preparer->query_safe(q{PREPARE TRANSACTION 'w1b'});
check_and_hit('prepared again', $reader, $q_bal, '150');
$reader->query_safe(q{COMMIT PREPARED 'w1b'});
check_and_hit('after COMMIT PREPARED in the reading session', $reader,
	$q_bal, '160');

# ---------------------------------------------------------------------
# 3. ROLLBACK PREPARED
# ---------------------------------------------------------------------
$preparer->query_safe('BEGIN');
$preparer->query_safe('UPDATE acct SET bal = 999 WHERE id = 1');
$preparer->query_safe('DELETE FROM items');
$preparer->query_safe(q{PREPARE TRANSACTION 'w2'});
is($reader->query_safe($q_bal), '160', 'prepared for rollback: old value');
is($reader->query_safe($q_bal), '160', 'prepared for rollback: old value again');
$node->safe_psql('postgres', q{ROLLBACK PREPARED 'w2'});
is($reader->query_safe($q_bal), '160', 'after ROLLBACK PREPARED: unchanged');
is($reader->query_safe($q_items), '1:ONE,2:two,3:three',
	'after ROLLBACK PREPARED: items unchanged');
check_and_hit('after ROLLBACK PREPARED', $reader, $q_bal, '160');

# ---------------------------------------------------------------------
# 4. Prepared transactions that survive a restart
# ---------------------------------------------------------------------
$preparer->query_safe('BEGIN');
$preparer->query_safe('UPDATE acct SET bal = 175 WHERE id = 1');
$preparer->query_safe(q{PREPARE TRANSACTION 'w3'});
$preparer->query_safe('BEGIN');
$preparer->query_safe(q{UPDATE items SET note = 'TWO' WHERE id = 2});
$preparer->query_safe(q{PREPARE TRANSACTION 'w4'});
$preparer->quit;
$reader->quit;

$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'),
	'2', 'both prepared transactions survived the restart');

$reader = $node->background_psql('postgres');
check_and_hit('after restart, still prepared', $reader, $q_bal, '160');
check_and_hit('after restart, still prepared, items', $reader, $q_items,
	'1:ONE,2:two,3:three');

# COMMIT PREPARED from another session
$node->safe_psql('postgres', q{COMMIT PREPARED 'w3'});
check_and_hit('after restart and COMMIT PREPARED', $reader, $q_bal, '175');
is($reader->query_safe($q_items), '1:ONE,2:two,3:three',
	'items: still prepared');
check_and_hit('items, still prepared', $reader, $q_items,
	'1:ONE,2:two,3:three');

# COMMIT PREPARED from the reading session itself
$reader->query_safe(q{COMMIT PREPARED 'w4'});
check_and_hit('after restart and COMMIT PREPARED in the reading session',
	$reader, $q_items, '1:ONE,2:TWO,3:three');
check_and_hit('acct unchanged', $reader, $q_bal, '175');

$reader->quit;
$node->stop;
done_testing();
