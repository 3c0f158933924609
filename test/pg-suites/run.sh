#!/usr/bin/env bash
# test/pg-suites/run.sh: what `make check-pg-suites` runs (not part of
# `make test`). PostgreSQL 15's own regression suite (src/test/regress, the
# parallel_schedule of installcheck-parallel) and isolation suite
# (src/test/isolation, isolation_schedule) run twice each, on plain
# PostgreSQL and with cachealot preloaded, and compare.pl compares the two
# runs test by test (outcome and output file). Fails if any test differs
# in a way compare.pl does not tolerate (see its header for the kinds).
#
#  1. installs missing packages (test/lib/ensure-deps.sh, plus dpkg-dev for
#     apt-get source);
#  2. builds and installs cachealot (as root or via sudo), for PG_CONFIG;
#  3. fetches PostgreSQL 15's Debian source package with `apt-get source`,
#     through a private apt configuration (pg-source.sh), once: it is cached
#     in PG_SRC_CACHE (default /var/tmp/cachealot-pg-src). It takes the
#     server's own version if the mirror serves it, else the newest it has;
#  4. if the installed psql is not of that version, downloads (does not
#     install) postgresql-client-15 of that version and uses its psql: a
#     newer psql reads a failing `COPY ... FROM stdin` in an older test script
#     differently. A private bin dir holds it and links to everything else of
#     PG_CONFIG's bindir (pg_regress --bindir also finds initdb and postgres
#     there for --temp-instance);
#  5. builds regress.so, autoinc.so and refint.so with PGXS (modules.mk);
#  6. as the `postgres` system user (when run as root), in a private
#     directory under /var/tmp, runs pg_regress and pg_isolation_regress (those
#     PG_CONFIG's PGXS ships) with --temp-instance: each run initdb's its own
#     cluster, listening on a Unix socket in a private directory only, and
#     stops it at the end; the EXIT trap stops any server a killed run left;
#     the plain run and the cachealot run differ only in
#     shared_preload_libraries = 'cachealot' (both: max_prepared_transactions
#     = 10, so that the two-phase-commit tests run, in the isolation suite too);
#  7. keeps the outputs of this last run in test/pg-suites/out/ (PG_SUITES_OUT)
#     and prints compare.pl's report; its last line is
#     "check-pg-suites: N same, N tolerated, N different".
#
# Environment:
#   PG_CONFIG           default: PostgreSQL 15's pg_config
#   PG_SUITES           suites to run (default "regress isolation")
#   PG_SUITES_OUT       where the outputs are kept (default test/pg-suites/out)
#   PG_SUITES_TIMEOUT   hard limit per suite run, seconds (default 900)
#   PG_SUITES_DIFF_LINES  diff lines printed per differing test (default 60)
#   PG_SRC_CACHE        source/psql cache (default /var/tmp/cachealot-pg-src)
#   KEEP_TMP=1          keep the private work directory
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/test/pg-suites"
cd "$ROOT"

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$ROOT/test/lib/common.sh"
CACHEALOT_DEPS+=(dpkg-dev)     # dpkg-source, which apt-get source unpacks with
prepare_environment
# shellcheck source-path=SCRIPTDIR source=pg-source.sh
source "$HERE/pg-source.sh"

read -r -a SUITES <<<"${PG_SUITES:-regress isolation}"
OUT=${PG_SUITES_OUT:-$HERE/out}
SUITE_TIMEOUT=${PG_SUITES_TIMEOUT:-900}
DIFF_LINES=${PG_SUITES_DIFF_LINES:-60}
for v in SUITE_TIMEOUT DIFF_LINES; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "pg-suites: $v must be a number" >&2; exit 2; }
done
for s in "${SUITES[@]}"; do
    [[ $s == regress || $s == isolation ]] ||
        { echo "pg-suites: unknown suite '$s' (regress, isolation)" >&2; exit 2; }
done
START=$SECONDS

fail() {
    echo "pg-suites: $*" >&2
    echo "check-pg-suites: 0 same, 0 tolerated, 1 different (did not run: $*)"
    exit 1
}

# as_tester, in the work directory and with no PG* connection settings from
# the caller's environment.
in_work() {
    (cd "$WORK" && as_tester env -u TMPDIR -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
        -u PGOPTIONS -u PGSERVICE -u PGDATA -u PGHOSTADDR "$@")
}

