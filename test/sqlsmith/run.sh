#!/usr/bin/env bash
# test/sqlsmith/run.sh: what `make sqlsmith` runs: fuzz a server that has
# cachealot preloaded with sqlsmith (Debian package `sqlsmith`), and fail on
# a crash, a PANIC, an unexpected error raised by cachealot, or a result
# that differs because of the cache.
#
#  1. installs missing packages (test/lib/ensure-deps.sh, plus sqlsmith);
#  2. builds and installs the extension (as root or via sudo);
#  3. as the `postgres` system user (when run as root), starts a temporary
#     cluster in a private directory: Unix socket in that directory only
#     (no TCP), cachealot preloaded, every error logged with its statement
#     and source location; creates database `fuzz` with cachealot and the
#     tables of schema.sql, owned by an unprivileged role `smith` (sqlsmith
#     runs as smith: it calls random functions, and a superuser's random
#     pg_terminate_backend() or lo_import() is no one's friend);
#  4. phase 1: sqlsmith executes SQLSMITH_QUERIES random statements
#     (cachealot.enabled on, the default);
#  5. phase 2: sqlsmith --dry-run generates SQLSMITH_REPLAY_QUERIES more,
#     and replay.pl runs each SELECT three times (cache on, cache on again,
#     cache off): a second run served from the cache must return the rows of
#     the run that stored them, and the cache must not add or change errors;
#  6. checks: the server is still up; its log shows no crash ("terminated by
#     signal", "server process ... was terminated", PANIC) and no ERROR raised
#     in cachealot's own code (told by the LOCATION of each error: a function
#     and file of src/), except the documented errors of cachealot_invalidate();
#  7. stops the cluster; on any finding keeps the directory and prints the
#     statements.  The last line is "sqlsmith: PASS" or "sqlsmith: FAIL ...".
#
# The "cache:" counters printed after each phase are not cumulative:
# sqlsmith calls cachealot_reset_stats() and cachealot_flush() at random
# (granted to smith on purpose, to fuzz them too).
#
# Environment:
#   SQLSMITH_QUERIES         phase 1 statements (default 50000: ~3 min on a
#                            2-core machine)
#   SQLSMITH_REPLAY_QUERIES  phase 2 statements (default 10000: ~1 min)
#   SQLSMITH_SEED            seed (default: from the clock; printed)
#   SQLSMITH_ARGS            extra sqlsmith arguments (default: --exclude-catalog;
#                            set it to "" to fuzz the catalogs too)
#   SQLSMITH_TIMEOUT         hard limit per phase in seconds (default 1800)
#   PG_CONFIG, KEEP_TMP=1    as for `make test`
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/test/sqlsmith"
cd "$ROOT"

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$ROOT/test/lib/common.sh"
CACHEALOT_DEPS+=(sqlsmith)
prepare_environment

QUERIES=${SQLSMITH_QUERIES:-50000}
REPLAY=${SQLSMITH_REPLAY_QUERIES:-10000}
SEED=${SQLSMITH_SEED:-$(( $(date +%s) % 1000000 ))}
SMITH_ARGS=${SQLSMITH_ARGS---exclude-catalog}
PHASE_TIMEOUT=${SQLSMITH_TIMEOUT:-1800}
for v in QUERIES REPLAY SEED PHASE_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "sqlsmith: $v must be a number" >&2; exit 2; }
done

WORK=""
STARTED=0
OK=0

cleanup() {
    if [[ $STARTED -eq 1 ]]; then
        as_tester pg_ctl -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 ||
            as_tester pg_ctl -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    finish_work_dir sqlsmith "$WORK" "$OK"
}
set_cleanup_trap sqlsmith cleanup

build_and_install

WORK=$(tester_tmpdir cachealot-sqlsmith)
cp "$HERE/schema.sql" "$HERE/replay.pl" "$WORK/"
give_to_tester "$WORK"
LOG="$WORK/server.log"
PORT=$(( 20000 + RANDOM % 20000 ))   # only names the socket in $WORK

echo
echo "=== cluster in $WORK (Unix socket only, port $PORT) ==="
as_tester initdb -D "$WORK/data" -A trust -U postgres >"$WORK/initdb.log"
cat >>"$WORK/data/postgresql.conf" <<EOF
# test/sqlsmith/run.sh
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PORT
shared_preload_libraries = 'cachealot'
max_connections = 20
# every error with its statement and source location (file, function)
log_min_messages = warning
log_min_error_statement = error
log_error_verbosity = verbose
log_line_prefix = '%m [%p] %q%a %e '
# a crash is a finding: stop there instead of restarting
restart_after_crash = off
statement_timeout = '5s'
EOF
as_tester pg_ctl -D "$WORK/data" -l "$LOG" -w start >/dev/null
STARTED=1

