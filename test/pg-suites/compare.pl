#!/usr/bin/perl
# compare.pl: compare, test by test, a suite's run on plain PostgreSQL with
# its run on a server with cachealot preloaded (see run.sh).
#
#   perl compare.pl [--diff-lines N] SUITE:PLAIN_DIR:CACHEALOT_DIR ...
#
# Each DIR is a pg_regress --outputdir: DIR/stdout.log holds pg_regress's
# output (the "test ... ok|FAILED" lines), DIR/results/<test>.out each test's
# actual output. A test is
#   same       its outcome (ok/FAILED) and its output file are identical in
#              both runs;
#   tolerated  the outputs differ only in the ways below (kinds), block by
#              block (the outcomes may then differ too: pg_regress judged the
#              tolerated lines against the expected file);
#   different  anything else: another outcome, a missing output, any other
#              difference. The bounded `diff -u plain cachealot` is printed.
#
# Tolerated kinds (a "block" is one psql/isolationtester result table: a
# header line, a dashes line of the same length, rows, "(N rows)"):
#   row-order  a result table has the same header, footer and rows, but the
#              rows come in another order, and the statement that produced it
#              (the echoed text before the table, from its last ';' on, with
#              everything in parentheses removed) has no ORDER BY: SQL
#              promises no order there. Rows are compared as sorted lines.
#   query-id   EXPLAIN's "Query Identifier: N" line (text/YAML, JSON, XML
#              forms): cachealot makes compute_query_id=auto compute query
#              ids, so EXPLAIN VERBOSE prints it, plain PostgreSQL does not.
#              The line is dropped from both sides, together with what it
#              drags along: the table's "(N rows)" count, the column width
#              (runs of blanks and of dashes are compared collapsed) and a
#              JSON comma on the line before it.
#   scan-counters  a result table of table/index statistics counters (every
#              header column is a name in %READ_COUNTERS or %OTHER_COUNTERS
#              below, one at least a read counter: seq_scan, seq_tup_read,
#              idx_scan, idx_tup_read, idx_tup_fetch, or pg_stat_get_numscans,
#              _tuples_returned, _tuples_fetched and their _xact_ forms as
#              unaliased column names), with the same header, separator and
#              row count, where every differing cell is in a read-counter
#              column and both are integers, the cachealot one lower than or
#              equal to the plain one: a query answered from the cache scans
#              nothing, so the tables and indexes it reads count fewer scans
#              and tuples read (documented in the README). The other counters
#              (n_tup_ins/upd/del, n_live_tup, n_dead_tup, vacuum counts...)
#              must be equal, and a higher read count is still different.
# Any other difference, however small, is "different".
#
# Exit status: 0 if no test is different, 1 otherwise.
use strict;
use warnings;

my $diff_lines = 60;
if (@ARGV >= 2 && $ARGV[0] eq '--diff-lines') {
    shift @ARGV;
    $diff_lines = shift @ARGV;
}
die "usage: compare.pl [--diff-lines N] SUITE:PLAIN_DIR:CACHEALOT_DIR ...\n"
    unless @ARGV;

# ---------------------------------------------------------------------------
# pg_regress's log: test name -> outcome, in the order run.
sub outcomes {
    my ($log) = @_;
    my (%st, @order);
    open(my $fh, '<', $log) or return ({}, []);
    while (<$fh>) {
        # "test name ... ok 12 ms", "     name ... FAILED 12 ms",
        # "     name ... failed (ignored)", "... FAILED (test process exited ...)"
        next unless /^(?:test\s+|\s+)(\S+)\s+\.\.\.\s+(ok|FAILED|failed \(ignored\))/;
        push @order, $1 unless exists $st{$1};
        $st{$1} = $2;
    }
    close $fh;
    return (\%st, \@order);
}

sub slurp_lines {
    my ($f) = @_;
    open(my $fh, '<', $f) or return undef;
    local $/;
    my $s = <$fh>;
    close $fh;
    return [split /\n/, $s, -1];
}

# ---------------------------------------------------------------------------
# Segments: a file is a list of text runs and result tables.
sub is_sep { my ($s) = @_; return $s =~ /^-[-+]*$/; }

sub table_start {    # does a table start at line $i?
    my ($l, $i) = @_;
    return 0 unless $i + 1 < @$l;
    my ($h, $s) = ($l->[$i], $l->[$i + 1]);
    return 0 unless is_sep($s) && length($h) == length($s);
    return 0 if $h =~ /^\s*$/ || $h =~ /^--/;
    return 1;
}