WORK=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local pidfile data
    [[ -n "$WORK" && -d "$WORK" ]] || return 0
    # Any cluster a run left behind (pg_regress stops its own; a run killed
    # by the timeout or an interruption may not have): stop it.
    for pidfile in "$WORK"/*/tmp_check/data/postmaster.pid; do
        [[ -f "$pidfile" ]] || continue
        data=${pidfile%/postmaster.pid}
        echo "pg-suites: stopping the server left in $data" >&2
        in_work "$BINDIR/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    finish_work_dir pg-suites "$WORK" 1    # kept only with KEEP_TMP
}
set_cleanup_trap pg-suites cleanup

# ---------------------------------------------------------------------------
build_and_install || fail "$BUILD_FAILED failed"

PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
PGXSDIR=$(dirname "$("$PG_CONFIG" --pgxs)")/../..
PG_REGRESS=$PGXSDIR/src/test/regress/pg_regress
PG_ISOLATION_REGRESS=$PGXSDIR/src/test/isolation/pg_isolation_regress
for x in "$PG_REGRESS" "$PG_ISOLATION_REGRESS" "$BINDIR/postgres" "$BINDIR/initdb" "$BINDIR/psql"; do
    [[ -x "$x" ]] || fail "$x not found"
done
[[ -f "$PKGLIBDIR/cachealot.so" ]] || fail "cachealot.so is not in $PKGLIBDIR"

# The server's Debian version, e.g. "PostgreSQL 15.20 (Debian 15.20-0+deb12u1)".
SERVER_VERSION=$("$PG_CONFIG" --version)
SERVER_DEBVER=$(sed -n 's/.*(Debian \([^)]*\)).*/\1/p' <<<"$SERVER_VERSION")
[[ -n "$SERVER_DEBVER" ]] ||
    SERVER_DEBVER=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null) ||
    fail "cannot tell the Debian version of $SERVER_VERSION"

echo
echo "=== PostgreSQL test sources ==="
mkdir -p "$PG_SRC_CACHE"
exec 9>"$PG_SRC_CACHE/.lock"     # one fetch at a time per machine
flock 9
pg_source_fetch "$SERVER_DEBVER" || fail "no PostgreSQL 15 source"
PSQL=$BINDIR/psql
PSQL_NOTE="the installed psql ($("$PSQL" --version))"
if ! "$PSQL" --version | grep -qF "(Debian $PG_SRC_VERSION)"; then
    pg_client_fetch "$PG_SRC_VERSION"
    if [[ -n "$PG_OLD_PSQL" ]]; then
        PSQL=$PG_OLD_PSQL
        PSQL_NOTE="psql of $PG_CLIENT_PKG $PG_SRC_VERSION, unpacked in $PG_SRC_CACHE"
    else
        PSQL_NOTE="$PSQL_NOTE: NOTE: the mirror has no $PG_CLIENT_PKG $PG_SRC_VERSION"
        echo "pg-suites: NOTE: $PG_CLIENT_PKG=$PG_SRC_VERSION is not available; using the installed psql" >&2
    fi
fi
flock -u 9
echo "server:     $SERVER_VERSION ($PG_CONFIG)"
echo "test files: $PG_SRC_PKG $PG_SRC_VERSION ($PG_SRC_DIR)"
echo "psql:       $PSQL_NOTE"

# ---------------------------------------------------------------------------
# The private work directory, which the postgres user must reach (as root
# under /var/tmp).
base=""
[[ $(id -u) -eq 0 ]] && base=/var/tmp
WORK=$(tester_tmpdir cachealot-pg-suites "$base") || fail "no work directory"
chmod 755 "$WORK"
mkdir -p "$WORK/bin" "$WORK/src/regress" "$WORK/src/isolation" "$WORK/dl" "$WORK/build"
for f in "$BINDIR"/*; do
    ln -s "$f" "$WORK/bin/${f##*/}"
done
ln -sfn "$PSQL" "$WORK/bin/psql"
R=$PG_SRC_DIR/src/test/regress
I=$PG_SRC_DIR/src/test/isolation
cp -r "$R/sql" "$R/expected" "$R/data" "$R/parallel_schedule" "$R/resultmap" "$WORK/src/regress/"
cp -r "$I/specs" "$I/expected" "$I/isolation_schedule" "$WORK/src/isolation/"

echo
echo "=== build the regression suite's C modules (PGXS) ==="
cp "$HERE/modules.mk" "$R/regress.c" "$PG_SRC_DIR/contrib/spi/autoinc.c" \
    "$PG_SRC_DIR/contrib/spi/refint.c" "$WORK/build/"
make -s -C "$WORK/build" -f modules.mk "${MAKE_ARGS[@]}" with_llvm=no ||
    fail "building regress.so, autoinc.so, refint.so failed"
cp "$WORK/build/regress.so" "$WORK/build/autoinc.so" "$WORK/build/refint.so" "$WORK/dl/"

