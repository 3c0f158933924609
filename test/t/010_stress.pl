
# Copyright (c) 2026, cachealot developers

# 010_stress: concurrent writers on every common write path, concurrent
# readers on every protocol, and an oracle that compares what the cache
# serves with what the executor returns (DESIGN.md 3, issue 3).
#
# Schema: accounts (transfers keep the total of bal constant; rows -1 and -2
# are per-writer commit counters), events partitioned by list (eu, us, ap)
# with ap sub-partitioned by range (ap_lo, ap_hi), a trigger on events that
# maintains event_counts, a view over a join (region_totals), a
# materialized view (mv_region), a small side table that is TRUNCATEd and
# refilled in one transaction, scratch tables that are TRUNCATEd on their
# own (an inheritance parent and child, a foreign-key pair for CASCADE), and
# published(path, k): what a writer has committed, written after its COMMIT
# returned.
#
# Writers (forked Perl processes, each running psql scripts in chunks, see
# test/perl/CachealotProcs.pm):
#   W1 "bank":   transfers (some ROLLBACK, some SAVEPOINT/ROLLBACK TO and
#                RELEASE), TRUNCATE + refill of side (some rolled back),
#                TRUNCATE alone of the scratch tables (inherited children,
#                ONLY, CASCADE) and their refill by INSERT and COPY;
#   W2 "events": transfers; INSERT/UPDATE/DELETE through the parent and
#                straight into partitions; UPDATEs moving rows across
#                partitions and across sub-partitions; COPY FROM STDIN into
#                the parent and into a partition; multi-statement
#                transactions, SAVEPOINT/ROLLBACK TO, ROLLBACK; the trigger
#                writes event_counts on every row;
#   W3 "maint":  inserts into the sub-partitioned partition, REFRESH
#                MATERIALIZED VIEW (plain and CONCURRENTLY, some rolled back).
# W1 and W2 hold every commit's invalidation window open for 1 ms
# (cachealot.test_commit_delay), so that readers fall into it.
#
# Readers:
#   R1 psql, simple protocol; R2 psql, PREPARE/EXECUTE; R3 pgbench -M
#   extended with \gset / \if checks (SELECT 1/0 fails the run).
#
# Oracles:
#   1. pairs: BEGIN ISOLATION LEVEL REPEATABLE READ; Q (cache on);
#      SET LOCAL cachealot.enabled = off; Q again; COMMIT: identical text
#      (half of them take the snapshot with another query first, so that
#      writers commit between the snapshot and the cached run);
#   2. invariants on results served with the cache on: the total balance,
#      event_counts agreeing with the rows of events in one snapshot;
#   3. read after commit: a reader reads published (cache off), then reads
#      every target with the cache off, then with the cache on: the cached
#      value must be at least both (every marker only grows).
#   4. after the storm, quiescent: every query text the readers used, run
#      with the cache on first (it may meet an entry stored during the
#      storm), must equal the executor's result.
# Some pool queries carry stress_probe(...), an IMMUTABLE-declared function
# that returns a fresh random token each time it really runs: a token seen
# twice was served from the cache.  The test fails if no pair compared a
# hit in each psql reader, if the pool queries are not cacheable at all
# (control step), or if cachealot_stats() shows no hits.
#
# Environment:
#   CACHEALOT_STRESS_SECONDS  storm duration (default 20; make stress: 300)
#   CACHEALOT_STRESS_SEED     random seed (default: from the clock; printed)
#   CACHEALOT_STRESS_LIBRARY  preload this library file instead of the
#                             installed cachealot, and bind the SQL functions
#                             to it (to check the oracle on a broken build)

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use CachealotNode;
use CachealotProcs qw(run_psql_file write_file);

my $duration = $ENV{CACHEALOT_STRESS_SECONDS} // 20;
die "CACHEALOT_STRESS_SECONDS must be a positive number"
  unless $duration =~ /^[0-9]+(\.[0-9]+)?$/ && $duration > 0;
my $seed = $ENV{CACHEALOT_STRESS_SEED} // int(time * 1000) % 1000000007;
my $library = $ENV{CACHEALOT_STRESS_LIBRARY};
note "stress: $duration s, seed $seed"
  . ($library ? ", library $library" : '');
srand($seed);

my $NACCOUNTS = 50;
my $INITIAL_BAL = 1000;
my $TOTAL = $NACCOUNTS * $INITIAL_BAL;
my $W3_BASE = 1000000;    # W3's ids and markers; W2's stay below
my @REGIONS = qw(eu us ap);
my @LEAVES = qw(events_eu events_us events_ap_lo events_ap_hi);

my $node = CachealotNode->create(
	'stress',
	($library ? (library_file => $library) : ()),
	settings => q{
max_connections = 40
deadlock_timeout = 100ms
log_lock_waits = off
# a failing pgbench check shows its values
log_parameter_max_length_on_error = -1
});

# ---------------------------------------------------------------------
# Schema and initial data
# ---------------------------------------------------------------------

# W2's model of the rows it owns: id -> [region, amount, k, acct]
my %rows;
for my $id (1 .. 300)
{
	$rows{$id} = [ $REGIONS[ $id % 3 ], ($id * 37) % 1000, $id, $id % 50 + 1 ];
}

sub leaf_of
{
	my ($region, $amount) = @_;
	return "events_$region" unless $region eq 'ap';
	return $amount < 500 ? 'events_ap_lo' : 'events_ap_hi';
}

# the largest marker per leaf among the modelled rows
sub leaf_max
{
	my ($state) = @_;
	my %max = map { $_ => 0 } @LEAVES;
	for my $r (values %$state)
	{
		my $l = leaf_of($r->[0], $r->[1]);
		$max{$l} = $r->[2] if $r->[2] > $max{$l};
	}
	return \%max;
}

my $initial_rows = join(",\n",
	map { "($_, '$rows{$_}[0]', $rows{$_}[1], $rows{$_}[2], $rows{$_}[3])" }
	  sort { $a <=> $b } keys %rows);
my $initial_max = leaf_max(\%rows);
my $initial_pub = join(",\n",
	(map { "('$_', $initial_max->{$_})" } @LEAVES),
	"('xfer1', 0)", "('xfer2', 0)", "('side', 0)", "('mv', 0)");