# The statement that produced a table: the preceding text from its last ';'
# on, comments and parenthesized parts removed.
sub outer_statement {
    my ($text) = @_;
    my $s = join("\n", @$text);
    $s =~ s/--[^\n]*//g;
    $s =~ s/[\s;]+$//;
    $s =~ s/^.*;//s;
    1 while $s =~ s/\([^()]*\)//g;
    return $s;
}

sub segments {
    my ($l) = @_;
    my (@seg, @text, $last_text);
    $last_text = [];
    my $i = 0;
    while ($i < @$l) {
        if (table_start($l, $i)) {
            my ($j, $end) = ($i + 2, undef);
            while ($j < @$l) {
                if ($l->[$j] =~ /^\(\d+ rows?\)$/) { $end = $j; last; }
                last if table_start($l, $j);    # footerless: not a table
                $j++;
            }
            if (defined $end) {
                if (@text) {
                    push @seg, { type => 'text', lines => [@text] };
                    $last_text = [@text];
                    @text = ();
                }
                push @seg, {
                    type   => 'table',
                    header => $l->[$i],
                    sep    => $l->[$i + 1],
                    rows   => [ @$l[ $i + 2 .. $end - 1 ] ],
                    footer => $l->[$end],
                    stmt   => outer_statement($last_text),
                    line   => $i + 1,
                };
                $i = $end + 1;
                next;
            }
        }
        push @text, $l->[$i];
        $i++;
    }
    push @seg, { type => 'text', lines => [@text] } if @text;
    return \@seg;
}

# ---------------------------------------------------------------------------
# Query Identifier normalization: returns (normalized lines, lines removed).
sub is_qi {
    my ($s) = @_;
    $s =~ s/\s*\+?\s*$//;
    $s =~ s/^\s+//;
    return $s =~ /^Query Identifier: (?:-?\d+|N)$/
        || $s =~ /^"Query Identifier": (?:-?\d+|N),?$/
        || $s =~ /^<Query-Identifier>(?:-?\d+|N)<\/Query-Identifier>$/;
}

sub squash {    # blanks and dashes collapsed: column width does not matter
    my ($s) = @_;
    $s =~ s/\s+/ /g;
    $s =~ s/^ //;
    $s =~ s/ $//;
    $s =~ s/-{2,}/-/g;
    return $s;
}

sub drop_qi {
    my ($lines) = @_;
    my (@out, $k);
    $k = 0;
    for my $ln (@$lines) {
        if (is_qi($ln)) {
            $k++;
            # JSON: the property before the dropped last one lost its comma
            my $had_comma = ($ln =~ /,\s*\+?\s*$/);
            $out[-1] =~ s/,(\s*\+?\s*)$/$1/ if @out && !$had_comma;
            next;
        }
        push @out, $ln;
    }
    return ([ map { squash($_) } @out ], $k) if $k;
    return ([@$lines], 0);
}

# scan-counters: columns a cache hit may count lower (scans, tuples read),
# and the other statistics counters such a table may show (must be equal).
my %READ_COUNTERS = map { $_ => 1 } qw(
    seq_scan seq_tup_read idx_scan idx_tup_read idx_tup_fetch
    pg_stat_get_numscans pg_stat_get_tuples_returned pg_stat_get_tuples_fetched
    pg_stat_get_xact_numscans pg_stat_get_xact_tuples_returned
    pg_stat_get_xact_tuples_fetched);
my %OTHER_COUNTERS = map { $_ => 1 } qw(
    n_tup_ins n_tup_upd n_tup_del n_tup_hot_upd n_live_tup n_dead_tup
    n_mod_since_analyze n_ins_since_vacuum
    vacuum_count autovacuum_count analyze_count autoanalyze_count);