# The two configurations: identical but for the preload.
cat >"$WORK/plain.conf" <<'EOF'
# plain PostgreSQL (test/pg-suites/run.sh)
max_prepared_transactions = 10
EOF
cat "$WORK/plain.conf" - >"$WORK/cachealot.conf" <<'EOF'
shared_preload_libraries = 'cachealot'
EOF
# One more test for the cachealot run only, after the whole schedule: it
# saves cachealot_stats() to cachealot_stats.csv in the run's output
# directory (so the report can show that the cache was at work; compare.pl
# does not compare it). Its expected output is the echoed statements.
stats_sql() {   # SUITE
    echo "COPY (SELECT * FROM cachealot_stats()) TO '$WORK/$1-cachealot/cachealot_stats.csv' WITH (FORMAT csv, HEADER);"
}
{
    echo "-- cachealot's counters after the suite (test/pg-suites/run.sh)"
    echo "CREATE EXTENSION IF NOT EXISTS cachealot;"
    stats_sql regress
} | tee "$WORK/src/regress/sql/cachealot_stats.sql" >"$WORK/src/regress/expected/cachealot_stats.out"
printf 'setup { CREATE EXTENSION IF NOT EXISTS cachealot; }\nsession s1\nstep stats { %s }\n' \
    "$(stats_sql isolation)" >"$WORK/src/isolation/specs/cachealot_stats.spec"
printf 'Parsed test spec with 1 sessions\n\nstarting permutation: stats\nstep stats: %s\n' \
    "$(stats_sql isolation)" >"$WORK/src/isolation/expected/cachealot_stats.out"
give_to_tester "$WORK"

# ---------------------------------------------------------------------------
# run_suite SUITE MODE: one pg_regress run into $WORK/SUITE-MODE.
run_suite() {
    local suite=$1 mode=$2 dir=$WORK/$1-$2 rc=0 t0=$SECONDS
    local -a cmd
    case $suite in
        regress)
            cmd=("$PG_REGRESS" --inputdir="$WORK/src/regress" --dlpath="$WORK/dl"
                 --max-concurrent-tests=20
                 --schedule="$WORK/src/regress/parallel_schedule") ;;
        isolation)
            # the schedule, plus what installcheck-prepared-txns adds
            cmd=("$PG_ISOLATION_REGRESS" --inputdir="$WORK/src/isolation"
                 --schedule="$WORK/src/isolation/isolation_schedule"
                 prepared-transactions prepared-transactions-cic) ;;
    esac
    [[ $mode == cachealot ]] && cmd+=(cachealot_stats)
    in_work mkdir -p "$dir"
    echo
    echo "=== $suite, $mode ==="
    in_work timeout --kill-after=30 "$SUITE_TIMEOUT" "${cmd[@]}" \
        --bindir="$WORK/bin" --outputdir="$dir" \
        --temp-instance="$dir/tmp_check" --temp-config="$WORK/$mode.conf" \
        >"$dir/stdout.log" 2>&1 || rc=$?
    # pg_regress prints a line per test: show only its closing lines here
    grep -E '^(=+|.*tests? (passed|failed)|.*failed \(ignored\)|(test +| +)\S+ +\.\.\. FAILED)' \
        "$dir/stdout.log" | tail -n 40 || true
    [[ $rc -eq 124 || $rc -eq 137 ]] &&
        echo "pg-suites: $suite/$mode: stopped after ${SUITE_TIMEOUT}s (PG_SUITES_TIMEOUT)"
    echo "($suite/$mode: exit $rc, $((SECONDS - t0))s)"
    if grep -Eq 'terminated by signal|was terminated by|PANIC:' "$dir/log/postmaster.log" 2>/dev/null; then
        echo "pg-suites: $suite/$mode: the server log shows a crash or PANIC:"
        grep -E 'terminated by signal|was terminated by|PANIC:' "$dir/log/postmaster.log" | head -n 10
    fi
}

for suite in "${SUITES[@]}"; do
    run_suite "$suite" plain
    run_suite "$suite" cachealot
done

# Keep the outputs of this run (not the clusters) for inspection.
rm -rf -- "$OUT"
mkdir -p "$OUT"
for suite in "${SUITES[@]}"; do
    for mode in plain cachealot; do
        tar -C "$WORK" -cf - --exclude=tmp_check "$suite-$mode" | tar -C "$OUT" -xf -
    done
done
cp "$WORK/plain.conf" "$WORK/cachealot.conf" "$OUT/"
chown -R "$(id -u):$(id -g)" "$OUT"

echo
echo "=== compare (outputs kept in $OUT) ==="
echo "server $SERVER_VERSION; tests of $PG_SRC_PKG $PG_SRC_VERSION; $PSQL_NOTE"
args=()
for suite in "${SUITES[@]}"; do
    args+=("$suite:$OUT/$suite-plain:$OUT/$suite-cachealot")
done
rc=0
perl "$HERE/compare.pl" --diff-lines "$DIFF_LINES" "${args[@]}" >"$OUT/report.txt" || rc=$?
{ head -n -1 "$OUT/report.txt"; echo "(report: $OUT/report.txt; $((SECONDS - START))s)"; tail -n 1 "$OUT/report.txt"; }
exit $rc