$node->safe_psql(
	'postgres', qq{
CREATE TABLE accounts (id int PRIMARY KEY, bal int NOT NULL);
INSERT INTO accounts SELECT g, $INITIAL_BAL FROM generate_series(1, $NACCOUNTS) g;
-- per-writer commit counters, outside the transfers' total
INSERT INTO accounts VALUES (-1, 0), (-2, 0);

CREATE TABLE regions (region text PRIMARY KEY, label text NOT NULL);
INSERT INTO regions VALUES ('eu', 'Europe'), ('us', 'Americas'), ('ap', 'Asia-Pacific');

CREATE TABLE events (id int NOT NULL, region text NOT NULL, amount int NOT NULL,
	k int NOT NULL, acct int NOT NULL) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
CREATE TABLE events_ap PARTITION OF events FOR VALUES IN ('ap') PARTITION BY RANGE (amount);
CREATE TABLE events_ap_lo PARTITION OF events_ap FOR VALUES FROM (MINVALUE) TO (500);
CREATE TABLE events_ap_hi PARTITION OF events_ap FOR VALUES FROM (500) TO (MAXVALUE);
CREATE INDEX ON events (id);

CREATE TABLE event_counts (region text PRIMARY KEY, n int NOT NULL, last_k int NOT NULL);
INSERT INTO event_counts VALUES ('eu', 0, 0), ('us', 0, 0), ('ap', 0, 0);
CREATE FUNCTION events_count() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE event_counts SET n = n - 1 WHERE region = OLD.region;
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		UPDATE event_counts SET n = n + 1, last_k = greatest(last_k, NEW.k)
		WHERE region = NEW.region;
	END IF;
	RETURN NULL;
END \$\$;
CREATE TRIGGER events_count AFTER INSERT OR UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION events_count();

INSERT INTO events (id, region, amount, k, acct) VALUES
$initial_rows;

CREATE VIEW region_totals AS
SELECT r.region, r.label, count(e.id) AS n, coalesce(sum(e.amount), 0) AS total,
	max(e.k) FILTER (WHERE e.k < $W3_BASE) AS maxk
FROM regions r LEFT JOIN events e ON e.region = r.region
GROUP BY r.region, r.label;

CREATE MATERIALIZED VIEW mv_region AS
SELECT region, count(*) AS n, sum(amount) AS total, max(k) AS maxk
FROM events GROUP BY region;
CREATE UNIQUE INDEX ON mv_region (region);

CREATE TABLE side (k int NOT NULL, g int NOT NULL);
INSERT INTO side VALUES (0, 1);

CREATE TABLE sc_parent (v int NOT NULL);
CREATE TABLE sc_child () INHERITS (sc_parent);
CREATE TABLE sc_pk (id int PRIMARY KEY);
CREATE TABLE sc_fk (id int NOT NULL REFERENCES sc_pk);
INSERT INTO sc_parent VALUES (1);
INSERT INTO sc_child VALUES (2), (3);
INSERT INTO sc_pk VALUES (1), (2);
INSERT INTO sc_fk VALUES (1), (2), (2);

CREATE TABLE published (path text PRIMARY KEY, k int NOT NULL);
INSERT INTO published VALUES
$initial_pub;

-- declared IMMUTABLE but returns a fresh token each time it really runs:
-- a token seen twice was served from the cache
CREATE FUNCTION stress_probe(bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN
	RETURN 'P' || md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text);
END \$\$;
ANALYZE;
});

# ---------------------------------------------------------------------
# The readers' query pool.  $1, $2: parameters (literals in the simple
# protocol, bound values with PREPARE/EXECUTE); each has a small domain so
# that results repeat and can be checked exhaustively at the end.
# check: 'total' or 'counts' adds an invariant on the cache-on result.
# ---------------------------------------------------------------------
my @POOL = (
	{
		name => 'total',
		sql =>
		  'SELECT sum(bal) AS total, count(*) AS n, stress_probe(count(*)) FROM accounts WHERE id > 0',
		check => 'total',
	},
	{
		name => 'acct_range',
		sql =>
		  'SELECT id, bal FROM accounts WHERE id BETWEEN $1 AND $2 ORDER BY id',
		params => [ map { [ $_, $_ + 9 ] } (1, 11, 21, 31, 41) ],
	},
	{
		name => 'rich',
		sql => 'SELECT id, bal FROM accounts WHERE bal > $1 ORDER BY id',
		params => [ [1000], [1050], [1100] ],
	},
	{
		name => 'counters',
		sql =>
		  'SELECT id, bal, stress_probe(bal::bigint) FROM accounts WHERE id < 0 ORDER BY id',
	},
	{
		name => 'by_region',
		sql =>
		  'SELECT region, count(*), sum(amount), max(k) FROM events GROUP BY region ORDER BY region',
	},
	{
		name => 'eu_part',
		sql =>
		  'SELECT count(*), sum(amount), max(k), stress_probe(count(*)) FROM events_eu',
	},
	{
		name => 'ap_hi',
		sql =>
		  'SELECT id, amount, k FROM events_ap_hi WHERE id % 7 = $1 ORDER BY id',
		params => [ map { [$_] } 0 .. 6 ],
	},
	{
		name => 'pruned',
		sql =>
		  'SELECT count(*), sum(amount), max(k) FROM events WHERE region = $1',
		params => [ map { ["'$_'"] } @REGIONS ],
	},
	{
		name => 'ap_mid',
		sql =>
		  'SELECT count(*), sum(amount), min(k), max(k) FROM events_ap WHERE amount >= $1',
		params => [ [0], [250], [500], [750] ],
	},
	{
		name => 'view',
		sql =>
		  'SELECT region, label, n, total, maxk, stress_probe(n) FROM region_totals ORDER BY region',
	},
	{
		name => 'matview',
		sql =>
		  'SELECT region, n, total, maxk, stress_probe(n) FROM mv_region ORDER BY region',
	},
	{
		name => 'join_accounts',
		sql =>
		  'SELECT a.id, a.bal, count(e.id), coalesce(sum(e.amount), 0) FROM accounts a LEFT JOIN events e ON e.acct = a.id WHERE a.id BETWEEN $1 AND $2 GROUP BY a.id, a.bal ORDER BY a.id',
		params => [ map { [ $_, $_ + 9 ] } (1, 11, 21, 31, 41) ],
	},
	{
		name => 'join_regions',
		sql =>
		  'SELECT r.label, count(*), max(e.k) FROM events e JOIN regions r USING (region) WHERE e.amount > $1 GROUP BY r.label ORDER BY r.label',
		params => [ [0], [300], [600], [900] ],
	},
	{
		name => 'counts',
		sql =>
		  'SELECT c.region, c.n, (SELECT count(*) FROM events e WHERE e.region = c.region) AS actual, stress_probe(c.n::bigint) FROM event_counts c ORDER BY c.region',
		check => 'counts',
	},
	{
		name => 'side',
		sql =>
		  'SELECT count(*), coalesce(max(k), 0), stress_probe(count(*)) FROM side',
	},
	{
		name => 'sc_parent',
		sql =>
		  'SELECT count(*), coalesce(sum(v), 0), stress_probe(count(*)) FROM sc_parent',
	},
	{
		name => 'sc_only_parent',
		sql => 'SELECT count(*), coalesce(sum(v), 0) FROM ONLY sc_parent',
	},
	{
		name => 'sc_child',
		sql =>
		  'SELECT count(*), coalesce(sum(v), 0), stress_probe(count(*)) FROM sc_child',
	},
	{
		name => 'sc_fk',
		sql =>
		  'SELECT count(*), coalesce(max(id), 0), stress_probe(count(*)) FROM sc_fk',
	},
	{
		name => 'sc_join',
		sql =>
		  'SELECT p.id, count(f.id) FROM sc_pk p LEFT JOIN sc_fk f USING (id) GROUP BY p.id ORDER BY p.id DESC LIMIT 5',
	},
	{
		name => 'regions',
		sql => 'SELECT region, label FROM regions ORDER BY region',
	},
	{
		name => 'union_parts',
		sql =>
		  "SELECT 'eu' AS p, count(*) FROM events_eu UNION ALL SELECT 'us', count(*) FROM events_us UNION ALL SELECT 'ap', count(*) FROM events_ap ORDER BY p",
	},
	{
		name => 'cte',
		sql =>
		  'WITH t AS (SELECT acct, sum(amount) AS s FROM events GROUP BY acct) SELECT a.id, a.bal + coalesce(t.s, 0) FROM accounts a LEFT JOIN t ON t.acct = a.id WHERE a.id <= $1 ORDER BY a.id',
		params => [ [5], [25], [50] ],
	},);