sub cells {    # a table line's cells, trimmed
    my ($s) = @_;
    return [ map { my $x = $_; $x =~ s/^\s+//; $x =~ s/\s+$//; $x } split /\|/, $s, -1 ];
}

# Rows differ only in read counters, each lower or equal with cachealot?
# (header, separator and row count are already known to be equal)
sub scan_counters_only {
    my ($header, $prows, $crows) = @_;
    my $cols = cells($header);
    my $reads = 0;
    for my $h (@$cols) {
        return 0 unless $READ_COUNTERS{$h} || $OTHER_COUNTERS{$h};
        $reads++ if $READ_COUNTERS{$h};
    }
    return 0 unless $reads && @$prows == @$crows;
    for my $r (0 .. $#$prows) {
        my ($pc, $cc) = (cells($prows->[$r]), cells($crows->[$r]));
        return 0 unless @$pc == @$cols && @$cc == @$cols;
        for my $k (0 .. $#$cols) {
            next if $pc->[$k] eq $cc->[$k];
            return 0 unless $READ_COUNTERS{ $cols->[$k] }
                && $pc->[$k] =~ /^\d+$/ && $cc->[$k] =~ /^\d+$/
                && $cc->[$k] <= $pc->[$k];
        }
    }
    return 1;
}

sub same_list {
    my ($a, $b) = @_;
    return 0 unless @$a == @$b;
    for my $i (0 .. $#$a) { return 0 unless $a->[$i] eq $b->[$i]; }
    return 1;
}

# Compare one pair of segments: (verdict, {kinds}, note);
# verdict 'same', 'tolerated' or 'different'.
sub compare_seg {
    my ($p, $c) = @_;
    return ('different', {}, 'a result table on one side only')
        if $p->{type} ne $c->{type};
    if ($p->{type} eq 'text') {
        return ('same', {}, '') if same_list($p->{lines}, $c->{lines});
        my ($pl, $kp) = drop_qi($p->{lines});
        my ($cl, $kc) = drop_qi($c->{lines});
        if ($kp + $kc) {
            # the other side is squashed too, for the width
            $pl = [ map { squash($_) } @$pl ];
            $cl = [ map { squash($_) } @$cl ];
            return ('tolerated', { 'query-id' => 1 }, '') if same_list($pl, $cl);
        }
        return ('different', {}, '');
    }
    # tables
    if ($p->{header} eq $c->{header} && $p->{sep} eq $c->{sep}
        && $p->{footer} eq $c->{footer} && same_list($p->{rows}, $c->{rows})) {
        return ('same', {}, '');
    }
    my %kinds;
    my ($ph, $ch, $ps, $cs) = ($p->{header}, $c->{header}, $p->{sep}, $c->{sep});
    my ($pr, $kp) = drop_qi($p->{rows});
    my ($cr, $kc) = drop_qi($c->{rows});
    my $footer_ok = $p->{footer} eq $c->{footer};
    if ($kp + $kc) {
        $kinds{'query-id'} = 1;
        ($ph, $ch, $ps, $cs) = map { squash($_) } ($ph, $ch, $ps, $cs);
        $pr = [ map { squash($_) } @$pr ];
        $cr = [ map { squash($_) } @$cr ];
        my ($np) = $p->{footer} =~ /(\d+)/;
        my ($nc) = $c->{footer} =~ /(\d+)/;
        # text EXPLAIN: one row a line; JSON/XML/YAML: one row in all
        $footer_ok ||= ($np - $kp == $nc - $kc);
    }
    return ('different', {}, 'header or row count differs')
        unless $ph eq $ch && $ps eq $cs && $footer_ok;
    return ('tolerated', \%kinds, '') if same_list($pr, $cr);
    if (same_list([ sort @$pr ], [ sort @$cr ])) {
        return ('different', {}, 'rows in another order, but the statement has ORDER BY')
            if $p->{stmt} =~ /\border\s+by\b/i;
        $kinds{'row-order'} = 1;
        return ('tolerated', \%kinds, '');
    }
    if (!($kp + $kc) && scan_counters_only($ph, $pr, $cr)) {
        $kinds{'scan-counters'} = 1;
        return ('tolerated', \%kinds, '');
    }
    return ('different', {}, '');
}

# Compare two output files: (verdict, {kinds}, [notes]).
sub compare_files {
    my ($pf, $cf) = @_;
    my $pl = slurp_lines($pf);
    my $cl = slurp_lines($cf);
    return ('different', {}, ["no output file in the plain run"]) unless $pl;
    return ('different', {}, ["no output file in the cachealot run"]) unless $cl;
    return ('same', {}, []) if same_list($pl, $cl);
    my $ps = segments($pl);
    my $cs = segments($cl);
    return ('different', {}, [ sprintf("%d blocks in the plain output, %d with cachealot",
                                       scalar @$ps, scalar @$cs) ])
        unless @$ps == @$cs;
    my (%kinds, @notes, $diff);
    for my $i (0 .. $#$ps) {
        my ($v, $k, $note) = compare_seg($ps->[$i], $cs->[$i]);
        next if $v eq 'same';
        if ($v eq 'tolerated') {
            $kinds{$_}++ for keys %$k;
            next;
        }
        $diff = 1;
        push @notes, $note if $note;
    }
    return ('different', {}, \@notes) if $diff;
    # differs, but in nothing a block comparison sees (e.g. a final newline)
    return ('different', {}, ['differs outside the compared blocks']) unless %kinds;
    return ('tolerated', \%kinds, []);
}

sub show_diff {
    my ($pf, $cf) = @_;
    my @out;
    if (open(my $fh, '-|', 'diff', '-U3', '--label', 'plain', '--label', 'cachealot', $pf, $cf)) {
        @out = <$fh>;
        close $fh;
    }
    my $n = @out;
    splice(@out, $diff_lines) if $n > $diff_lines;
    print "    | $_" for @out;
    print "    | ... (", $n - $diff_lines, " more diff lines)\n" if $n > $diff_lines;
}

# ---------------------------------------------------------------------------
my ($T_same, $T_tol, $T_diff) = (0, 0, 0);
my @summary;
for my $arg (@ARGV) {
    my ($suite, $pd, $cd) = split /:/, $arg, 3;
    my ($pst, $porder) = outcomes("$pd/stdout.log");
    my ($cst, $corder) = outcomes("$cd/stdout.log");
    my %seen;
    # run.sh adds a last test to the cachealot run only: it saves
    # cachealot_stats() to cachealot_stats.csv, shown here, not compared
    $seen{cachealot_stats} = 1;
    my @tests = grep { !$seen{$_}++ } (@$porder, @$corder);
    my ($same, $tol, $dif) = (0, 0, 0);
    my %bykind;
    my (@tol_lines, @diff_tests);
    print "\n===== $suite: plain PostgreSQL vs cachealot preloaded =====\n";
    if (open(my $fh, "<", "$cd/cachealot_stats.csv")) {
        chomp(my @csv = <$fh>);
        close $fh;
        my @k = split /,/, $csv[0] // "";
        my @v = split /,/, $csv[1] // "";
        print "  cache activity in the cachealot run: ",
            join(", ", map { "$k[$_]=$v[$_]" } grep { $k[$_] ne "stats_reset" } 0 .. $#k), "\n";
    } else {
        print "  cache activity in the cachealot run: unknown (no cachealot_stats.csv)\n";
    }
    if (!@tests) {
        print "  no test ran (see $pd/stdout.log and $cd/stdout.log)\n";
        $dif++;
    }
    for my $t (@tests) {
        my $po = $pst->{$t} // 'not run';
        my $co = $cst->{$t} // 'not run';
        my ($v, $kinds, $notes) =
            compare_files("$pd/results/$t.out", "$cd/results/$t.out");
        # An outcome is the output compared with the expected output: when the
        # outputs differ only in tolerated ways, the outcomes may differ too
        # (a test that is "ok" on plain PostgreSQL because an EXPLAIN has no
        # Query Identifier line). A missing test or output is still different.
        if ($po ne $co && ($v ne "tolerated" || $po eq "not run" || $co eq "not run")) {
            $v = "different";
            unshift @$notes, "outcome: plain $po, cachealot $co";
        }
        if ($v eq 'same') {
            $same++;
        } elsif ($v eq 'tolerated') {
            $tol++;
            $bykind{$_}++ for keys %$kinds;
            push @tol_lines, sprintf("  tolerated: %-32s %s (%s)\n", $t,
                join(', ', map { "$_ x$kinds->{$_}" } sort keys %$kinds),
                $po eq $co ? "$po in both" : "plain $po, cachealot $co");
        } else {
            $dif++;
            push @diff_tests, [ $t, $po, $co, $notes ];
        }
    }
    print @tol_lines;
    for my $d (@diff_tests) {
        my ($t, $po, $co, $notes) = @$d;
        print "  DIFFERENT: $t (plain: $po, cachealot: $co)\n";
        print "    note: $_\n" for @$notes;
        show_diff("$pd/results/$t.out", "$cd/results/$t.out")
            if -f "$pd/results/$t.out" && -f "$cd/results/$t.out";
    }
    my $plain_failed = grep { $pst->{$_} eq 'FAILED' } keys %$pst;
    push @summary, sprintf("  %-10s %3d run, %3d same, %3d tolerated (%s), %3d different;"
        . " failing on plain PostgreSQL too: %d\n",
        $suite . ':', scalar @tests, $same, $tol,
        join(', ', map { "$_: " . ($bykind{$_} // 0) } qw(row-order query-id scan-counters)),
        $dif, $plain_failed);
    ($T_same, $T_tol, $T_diff) = ($T_same + $same, $T_tol + $tol, $T_diff + $dif);
}
print "\n===== summary (a test tolerated for several kinds counts under each) =====\n", @summary;
print "check-pg-suites: $T_same same, $T_tol tolerated, $T_diff different\n";
exit($T_diff ? 1 : 0);
