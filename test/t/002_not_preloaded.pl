
# Copyright (c) 2026, cachealot developers

# 002_not_preloaded: loading outside shared_preload_libraries, and a tiny
# cachealot.max_memory (DESIGN.md 1).
#
# Without the preload, CREATE EXTENSION still succeeds, the cache is
# inactive, and every SQL function raises an ERROR saying how to preload
# it; the server keeps running.  With the preload and max_memory at its
# minimum, the server starts, caches (a hit), and stays within the bound,
# evicting rather than erroring.

use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;

use CachealotNode;

my $preload_msg = qr/cachealot must be loaded via shared_preload_libraries/;

# ---------------------------------------------------------------------
# Not preloaded
# ---------------------------------------------------------------------
# no preload, and no extension yet: creating it is the first check
my $plain = CachealotNode->create('not_preloaded', library => 0, extension => 0);

my ($ret, $out, $err) = $plain->psql('postgres', 'CREATE EXTENSION cachealot');
is($ret, 0, 'not preloaded: CREATE EXTENSION succeeds');
is($err, '', 'not preloaded: CREATE EXTENSION reports nothing');

$plain->safe_psql(
	'postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t VALUES (1, 'one');
});

for my $call (
	'SELECT * FROM cachealot_stats()',
	'SELECT cachealot_flush()',
	q{SELECT cachealot_invalidate('t')},
	'SELECT cachealot_reset_stats()')
{
	($ret, $out, $err) = $plain->psql('postgres', $call);
	isnt($ret, 0, "not preloaded: $call fails");
	like($err, qr/ERROR:.*$preload_msg/, "not preloaded: $call says to preload");
	is($plain->safe_psql('postgres', 'SELECT 1'), '1',
		"not preloaded: server still answers after $call");
}

# the same calls inside one session, one after another, then ordinary work
($ret, $out, $err) = $plain->psql(
	'postgres', q{
SELECT cachealot_reset_stats();
SELECT * FROM cachealot_stats();
SELECT v FROM t WHERE id = 1;
SELECT v FROM t WHERE id = 1;
}, on_error_stop => 0);
is($out, "one\none", 'not preloaded: queries run normally after the errors');
my $nerr = () = $err =~ /ERROR:.*$preload_msg/g;
is($nerr, 2, 'not preloaded: each call in the session raised the error');

# writes and DDL pass through untouched
$plain->safe_psql(
	'postgres', q{
UPDATE t SET v = 'uno' WHERE id = 1;
BEGIN; INSERT INTO t VALUES (2, 'two'); COMMIT;
ALTER TABLE t ADD COLUMN w int;
});
is($plain->safe_psql('postgres', 'SELECT v FROM t ORDER BY id'),
	"uno\ntwo", 'not preloaded: writes and reads work');

is($plain->safe_psql('postgres', 'SELECT 1'), '1',
	'not preloaded: server still running');
unlike(
	slurp_file($plain->logfile),
	qr/terminated by signal|PANIC|server process .* exited with exit code/,
	'not preloaded: no backend crashed');
$plain->stop;

# ---------------------------------------------------------------------
# Preloaded, cachealot.max_memory at its minimum
# ---------------------------------------------------------------------
my $small = CachealotNode->create(
	'small_cache', settings => q{
cachealot.max_memory = '1MB'
autovacuum = off
});
is($small->safe_psql('postgres', 'SHOW cachealot.max_memory'),
	'1MB', 'small cache: the server started with max_memory = 1MB');

$small->safe_psql(
	'postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t VALUES (1, 'one');
CREATE TABLE big (id int PRIMARY KEY, pad text);
INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 4000) g;
});

my $s0 = $small->cache_stats;
is($small->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1'),
	'one', 'small cache: first run');
is($small->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1'),
	'one', 'small cache: second run');
my $s1 = $small->cache_stats;
cmp_ok($s1->{hits}, '>', $s0->{hits}, 'small cache: the second run is a hit');
cmp_ok($s1->{memory_limit}, '>', 0, 'small cache: memory_limit is reported');
cmp_ok($s1->{memory_limit}, '<=', 1024 * 1024,
	'small cache: memory_limit within max_memory');

# About 2MB of results (20 x ~90kB): more than the cache holds
my $all_right = 1;
for my $i (0 .. 19)
{
	my $lo = $i * 100 + 1;
	my $hi = $lo + 399;
	my $res = $small->safe_psql('postgres',
		"SELECT id, pad FROM big WHERE id BETWEEN $lo AND $hi ORDER BY id");
	my @rows = split /\n/, $res;
	$all_right = 0
	  unless @rows == 400 && $rows[0] =~ /^$lo\|/ && $rows[-1] =~ /^$hi\|/;
}
ok($all_right, 'small cache: large results are returned whole');

my $s2 = $small->cache_stats;
cmp_ok($s2->{stores}, '>', $s1->{stores}, 'small cache: large results were stored');
cmp_ok($s2->{evictions}, '>', 0, 'small cache: full, it evicts');
cmp_ok($s2->{memory_used}, '<=', $s2->{memory_limit},
	'small cache: memory_used stays within memory_limit');

# still caching after evictions
my $q = 'SELECT id, pad FROM big WHERE id BETWEEN 1901 AND 2300 ORDER BY id';
my $first = $small->safe_psql('postgres', $q);
my $s3 = $small->cache_stats;
is($small->safe_psql('postgres', $q), $first, 'small cache: same rows again');
cmp_ok($small->cache_stats->{hits}, '>', $s3->{hits},
	'small cache: a hit after evictions');
is($small->safe_psql('postgres', 'SELECT v FROM t WHERE id = 1'),
	'one', 'small cache: small query still right');

unlike(
	slurp_file($small->logfile),
	qr/terminated by signal|PANIC|server process .* exited with exit code/,
	'small cache: no backend crashed');
$small->stop;

done_testing();