# Read-after-commit targets: name => [sql, published path]; the sql returns
# one row "name|value" whose value only grows.
#
# TRUNCATE and REFRESH: neither is MVCC-safe.  An SQL-level EXECUTE takes
# its snapshot before it waits for the lock that TRUNCATE side (or REFRESH
# MATERIALIZED VIEW mv_region) holds, and then reads the new file, where
# the refilled rows are not visible to that snapshot: PostgreSQL itself
# returns no rows, cache or no cache (seen with cachealot.enabled = off).
# The prepared reader therefore takes those locks first, in a READ
# COMMITTED transaction, so that each EXECUTE's snapshot follows any
# TRUNCATE/REFRESH it waited for.  Both tables are never empty after a
# commit: "seen empty" (-1) is a failure.  (The pairs need no such care:
# both runs of a pair share one snapshot and see the same thing.)
my @RAC = (
	[ 'xfer1', q{SELECT 'xfer1', bal FROM accounts WHERE id = -1}, 'xfer1' ],
	[ 'xfer2', q{SELECT 'xfer2', bal FROM accounts WHERE id = -2}, 'xfer2' ],
	# -1: seen empty (see "TRUNCATE and REFRESH" below)
	[ 'side', q{SELECT 'side', coalesce(max(k), -1) FROM side}, 'side' ],
	[
		'eu',
		qq{SELECT 'eu', coalesce(max(k), 0) FROM events_eu WHERE k < $W3_BASE},
		'events_eu'
	],
	[
		'us',
		qq{SELECT 'us', coalesce(max(k), 0) FROM events WHERE region = 'us' AND k < $W3_BASE},
		'events_us'
	],
	[
		'ap_lo',
		qq{SELECT 'ap_lo', coalesce(max(k), 0) FROM events_ap_lo WHERE k < $W3_BASE},
		'events_ap_lo'
	],
	[
		'ap_hi',
		qq{SELECT 'ap_hi', coalesce(max(k), 0) FROM events_ap WHERE amount >= 500 AND k < $W3_BASE},
		'events_ap_hi'
	],
	[ 'mv', q{SELECT 'mv', coalesce(max(maxk), -1) FROM mv_region}, 'mv' ],
	[
		'view_us',
		q{SELECT 'view_us', coalesce(maxk, 0) FROM region_totals WHERE region = 'us'},
		'events_us'
	],
	[
		'trig_eu',
		q{SELECT 'trig_eu', last_k FROM event_counts WHERE region = 'eu'},
		'events_eu'
	],
	[
		'trig_us',
		q{SELECT 'trig_us', last_k FROM event_counts WHERE region = 'us'},
		'events_us'
	],
	# an invariant, not a marker: compared for equality
	[
		'total',
		q{SELECT 'total', sum(bal) FROM accounts WHERE id > 0}, undef
	],);

# takes the locks of side and mv_region (LOCK TABLE refuses a matview)
my $PRELOCK = "SELECT FROM side, mv_region LIMIT 0;\n";

# the text of a pool query for the simple protocol
sub literal_sql
{
	my ($q, $p) = @_;
	my $sql = $q->{sql};
	$sql =~ s/\$(\d)/$p->[$1 - 1]/g if $p;
	return $sql;
}

sub pick_params
{
	my ($q) = @_;
	return undef unless $q->{params};
	return $q->{params}[ int(rand(@{ $q->{params} })) ];
}

# ---------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------
my $pgbench = $node->installed_command('pgbench');
my $dir = PostgreSQL::Test::Utils::tempdir();

sub fmt_stats
{
	my ($s) = @_;
	return join(', ',
		map { "$_ $s->{$_}" }
		  qw(hits misses stores bypasses invalidations evictions entries));
}

# ---------------------------------------------------------------------
# Control: every pool query (and the pgbench reader's queries) is
# cacheable; a build that never caches fails here
# ---------------------------------------------------------------------
my @PGBENCH_CONTROL = (
	q{SELECT coalesce(hashtextextended(string_agg(id::text || ':' || bal::text, ',' ORDER BY id), 0), 0) AS h FROM accounts WHERE id BETWEEN 1 AND 1 + 9},
	q{SELECT coalesce(hashtextextended(string_agg(region || ':' || n::text || ':' || total::text || ':' || maxk::text, ',' ORDER BY region), 0), 0) AS h FROM mv_region},
	q{SELECT count(*) AS bad FROM event_counts c WHERE c.n <> (SELECT count(*) FROM events e WHERE e.region = c.region)},
);

sub control_hits
{
	my ($label, $setup, $run) = @_;
	my $delta;
	# up to three tries: an autovacuum transaction finishing between the
	# two runs makes the second one bypass (its snapshot is not current)
	for (1 .. 3)
	{
		my $out = $node->safe_psql(
			'postgres', qq{
$setup
SELECT cachealot_flush() >= 0;
SELECT hits FROM cachealot_stats();
$run;
$run;
SELECT hits FROM cachealot_stats();
});
		my @lines = split /\n/, $out;
		$delta = $lines[-1] - $lines[1];
		last if $delta == 1;
	}
	is($delta, 1, "control: $label: second run is a hit");
}