SU_CONN="host=$WORK port=$PORT dbname=postgres user=postgres"
FUZZ_CONN="host=$WORK port=$PORT dbname=fuzz user=smith"
as_tester psql -XAtq -v ON_ERROR_STOP=1 -d "$SU_CONN" <<'EOF'
CREATE ROLE smith LOGIN;
CREATE DATABASE fuzz OWNER smith;
\c fuzz
CREATE EXTENSION cachealot;
GRANT EXECUTE ON FUNCTION cachealot_flush(), cachealot_invalidate(regclass),
    cachealot_reset_stats() TO smith;
EOF
as_tester psql -XAtq -v ON_ERROR_STOP=1 -d "$FUZZ_CONN" -f "$WORK/schema.sql" >/dev/null

server_running() {
    as_tester pg_ctl -D "$WORK/data" status >/dev/null 2>&1
}
server_up() {
    as_tester psql -XAtq -d "$SU_CONN" -c 'SELECT 1' >/dev/null 2>&1
}
stats() {
    as_tester psql -XAtq -d "$FUZZ_CONN" -c \
        "SELECT format('hits %s, misses %s, stores %s, bypasses %s, invalidations %s, evictions %s, entries %s', hits, misses, stores, bypasses, invalidations, evictions, entries) FROM cachealot_stats()" \
        2>/dev/null || echo "(no stats: server down?)"
}

declare -a PROBLEMS=()

# --- phase 1: sqlsmith executes -----------------------------------------
echo
echo "=== phase 1: sqlsmith, $QUERIES statements, seed $SEED, args: ${SMITH_ARGS:-none} ==="
t1=$(date +%s)
rc=0
# shellcheck disable=SC2086  # SMITH_ARGS is a list of words
as_tester timeout "$PHASE_TIMEOUT" sqlsmith --target="$FUZZ_CONN" $SMITH_ARGS \
    --seed="$SEED" --max-queries="$QUERIES" --verbose \
    >"$WORK/sqlsmith.out" 2>&1 &
smith_pid=$!
# sqlsmith keeps retrying a lost connection: if the server went down (a
# crash; restart_after_crash is off), stop it at once
while kill -0 "$smith_pid" 2>/dev/null; do
    sleep 2
    if ! server_running; then
        echo "phase 1: the server is down: stopping sqlsmith"
        # the job's children (runuser or timeout) pass the signal on
        pkill -TERM -P "$smith_pid" 2>/dev/null || true
        break
    fi
done
wait "$smith_pid" || rc=$?
t1=$(( $(date +%s) - t1 ))
# its last report: the count, the error rate, the most frequent errors
awk '/^queries:/ { n = NR } { line[NR] = $0 } END { for (i = n; i <= NR && n; i++) print line[i] }' \
    "$WORK/sqlsmith.out" | grep -v '(bad/ok)\|^impedance' | head -12 || true
echo "phase 1: sqlsmith exited with $rc after ${t1}s"
[[ $rc -eq 124 ]] && PROBLEMS+=("phase 1 hit the ${PHASE_TIMEOUT}s limit")
[[ $rc -ne 0 && $rc -ne 124 ]] && PROBLEMS+=("sqlsmith exited with $rc (connection lost?): see $WORK/sqlsmith.out")
server_up || PROBLEMS+=("server down after phase 1")
echo "cache: $(stats)"

# --- phase 2: replay with the cache on, on again, off --------------------
if server_up; then
    echo
    echo "=== phase 2: replay of $REPLAY generated statements, seed $((SEED + 1)) ==="
    t2=$(date +%s)
    # shellcheck disable=SC2086
    as_tester timeout "$PHASE_TIMEOUT" sqlsmith --target="$FUZZ_CONN" $SMITH_ARGS \
        --seed=$((SEED + 1)) --max-queries="$REPLAY" --dry-run \
        >"$WORK/replay-queries.sql" 2>"$WORK/replay-gen.err" || true
    rc=0
    as_tester timeout "$PHASE_TIMEOUT" perl "$WORK/replay.pl" \
        "$WORK/replay-queries.sql" "$FUZZ_CONN" "$WORK" || rc=$?
    echo "phase 2: ${rc} (0 clean) after $(( $(date +%s) - t2 ))s"
    [[ $rc -eq 1 ]] && PROBLEMS+=("replay findings: see $WORK/replay-findings.txt")
    [[ $rc -ne 0 && $rc -ne 1 ]] && PROBLEMS+=("replay failed ($rc): see $WORK/replay-stderr.txt")
    server_up || PROBLEMS+=("server down after phase 2")
    echo "cache: $(stats)"