for my $q (@POOL)
{
	my $p = $q->{params} ? $q->{params}[0] : undef;
	control_hits("$q->{name} (simple)", '', literal_sql($q, $p));
}
control_hits(
	'total (prepared)',
	"PREPARE c_total AS $POOL[0]{sql};",
	'EXECUTE c_total');
control_hits(
	'acct_range (prepared, parameters)',
	"PREPARE c_range AS $POOL[1]{sql};",
	'EXECUTE c_range(11, 20)');
for my $i (0 .. $#PGBENCH_CONTROL)
{
	control_hits("pgbench query $i (simple)", '', $PGBENCH_CONTROL[$i]);
}
for my $r (@RAC)
{
	control_hits("read-after-commit $r->[0] (simple)", '', $r->[1]);
}

# ---------------------------------------------------------------------
# Writer scripts
# ---------------------------------------------------------------------

# the deadline check that ends every iteration; nap in seconds
sub deadline_check
{
	my ($deadline, $nap) = @_;
	return
	  "SELECT pg_sleep($nap) AS nap, clock_timestamp() >= to_timestamp($deadline) AS stress_done \\gset\n"
	  . "\\if :stress_done\n\\q\n\\endif\n";
}

# a transfer between two accounts, rows locked in id order (no deadlock
# between writers); returns the SQL of the whole transaction
sub transfer_sql
{
	my ($counter_id, $k, $end) = @_;
	my $a = 1 + int(rand($NACCOUNTS));
	my $b = 1 + int(rand($NACCOUNTS - 1));
	$b++ if $b >= $a;
	my $x = 1 + int(rand(100));
	my ($lo, $hi, $dlo, $dhi) =
	  $a < $b ? ($a, $b, -$x, $x) : ($b, $a, $x, -$x);
	my $style = rand();
	my $sql = "BEGIN;\nUPDATE accounts SET bal = bal + ($dlo) WHERE id = $lo;\n";
	if ($style < 0.15)
	{
		# a subtransaction that rolls back: its write must not be seen
		$sql .= "SAVEPOINT s1;\nUPDATE accounts SET bal = bal + 100000 WHERE id = $lo;\n"
		  . "ROLLBACK TO SAVEPOINT s1;\n";
	}
	if ($style > 0.85)
	{
		$sql .= "SAVEPOINT s2;\nUPDATE accounts SET bal = bal + ($dhi) WHERE id = $hi;\n"
		  . "RELEASE SAVEPOINT s2;\n";
	}
	else
	{
		$sql .= "UPDATE accounts SET bal = bal + ($dhi) WHERE id = $hi;\n";
	}
	$sql .= "UPDATE accounts SET bal = $k WHERE id = $counter_id;\n$end;\n";
	return $sql;
}

# TRUNCATE alone (no other write to the tables in its transaction: only
# the utility hook can see it), or a refill
sub scratch_sql
{
	my ($k) = @_;
	my $r = rand();
	return "TRUNCATE sc_parent;\n" if $r < 0.15;    # and sc_child
	return "TRUNCATE ONLY sc_parent;\n" if $r < 0.25;
	return "TRUNCATE sc_child;\n" if $r < 0.35;
	return "TRUNCATE sc_pk CASCADE;\n" if $r < 0.5;    # and sc_fk
	# (locks taken in the readers' order, sc_pk before sc_fk: no deadlock)
	return "BEGIN;\nTRUNCATE sc_pk, sc_fk;\nROLLBACK;\n" if $r < 0.55;
	my $ids = join(', ', map { "(" . ($k * 10 + $_) . ")" } 1 .. 3);
	return
	    "INSERT INTO sc_parent VALUES ($k);\n"
	  . "COPY sc_child FROM STDIN;\n$k\n"
	  . ($k + 1)
	  . "\n\\.\n"
	  . "BEGIN;\nINSERT INTO sc_pk VALUES $ids;\n"
	  . "INSERT INTO sc_fk VALUES $ids, $ids;\nCOMMIT;\n";
}

# W1: transfers, the side table, the scratch tables
sub w1_chunk
{
	my ($state, $deadline, $iters) = @_;
	my $sql = "SET application_name = 'stress_w1';\n"
	  . "SET cachealot.test_commit_delay = 1;\n";
	for (1 .. $iters)
	{
		my $k = ++$state->{k};
		my $r = rand();
		if ($r < 0.6)
		{
			my $commit = rand() < 0.85;
			$sql .= transfer_sql(-1, $k, $commit ? 'COMMIT' : 'ROLLBACK');
			$sql .= "UPDATE published SET k = $k WHERE path = 'xfer1';\n"
			  if $commit;
		}
		elsif ($r < 0.77)
		{
			$sql .= "BEGIN;\nTRUNCATE side;\n"
			  . "INSERT INTO side SELECT $k, g FROM generate_series(1, 5) g;\nCOMMIT;\n"
			  . "UPDATE published SET k = $k WHERE path = 'side';\n";
		}
		elsif ($r < 0.8)
		{
			$sql .= "BEGIN;\nTRUNCATE side;\nINSERT INTO side VALUES (-5, 0);\nROLLBACK;\n";
		}
		else
		{
			$sql .= scratch_sql($k);
		}
		$sql .= deadline_check($deadline, 0.005 + rand(0.02));
	}
	return $sql;
}

sub copy_state
{
	my ($s) = @_;
	return { map { $_ => [ @{ $s->{$_} } ] } keys %$s };
}

# a random row of W2's that may leave its leaf without lowering the
# leaf's largest marker (another row there has a larger one)
sub pick_victim
{
	my ($s) = @_;
	my $max = leaf_max($s);
	my @c = grep {
		my $r = $s->{$_};
		$r->[2] < $max->{ leaf_of($r->[0], $r->[1]) }
	} keys %$s;
	return undef unless @c;
	@c = sort { $a <=> $b } @c;
	return $c[ int(rand(@c)) ];
}

sub random_amount_for_leaf
{
	my ($leaf) = @_;
	return int(rand(500)) if $leaf eq 'events_ap_lo';
	return 500 + int(rand(500)) if $leaf eq 'events_ap_hi';
	return int(rand(1000));
}

sub region_of_leaf
{
	my ($leaf) = @_;
	return $leaf =~ /^events_(eu|us)$/ ? $1 : 'ap';
}

# One statement of W2 on state $s with marker $k; records leaves that got
# a row carrying $k in %$touched.  Returns SQL.
sub w2_op
{
	my ($w, $s, $k, $touched) = @_;
	# past 500 rows, delete more than is inserted
	my $r = ($w->{big} && rand() < 0.5) ? 0.7 : rand();
	my $new_row = sub {
		my ($leaf) = @_;
		$leaf //= $LEAVES[ int(rand(@LEAVES)) ];
		my $id = ++$w->{next_id};
		my $row =
		  [ region_of_leaf($leaf), random_amount_for_leaf($leaf), $k,
			1 + int(rand($NACCOUNTS)) ];
		$s->{$id} = $row;
		$touched->{$leaf} = 1;
		return ($id, $row);
	};

	if ($r < 0.25)
	{
		# INSERT through the parent, routed
		my @v;
		for (1 .. 1 + int(rand(3)))
		{
			my ($id, $row) = $new_row->();
			push @v, "($id, '$row->[0]', $row->[1], $row->[2], $row->[3])";
		}
		return "INSERT INTO events (id, region, amount, k, acct) VALUES "
		  . join(', ', @v) . ";\n";
	}
	elsif ($r < 0.37)
	{
		# INSERT straight into a leaf partition
		my $leaf = $LEAVES[ int(rand(@LEAVES)) ];
		my ($id, $row) = $new_row->($leaf);
		return "INSERT INTO $leaf (id, region, amount, k, acct) VALUES "
		  . "($id, '$row->[0]', $row->[1], $row->[2], $row->[3]);\n";
	}
	elsif ($r < 0.49)
	{
		# UPDATE in place, through the parent or the leaf
		my @ids = sort { $a <=> $b } keys %$s;
		my $id = $ids[ int(rand(@ids)) ];
		my $row = $s->{$id};
		my $leaf = leaf_of($row->[0], $row->[1]);
		my $amount = random_amount_for_leaf($leaf);
		@$row[ 1, 2 ] = ($amount, $k);
		$touched->{$leaf} = 1;
		my $target = rand() < 0.5 ? 'events' : $leaf;
		return "UPDATE $target SET amount = $amount, k = $k WHERE id = $id;\n";
	}
	elsif ($r < 0.62)
	{
		# UPDATE moving a row to another partition (through the parent), or
		# to the other sub-partition (through events_ap)
		my $id = pick_victim($s);
		return '' unless defined $id;
		my $row = $s->{$id};
		my $old = leaf_of($row->[0], $row->[1]);
		my @to = grep { $_ ne $old } @LEAVES;
		my $leaf = $to[ int(rand(@to)) ];
		my $region = region_of_leaf($leaf);
		my $amount = random_amount_for_leaf($leaf);
		my $via =
		  ($old =~ /_ap_/ && $leaf =~ /_ap_/ && rand() < 0.7)
		  ? 'events_ap'
		  : 'events';
		@$row[ 0, 1, 2 ] = ($region, $amount, $k);
		$touched->{$leaf} = 1;
		return
		  "UPDATE $via SET region = '$region', amount = $amount, k = $k WHERE id = $id;\n";
	}
	elsif ($r < 0.80)
	{
		# DELETE through the parent or the leaf (more often when big)
		my $n = $w->{big} ? 3 : 1;
		my $sql = '';
		for (1 .. $n)
		{
			my $id = pick_victim($s);
			last unless defined $id;
			my $row = delete $s->{$id};
			my $target =
			  rand() < 0.5 ? 'events' : leaf_of($row->[0], $row->[1]);
			$sql .= "DELETE FROM $target WHERE id = $id;\n";
		}
		return $sql;
	}
	else
	{
		# COPY FROM STDIN into the parent or into a leaf
		my $into = rand() < 0.6 ? 'events' : $LEAVES[ int(rand(@LEAVES)) ];
		my $sql = "COPY $into (id, region, amount, k, acct) FROM STDIN;\n";
		for (1 .. 1 + int(rand(4)))
		{
			my ($id, $row) = $new_row->($into eq 'events' ? undef : $into);
			$sql .= join("\t", $id, @$row) . "\n";
		}
		return $sql . "\\.\n";
	}
}

sub publish_sql
{
	my ($k, $touched) = @_;
	my @paths = sort keys %$touched;
	return '' unless @paths;
	return "UPDATE published SET k = $k WHERE path IN ("
	  . join(', ', map { "'$_'" } @paths) . ");\n";
}

# W2: events in every way, and some transfers
sub w2_chunk
{
	my ($w, $deadline, $iters) = @_;
	my $sql = "SET application_name = 'stress_w2';\n"
	  . "SET cachealot.test_commit_delay = 1;\n";
	for (1 .. $iters)
	{
		my $k = ++$w->{k};
		$w->{big} = keys(%{ $w->{rows} }) > 500;
		my $r = rand();
		if ($r < 0.15)
		{
			my $commit = rand() < 0.8;
			$sql .= transfer_sql(-2, $k, $commit ? 'COMMIT' : 'ROLLBACK');
			$sql .= "UPDATE published SET k = $k WHERE path = 'xfer2';\n"
			  if $commit;
		}
		elsif ($r < 0.55)
		{
			# one autocommit statement
			my %touched;
			my $op = w2_op($w, $w->{rows}, $k, \%touched);
			$sql .= $op . publish_sql($k, \%touched) if $op ne '';
		}
		elsif ($r < 0.80)
		{
			# several statements in one transaction
			my %touched;
			$sql .= "BEGIN;\n";
			$sql .= w2_op($w, $w->{rows}, $k, \%touched) for 1 .. 2 + int(rand(3));
			$sql .= "COMMIT;\n" . publish_sql($k, \%touched);
		}
		elsif ($r < 0.90)
		{
			# a savepoint rolled back in the middle
			my %touched;
			my %ignored;
			$sql .= "BEGIN;\n" . w2_op($w, $w->{rows}, $k, \%touched);
			my $scratch = copy_state($w->{rows});
			my $next_id = $w->{next_id};
			$sql .= "SAVEPOINT s;\n";
			$sql .= w2_op($w, $scratch, $k, \%ignored) for 1 .. 1 + int(rand(2));
			$sql .= "ROLLBACK TO SAVEPOINT s;\n";
			# ids used in the rolled-back part are not reused (harmless)
			$sql .= w2_op($w, $w->{rows}, $k, \%touched);
			$sql .= "COMMIT;\n" . publish_sql($k, \%touched);
		}
		else
		{
			# a whole transaction rolled back
			my %ignored;
			my $scratch = copy_state($w->{rows});
			$sql .= "BEGIN;\n";
			$sql .= w2_op($w, $scratch, $k, \%ignored) for 1 .. 1 + int(rand(3));
			$sql .= "ROLLBACK;\n";
		}
		$sql .= deadline_check($deadline, 0.005 + rand(0.02));
	}
	return $sql;
}

# W3: the sub-partitioned partition and the materialized view
sub w3_chunk
{
	my ($w, $deadline, $iters) = @_;
	my $sql = "SET application_name = 'stress_w3';\n";
	for (1 .. $iters)
	{
		my $k = $W3_BASE + ++$w->{k};
		my $amount = int(rand(1000));
		my $acct = 1 + int(rand($NACCOUNTS));
		my $r = rand();
		if ($r < 0.8)
		{
			my $conc = rand() < 0.5 ? ' CONCURRENTLY' : '';
			$sql .= "INSERT INTO events (id, region, amount, k, acct) VALUES ($k, 'ap', $amount, $k, $acct);\n"
			  . "REFRESH MATERIALIZED VIEW$conc mv_region;\n"
			  . "UPDATE published SET k = $k WHERE path = 'mv';\n";
		}
		else
		{
			$sql .= "BEGIN;\n"
			  . "INSERT INTO events_ap (id, region, amount, k, acct) VALUES ($k, 'ap', $amount, $k + $W3_BASE, $acct);\n"
			  . "REFRESH MATERIALIZED VIEW mv_region;\nROLLBACK;\n";
		}
		$sql .= deadline_check($deadline, 0.05 + rand(0.2));
	}
	return $sql;
}

# ---------------------------------------------------------------------
# Reader scripts
# ---------------------------------------------------------------------

# PREPAREs for reader R2
sub prepare_all
{
	my $sql = '';
	for my $q (@POOL)
	{
		$sql .= "PREPARE p_$q->{name} AS $q->{sql};\n";
	}
	for my $r (@RAC)
	{
		$sql .= "PREPARE r_$r->[0] AS $r->[1];\n";
	}
	return $sql;
}

sub pool_stmt
{
	my ($q, $p, $prepared) = @_;
	return literal_sql($q, $p) unless $prepared;
	return "EXECUTE p_$q->{name}" . ($p ? '(' . join(', ', @$p) . ')' : '');
}

sub reader_chunk
{
	my ($name, $prepared, $deadline, $iters) = @_;
	my $sql = "SET application_name = 'stress_$name';\n";
	$sql .= prepare_all() if $prepared;
	for my $i (1 .. $iters)
	{
		for (1 .. 2)
		{
			my $q = $POOL[ int(rand(@POOL)) ];
			my $p = pick_params($q);
			my $stmt = pool_stmt($q, $p, $prepared);
			my $label = $q->{name} . ($p ? '(' . join(',', @$p) . ')' : '');
			$label =~ s/'//g;
			# half the pairs take their snapshot first and wait 3 ms, so
			# that commits land between it and the cached run: a snapshot
			# that is not current must neither be served a newer entry nor
			# store its older rows under the newer versions
			my $early =
			  rand() < 0.5
			  ? "SELECT 1 AS snap FROM regions, pg_sleep(0.003) LIMIT 1 \\gset\n"
			  : '';
			$sql .= "\\echo '\@\@PAIR $label'\n"
			  . "BEGIN ISOLATION LEVEL REPEATABLE READ;\n$early$stmt;\n"
			  . "\\echo '\@\@OFF'\n"
			  . "SET LOCAL cachealot.enabled = off;\n$stmt;\nCOMMIT;\n"
			  . "\\echo '\@\@END'\n";
		}
		if ($i % 2 == 0)
		{
			# EXECUTE: lock first (see "TRUNCATE and REFRESH" above)
			my $lock = $prepared ? $PRELOCK : '';
			$sql .= "\\echo '\@\@PUB'\n"
			  . "BEGIN;\nSET LOCAL cachealot.enabled = off;\n$lock"
			  . "SELECT path, k FROM published ORDER BY path;\n"
			  . "\\echo '\@\@TRUTH'\n";
			for my $r (@RAC)
			{
				$sql .= ($prepared ? "EXECUTE r_$r->[0]" : $r->[1]) . ";\n";
			}
			$sql .= "COMMIT;\n\\echo '\@\@CACHED'\n";
			$sql .= "BEGIN;\n$lock" if $prepared;
			for my $r (@RAC)
			{
				$sql .= ($prepared ? "EXECUTE r_$r->[0]" : $r->[1]) . ";\n";
			}
			$sql .= "COMMIT;\n" if $prepared;
			$sql .= "\\echo '\@\@RACEND'\n";
		}
		$sql .= deadline_check($deadline, 0);
	}
	return $sql;
}

# pgbench scripts (extended protocol)
my %PGBENCH_SCRIPTS = (
	'rr_accounts' => qq{\\set lo random(1, 41)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT sum(bal) AS s_on, count(*) AS n_on FROM accounts WHERE id > 0 \\gset
SELECT coalesce(hashtextextended(string_agg(id::text || ':' || bal::text, ',' ORDER BY id), 0), 0) AS h_on FROM accounts WHERE id BETWEEN :lo AND :lo + 9 \\gset
SET LOCAL cachealot.enabled = off;
SELECT sum(bal) AS s_off, count(*) AS n_off FROM accounts WHERE id > 0 \\gset
SELECT coalesce(hashtextextended(string_agg(id::text || ':' || bal::text, ',' ORDER BY id), 0), 0) AS h_off FROM accounts WHERE id BETWEEN :lo AND :lo + 9 \\gset
COMMIT;
\\if :s_on != $TOTAL or :s_off != $TOTAL or :n_on != $NACCOUNTS or :h_on != :h_off
SELECT 1 / 0 AS rr_accounts_mismatch, :s_on::text, :s_off::text, :h_on::text, :h_off::text;
\\endif
},
	'rr_events' => q{BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT coalesce(hashtextextended(string_agg(region || ':' || n::text || ':' || total::text || ':' || maxk::text, ',' ORDER BY region), 0), 0) AS m_on FROM mv_region \gset
SELECT count(*) AS bad_on FROM event_counts c WHERE c.n <> (SELECT count(*) FROM events e WHERE e.region = c.region) \gset
SELECT coalesce(hashtextextended(string_agg(region || ':' || n::text || ':' || coalesce(maxk, 0)::text, ',' ORDER BY region), 0), 0) AS v_on FROM region_totals \gset
SET LOCAL cachealot.enabled = off;
SELECT coalesce(hashtextextended(string_agg(region || ':' || n::text || ':' || total::text || ':' || maxk::text, ',' ORDER BY region), 0), 0) AS m_off FROM mv_region \gset
SELECT coalesce(hashtextextended(string_agg(region || ':' || n::text || ':' || coalesce(maxk, 0)::text, ',' ORDER BY region), 0), 0) AS v_off FROM region_totals \gset
COMMIT;
\if :bad_on != 0 or :m_on != :m_off or :v_on != :v_off
SELECT 1 / 0 AS rr_events_mismatch, :bad_on::text, :m_on::text, :m_off::text, :v_on::text, :v_off::text;
\endif
},
	'rac' => qq{BEGIN;
SET LOCAL cachealot.enabled = off;
SELECT k AS p1 FROM published WHERE path = 'xfer1' \\gset
SELECT k AS p2 FROM published WHERE path = 'events_eu' \\gset
SELECT k AS p3 FROM published WHERE path = 'mv' \\gset
SELECT k AS p4 FROM published WHERE path = 'side' \\gset
COMMIT;
SELECT bal AS c1 FROM accounts WHERE id = -1 \\gset
SELECT coalesce(max(k), 0) AS c2 FROM events_eu WHERE k < $W3_BASE \\gset
SELECT coalesce(max(maxk), 0) AS c3 FROM mv_region \\gset
SELECT coalesce(max(k), 0) AS c4 FROM side \\gset
SELECT sum(bal) AS c5 FROM accounts WHERE id > 0 \\gset
\\if :c1 < :p1 or :c2 < :p2 or :c3 < :p3 or :c4 < :p4 or :c5 != $TOTAL
SELECT 1 / 0 AS read_after_commit_violation, :c1::text, :p1::text, :c2::text, :p2::text, :c3::text, :p3::text, :c4::text, :p4::text, :c5::text;
\\endif
},);

# ---------------------------------------------------------------------
# The storm
# ---------------------------------------------------------------------
my $stats_before = $node->cache_stats;
note 'stats before the storm: ' . fmt_stats($stats_before);

my $t0 = time;
my $deadline = $t0 + $duration;
my $proc_timeout = $duration + 120;

# W1-W3, R1 and R2: each a child process running chunk after chunk of psql
# until the deadline
my $procs = CachealotProcs->new(
	node => $node,
	dir => $dir,
	deadline => $deadline,
	timeout => $proc_timeout);

my %w1 = (k => 0);
my %w2 = (k => 1000, next_id => 300, rows => \%rows);
my %w3 = (k => 0);

$procs->spawn_psql_chunks('w1', $seed + 1, 300,
	sub { w1_chunk(\%w1, $deadline, shift) });
$procs->spawn_psql_chunks('w2', $seed + 2, 300,
	sub { w2_chunk(\%w2, $deadline, shift) });
$procs->spawn_psql_chunks('w3', $seed + 3, 100,
	sub { w3_chunk(\%w3, $deadline, shift) });
$procs->spawn_psql_chunks('r1', $seed + 4, 300,
	sub { reader_chunk('r1', 0, $deadline, shift) });
$procs->spawn_psql_chunks('r2', $seed + 5, 300,
	sub { reader_chunk('r2', 1, $deadline, shift) });

# R3: pgbench, extended protocol
my @pgb_files;
for my $s (sort keys %PGBENCH_SCRIPTS)
{
	my $f = "$dir/pgbench_$s.sql";
	write_file($f, $PGBENCH_SCRIPTS{$s});
	push @pgb_files, '-f', "$f\@" . ($s eq 'rac' ? 1 : 2);
}
my ($pgb_out, $pgb_err) = ('', '');
my $pgb = IPC::Run::start(
	[
		$pgbench, '-n', '-M', 'extended', '-c', '1', '-j', '1',
		'-T', int($duration + 0.999), @pgb_files,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'<', \undef, '>', \$pgb_out, '2>', \$pgb_err,
	IPC::Run::timeout($proc_timeout));

my $exit = $procs->wait_all;
my $pgb_ok = eval { $pgb->finish; 1 } && $pgb->full_result(0) == 0;
my $elapsed = time - $t0;
note sprintf('storm: %.1f s', $elapsed);

for my $name (sort keys %$exit)
{
	is($exit->{$name}, 0, "$name ran to its deadline without an error")
	  or diag("$name: " . $procs->failure($name));
}
ok($pgb_ok, 'pgbench (extended protocol) checks all passed')
  or diag("pgbench stdout:\n$pgb_out\npgbench stderr:\n$pgb_err");
my ($pgb_tx) = $pgb_out =~ /number of transactions actually processed: (\d+)/;
$pgb_tx //= 0;
cmp_ok($pgb_tx, '>', 0, "pgbench processed $pgb_tx transactions");
note "r3 (pgbench, extended protocol): $pgb_tx transactions checked";

# ---------------------------------------------------------------------
# Check the readers' outputs
# ---------------------------------------------------------------------
my $TOKEN = qr/P[0-9a-f]{32}/;
my %token_count;       # token -> number of cache-on pair results carrying it
my %reader_tokens;     # reader -> token -> count
my %pairs;             # reader -> number of pairs compared
my %rac_checks;        # reader -> number of read-after-commit blocks
my @failures;

my $nfailures = 0;
sub fail_report
{
	my ($msg) = @_;
	$nfailures++;
	push @failures, $msg if @failures < 50;
}

for my $reader ('r1', 'r2')
{
	$pairs{$reader} = 0;
	$rac_checks{$reader} = 0;
	for my $file ($procs->outputs($reader))
	{
		my @lines = split /\n/, slurp_file($file);
		my $i = 0;
		while ($i < @lines)
		{
			my $line = $lines[ $i++ ];
			if ($line =~ /^\@\@PAIR (.*)$/)
			{
				my $label = $1;
				my (@on, @off);
				while ($i < @lines && $lines[$i] ne '@@OFF')
				{
					push @on, $lines[ $i++ ];
				}
				$i++;
				while ($i < @lines && $lines[$i] ne '@@END')
				{
					push @off, $lines[ $i++ ];
				}
				last if $i >= @lines;    # cut short at the deadline
				$i++;
				$pairs{$reader}++;
				my @on_tokens = map { /\|($TOKEN)$/ ? $1 : () } @on;
				s/\|$TOKEN$// for @on, @off;
				if ("@on" ne "@off" || @on != @off)
				{
					fail_report("$reader $file: pair $label: cache on:\n  "
						  . join("\n  ", @on)
						  . "\ncache off:\n  "
						  . join("\n  ", @off));
				}
				if (@on_tokens)
				{
					$token_count{ $on_tokens[0] }++;
					$reader_tokens{$reader}{ $on_tokens[0] }++;
				}
				my $name = (split /\(/, $label)[0];
				if ($name eq 'total')
				{
					fail_report("$reader: invariant: total with the cache on: @on")
					  unless "@on" eq "$TOTAL|$NACCOUNTS";
				}
				elsif ($name eq 'counts')
				{
					for (@on)
					{
						my ($region, $n, $actual) = split /\|/;
						fail_report(
							"$reader: invariant: event_counts($region) = $n, events has $actual"
						) unless defined $actual && $n == $actual;
					}
				}
			}
			elsif ($line eq '@@PUB')
			{
				my (%pub, %truth, %cached);
				while ($i < @lines && $lines[$i] ne '@@TRUTH')
				{
					my ($p, $k) = split /\|/, $lines[ $i++ ];
					$pub{$p} = $k;
				}
				$i++;
				while ($i < @lines && $lines[$i] ne '@@CACHED')
				{
					my ($n, $v) = split /\|/, $lines[ $i++ ];
					$truth{$n} = $v;
				}
				$i++;
				while ($i < @lines && $lines[$i] ne '@@RACEND')
				{
					my ($n, $v) = split /\|/, $lines[ $i++ ];
					$cached{$n} = $v;
				}
				last if $i >= @lines;
				$i++;
				$rac_checks{$reader}++;
				for my $r (@RAC)
				{
					my ($n, undef, $path) = @$r;
					my $c = $cached{$n};
					if (!defined $c)
					{
						fail_report("$reader $file: read-after-commit: no value for $n");
						next;
					}
					if (!defined $path)
					{
						fail_report("$reader: invariant: $n with the cache on: $c")
						  unless $c == $TOTAL;
						next;
					}
					if ($c == -1)
					{
						fail_report("$reader $file: read-after-commit: $n seen empty");
						next;
					}
					fail_report(
						"$reader $file: read-after-commit: $n cached $c < published $pub{$path} ($path)"
					) if $c < $pub{$path};
					fail_report(
						"$reader $file: read-after-commit: $n cached $c < $truth{$n} read just before with the cache off"
					) if $c < $truth{$n};
				}
			}
		}
	}
}

# hits among the pairs: every repeat of a token is a result served from the
# cache (the first occurrence may be the execution that stored it)
my $pair_hits = 0;
$pair_hits += $_ - 1 for values %token_count;
for my $reader ('r1', 'r2')
{
	my $sure = 0;    # repeats within this reader alone: hits it was served
	$sure += $_ - 1 for values %{ $reader_tokens{$reader} // {} };
	note "$reader: $pairs{$reader} pairs compared, $sure of them cache hits "
	  . "(at least), $rac_checks{$reader} read-after-commit blocks";
	cmp_ok($pairs{$reader}, '>', 0, "$reader compared pairs");
	cmp_ok($rac_checks{$reader}, '>', 0, "$reader checked read-after-commit");
	cmp_ok($sure, '>', 0,
		"$reader: some pairs compared a result served from the cache");
}
note "pairs with a probe: cache hits $pair_hits";

is($nfailures, 0, 'no mismatch, invariant or read-after-commit violation')
  or diag(join("\n", @failures)
	  . ($nfailures > @failures ? "\n(first 50 of $nfailures shown)" : ''));

my $stats_after = $node->cache_stats;
note 'stats after the storm: ' . fmt_stats($stats_after);
my $storm_hits = $stats_after->{hits} - $stats_before->{hits};
cmp_ok($storm_hits, '>', 0, "the cache served $storm_hits hits during the storm");
cmp_ok($stats_after->{invalidations} - $stats_before->{invalidations},
	'>', 0, 'writes invalidated during the storm');

# ---------------------------------------------------------------------
# Quiescent checks: every text and parameter value the readers used, cache
# on first (it may meet an entry stored during the storm), then off
# ---------------------------------------------------------------------
my $final = "SET application_name = 'stress_final';\n" . prepare_all();
my @final_stmts;
for my $q (@POOL)
{
	for my $p ($q->{params} ? @{ $q->{params} } : (undef))
	{
		for my $prepared (0, 1)
		{
			my $stmt = pool_stmt($q, $p, $prepared);
			push @final_stmts, $stmt;
			$final .= "\\echo '\@\@PAIR $#final_stmts'\n$stmt;\n\\echo '\@\@OFF'\n"
			  . "BEGIN;\nSET LOCAL cachealot.enabled = off;\n$stmt;\nCOMMIT;\n"
			  . "\\echo '\@\@END'\n";
		}
	}
}
for my $r (@RAC)
{
	for my $stmt ($r->[1], "EXECUTE r_$r->[0]")
	{
		push @final_stmts, $stmt;
		$final .= "\\echo '\@\@PAIR $#final_stmts'\n$stmt;\n\\echo '\@\@OFF'\n"
		  . "BEGIN;\nSET LOCAL cachealot.enabled = off;\n$stmt;\nCOMMIT;\n"
		  . "\\echo '\@\@END'\n";
	}
}
write_file("$dir/final.sql", $final);
my $final_rc = run_psql_file($node, "$dir/final.sql", "$dir/final.out",
	"$dir/final.err", 120);
is($final_rc, 0, 'final pass ran') or diag(slurp_file("$dir/final.err"));
my @final_bad;
my $final_compared = 0;
{
	my @lines = split /\n/, slurp_file("$dir/final.out");
	my $i = 0;
	while ($i < @lines)
	{
		my $line = $lines[ $i++ ];
		next unless $line =~ /^\@\@PAIR (.*)$/;
		my $stmt = $final_stmts[$1];
		my (@on, @off);
		push @on, $lines[ $i++ ] while $i < @lines && $lines[$i] ne '@@OFF';
		$i++;
		push @off, $lines[ $i++ ] while $i < @lines && $lines[$i] ne '@@END';
		$i++;
		s/\|$TOKEN$// for @on, @off;
		$final_compared++;
		push @final_bad, "$stmt:\n cache on:  @on\n cache off: @off"
		  if "@on" ne "@off" || @on != @off;
	}
}
is($final_compared, scalar(@final_stmts),
	'final pass compared all ' . scalar(@final_stmts) . ' statements');
is(scalar(@final_bad), 0,
	'after the storm, every statement the readers used returns what the executor returns'
) or diag(join("\n", @final_bad));

# invariants, read by the executor
is($node->truth('SELECT sum(bal), count(*) FROM accounts WHERE id > 0'),
	"$TOTAL|$NACCOUNTS", 'the total balance is unchanged');
is( $node->truth(
		'SELECT count(*) FROM event_counts c WHERE c.n <> (SELECT count(*) FROM events e WHERE e.region = c.region)'
	),
	'0',
	'event_counts agrees with events');
my $stats_end = $node->cache_stats;
note 'stats at the end: ' . fmt_stats($stats_end);
cmp_ok($stats_end->{hits}, '>', 0, 'cachealot_stats() shows hits');

# the server log: no crash, no PANIC, no error raised by cachealot
my $log = slurp_file($node->logfile);
my @bad_log =
  grep { /PANIC|terminated by signal|server process .* was terminated|(ERROR|FATAL):\s+.*cachealot/ }
  split /\n/, $log;
is(scalar(@bad_log), 0, 'server log: no crash, PANIC or cachealot error')
  or diag(join("\n", @bad_log[ 0 .. ($#bad_log < 20 ? $#bad_log : 20) ]));

$node->stop;
note sprintf('total %.1f s', time - $^T);
done_testing();