fi

# --- the server log --------------------------------------------------------
echo
echo "=== server log checks ==="
if grep -nE 'terminated by signal|server process .* was terminated|server process .* exited with exit code [1-9]|PANIC:|TRAP:' "$LOG" >"$WORK/crashes.txt"; then
    PROBLEMS+=("crash or PANIC in the server log (see above)")
    head -20 "$WORK/crashes.txt"
    # the postmaster names the statement: "Failed process was running: ..."
    # (the statement's further lines carry no timestamp)
    awk '/Failed process was running/ { p = 1; print; next }
         /^[0-9]{4}-[0-9][0-9]-[0-9][0-9] / { p = 0 }
         p' "$LOG" | head -80
fi

# Functions defined in cachealot's sources, as "function, file.c"
for f in "$ROOT"/src/*.c; do
    sed -nE 's/^([A-Za-z_][A-Za-z0-9_]*)\(.*/\1, '"$(basename "$f")"'/p' "$f"
done | sort -u >"$WORK/cachealot-functions.txt"

# Every ERROR/FATAL/PANIC whose LOCATION is one of those, with its
# statement; the documented errors of cachealot_invalidate() are expected
perl -e '
    my ($funcs, $log) = @ARGV;
    open my $fh, "<", $funcs or die; my %ours = map { chomp; $_ => 1 } <$fh>;
    open my $lh, "<", $log or die;
    my @entry;
    my ($n, $shown) = (0, 0);
    my $flush = sub {
        return unless @entry;
        my $text = join("", @entry);
        @entry = ();
        return unless $text =~ /^\S+ \S+ \S+ \[\d+\] .*?(ERROR|FATAL|PANIC):/;
        my ($loc) = $text =~ /LOCATION:\s+(\S+, [^:\s]+\.c):\d+/;
        return unless defined $loc && $ours{$loc};
        return if $text =~ /ERROR:  \S+: (relation with OID \d+ does not exist|".*" is not a table, view or materialized view)/
            && $loc =~ /^cachealot_invalidate,/;
        $n++;
        print $text if $shown++ < 10;
    };
    while (my $l = <$lh>) {
        # a new entry starts with a timestamp; DETAIL/LOCATION/STATEMENT lines too,
        # but they belong to the entry before
        if ($l =~ /^\d{4}-\d\d-\d\d / && $l !~ /^\S+ \S+ \S+ \[\d+\] .*?(DETAIL|HINT|CONTEXT|LOCATION|STATEMENT):/) {
            $flush->();
        }
        push @entry, $l;
    }
    $flush->();
    print STDERR "cachealot errors: $n\n";
    exit($n ? 1 : 0);
' "$WORK/cachealot-functions.txt" "$LOG" >"$WORK/cachealot-errors.txt" || {
    PROBLEMS+=("ERROR raised by cachealot: see below and $WORK/cachealot-errors.txt")
    cat "$WORK/cachealot-errors.txt"
}
nerr=$(grep -cE '^\S+ \S+ \S+ \[[0-9]+\] .*(ERROR|FATAL):' "$LOG" || true)
echo "server log: $nerr ERROR/FATAL entries in all (sqlsmith's queries are mostly invalid)"
# the most frequent SQLSTATEs, for the curious
grep -oE '^\S+ \S+ \S+ \[[0-9]+\] \S* ?[0-9A-Z]{5} (ERROR|FATAL)' "$LOG" |
    awk '{print $(NF-1)}' | sort | uniq -c | sort -rn | head -8 | sed 's/^/  /' || true
internal=$(grep -cE '\] \S* ?XX[0-9A-Z]{3} ERROR' "$LOG" || true)
if [[ $internal -gt 0 ]]; then
    echo "note: $internal internal errors (XX...) in the log; none located in cachealot unless listed above:"
    grep -E -A4 '\] \S* ?XX[0-9A-Z]{3} ERROR' "$LOG" | grep -E 'ERROR|LOCATION' | head -10 | sed 's/^/  /'
fi

if server_running; then
    as_tester pg_ctl -D "$WORK/data" -m fast -w stop >/dev/null ||
        PROBLEMS+=("the server did not stop cleanly")
fi
STARTED=0

echo
if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
    printf '  - %s\n' "${PROBLEMS[@]}"
    echo "sqlsmith: FAIL (seed $SEED; ${#PROBLEMS[@]} problem(s); kept $WORK)"
    exit 1
fi
OK=1
echo "sqlsmith: PASS (seed $SEED, $QUERIES + $REPLAY statements)"
