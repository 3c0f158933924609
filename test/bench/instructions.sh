#!/usr/bin/env bash
# instructions.sh: what `make bench-instructions` runs (from anywhere; usually
# as root). Deterministic instruction counts per statement, plain PostgreSQL
# vs cachealot, on the same data: unlike `make bench`'s throughput, they do not
# move with the machine's load.
#
# Method. A cluster is initialized and its data created through a normal
# server (test/bench/instructions/setup.sql: t(id int primary key, v int),
# 100,000 rows, and t2(g, v), 1,000 rows in 10 groups; VACUUM (FREEZE,
# ANALYZE); CHECKPOINT), which then stops. (Objects created in single-user
# mode right after initdb would get OIDs below FirstNormalObjectId and look
# like system catalogs to cachealot, which never caches them.) Each workload
# is a generator, test/bench/instructions/NAME.sql, run through psql on that
# server with n = N and n = BASE: its output is the script, one statement a
# line, the BASE script a prefix of the N one. Then, for each workload, each
# script and each configuration (plain; cachealot preloaded with its default
# settings), on a fresh copy of the data directory:
#
#   valgrind --tool=callgrind postgres --single -D COPY \
#       [-c shared_preload_libraries=cachealot] postgres < SCRIPT
#
# whose total Ir (instructions executed) is read from callgrind's output.
# Per statement = (I(N) - I(BASE)) / (N - BASE): startup, shutdown and the
# first BASE statements (the cache's first misses) cancel out. "startup" in
# the CSV is I(BASE) - BASE * per statement: what a run costs besides its
# statements. Identical runs give nearly, not exactly, the same counts: a
# little of PostgreSQL's work depends on time (statistics are flushed at most
# once a second, and a run under callgrind lasts seconds). Between full runs
# here the per-statement figures moved by up to about 50 instructions (under 0.1%).
#
# Then, to show that the cachealot runs hit and miss as their names say, each
# N script runs again through psql against a normal server (fresh copy,
# cachealot preloaded, CREATE EXTENSION cachealot, cachealot_reset_stats()),
# and cachealot_stats() is read after it. The "expect:" line of each
# generator says what the counts must be (n is N); a mismatch fails the run.
#
# Output, in test/bench/results/ (BENCH_RESULTS), replaced by each run:
# instructions.md (settings, table; also printed) and instructions.csv.
#
# Environment (defaults: about 3 minutes on 2 CPUs):
#   BENCH_INSTR_N          statements of the long scripts (2000)
#   BENCH_INSTR_BASE       statements of the short scripts (200)
#   BENCH_INSTR_WORKLOADS  subset, in order (sel1 miss hit prep-miss prep-hit
#                          update mixed agg)
#   BENCH_INSTR_JOBS       callgrind runs at a time (nproc): the counts do not
#                          depend on it
#   BENCH_RESULTS          output folder (test/bench/results)
#   BENCH_KEEP=1           keep the temporary folder (scripts, callgrind files,
#                          logs)
#   PG_CONFIG              PostgreSQL 15's pg_config (test/lib/common.sh)
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/../.." && pwd)
cd "$ROOT"
START_TIME=$SECONDS

say() { printf '%s bench-instructions: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Settings
N=${BENCH_INSTR_N:-2000}
BASE=${BENCH_INSTR_BASE:-200}
read -r -a WORKLOADS <<<"${BENCH_INSTR_WORKLOADS:-sel1 miss hit prep-miss prep-hit update mixed agg}"
JOBS=${BENCH_INSTR_JOBS:-$(nproc)}
RESULTS=${BENCH_RESULTS:-$BENCH/results}
KEEP=${BENCH_KEEP:-0}
GEN=$BENCH/instructions

for v in N BASE JOBS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
((BASE >= 1 && N > BASE && JOBS >= 1)) ||
    die "need 1 <= BENCH_INSTR_BASE < BENCH_INSTR_N and BENCH_INSTR_JOBS >= 1"
((${#WORKLOADS[@]} >= 1)) || die "BENCH_INSTR_WORKLOADS is empty"
for w in "${WORKLOADS[@]}"; do
    [[ $w =~ ^[a-z0-9-]+$ && -f $GEN/$w.sql && $w != setup ]] ||
        die "unknown workload '$w' (no test/bench/instructions/$w.sql)"
done

# ---------------------------------------------------------------------------
# Packages (the build/test set and valgrind), build and install for PG_CONFIG
# shellcheck source=test/lib/common.sh
source "$ROOT/test/lib/common.sh"
CACHEALOT_DEPS+=(valgrind)
prepare_environment
set -euo pipefail   # (ensure-deps.sh sets them too; restated for the reader)

say "build and install ($PG_CONFIG)"
build_and_install_quiet || die "$BUILD_FAILED failed"

# ---------------------------------------------------------------------------
# The work folder, owned by the tester (test/lib/common.sh), and its cleanup:
# every server started here is stopped, every job started here is ended.
WORK=$(tester_tmpdir cachealot-instructions) || die "cannot make a folder for the postgres user"
mkdir -p "$WORK/gen" "$WORK/sql" "$WORK/out" "$WORK/log"
cp "$GEN"/*.sql "$WORK/gen/"
give_to_tester "$WORK"
SOCK=$WORK
PORT=5432   # (the socket is in $WORK: no other server can be there)
SERVER=""   # the data directory of the running normal server, if any
OK=0

# kill_tree PID: end PID and its descendants (a job's runuser and valgrind).
kill_tree() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    local pid
    trap - EXIT INT TERM
    for pid in $(jobs -pr); do kill_tree "$pid"; done
    wait 2>/dev/null || true
    if [[ -n $SERVER ]]; then
        as_tester pg_ctl -D "$SERVER" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_tester pg_ctl -D "$SERVER" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ $KEEP == 1 ]]; then
        keep_note bench-instructions "$WORK"
    else
        finish_work_dir bench-instructions "$WORK" "$OK"
    fi
}
set_cleanup_trap bench-instructions cleanup

# start_server DATADIR LOG [SETTING...]: a normal server on the socket in
# $WORK only; stop_server stops it.
start_server() {
    local dir=$1 log=$2 opts="-c listen_addresses='' -c unix_socket_directories='$SOCK' -p $PORT"
    shift 2
    local s
    for s in "$@"; do opts+=" -c $s"; done
    SERVER=$dir
    as_tester pg_ctl -D "$dir" -o "$opts" -l "$log" -w -t 120 start >/dev/null ||
        die "the server of $dir did not start (log: $log)"
}
stop_server() {
    as_tester pg_ctl -D "$SERVER" -m fast -w -t 120 stop >/dev/null ||
        die "the server of $SERVER did not stop"
    SERVER=""
}
psql_() { as_tester psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres "$@"; }

# ---------------------------------------------------------------------------
# 1. The data, through a normal server; the scripts, from the generators
say "data: initdb, setup.sql through a normal server"
as_tester initdb -D "$WORK/pristine" -A trust -U postgres -E UTF8 --locale=C --no-sync \
    >"$WORK/log/initdb.log" 2>&1 || die "initdb failed (log: $WORK/log/initdb.log)"
start_server "$WORK/pristine" "$WORK/log/setup.log"
check=$(psql_ -At -f "$WORK/gen/setup.sql") || die "setup.sql failed (log: $WORK/log/setup.log)"
[[ $check == 3/3 ]] || die "setup.sql: t, t_pkey and t2 should all be user objects (oid >= 16384), got $check"

# statements N_OR_BASE WORKLOAD: the statements its script must have.
statements() { grep -q '^SELECT .PREPARE ' "$GEN/$2.sql" && echo $(($1 + 1)) || echo "$1"; }
for w in "${WORKLOADS[@]}"; do
    for n in "$N" "$BASE"; do
        psql_ -At -v n="$n" -f "$WORK/gen/$w.sql" >"$WORK/sql/${w}_$n.sql" ||
            die "generator $w.sql failed"
        lines=$(wc -l <"$WORK/sql/${w}_$n.sql")
        [[ $lines -eq $(statements "$n" "$w") ]] ||
            die "generator $w.sql gave $lines lines for n=$n, expected $(statements "$n" "$w")"
    done
    # The short script must be the start of the long one.
    cmp -s "$WORK/sql/${w}_$BASE.sql" <(head -n "$(statements "$BASE" "$w")" "$WORK/sql/${w}_$N.sql") ||
        die "generator $w.sql: the n=$BASE script is not a prefix of the n=$N one"
done
give_to_tester "$WORK/sql"
stop_server

# ---------------------------------------------------------------------------
# 2. callgrind: every (configuration, workload, size) on its own copy, JOBS at a time
CONFIGS=(plain cachealot)
# run_one CONFIG WORKLOAD N: writes out/CONFIG.WORKLOAD.N.{cg,vg,stdout,stderr,rc}
run_one() {
    local cfg=$1 w=$2 n=$3 tag=$1.$2.$3 rc=0
    local data=$WORK/data.$tag
    local -a pre=()
    [[ $cfg == cachealot ]] && pre=(-c shared_preload_libraries=cachealot)
    as_tester cp -a "$WORK/pristine" "$data" || { echo 1 >"$WORK/out/$tag.rc"; return; }
    as_tester valgrind --tool=callgrind --callgrind-out-file="$WORK/out/$tag.cg" \
        --log-file="$WORK/out/$tag.vg" \
        "$BINDIR/postgres" --single -D "$data" "${pre[@]}" postgres \
        <"$WORK/sql/${w}_$n.sql" >"$WORK/out/$tag.stdout" 2>"$WORK/out/$tag.stderr" || rc=$?
    rm -rf -- "$data"
    echo "$rc" >"$WORK/out/$tag.rc"
}
total=$((${#WORKLOADS[@]} * 2 * ${#CONFIGS[@]}))
say "callgrind: $total runs (N=$N, BASE=$BASE), $JOBS at a time"
CG_START=$SECONDS
for n in "$N" "$BASE"; do   # the long runs first: the jobs end closer together
    for w in "${WORKLOADS[@]}"; do
        for cfg in "${CONFIGS[@]}"; do
            while (($(jobs -pr | wc -l) >= JOBS)); do wait -n || true; done
            run_one "$cfg" "$w" "$n" &
        done
    done
done
wait
CG_SECS=$((SECONDS - CG_START))

declare -A IR
for n in "$N" "$BASE"; do
    for w in "${WORKLOADS[@]}"; do
        for cfg in "${CONFIGS[@]}"; do
            tag=$cfg.$w.$n
            rc=$(cat "$WORK/out/$tag.rc" 2>/dev/null || echo "?")
            [[ $rc == 0 ]] || { OK=2; keep_note bench-instructions "$WORK"; die "run $tag failed (exit $rc; see $WORK/out/$tag.*)"; }
            if grep -q -E '^(ERROR|FATAL|PANIC):' "$WORK/out/$tag.stderr"; then
                OK=2; keep_note bench-instructions "$WORK"
                die "run $tag: $(grep -m 1 -E '^(ERROR|FATAL|PANIC):' "$WORK/out/$tag.stderr")"
            fi
            ir=$(sed -n 's/^summary: *\([0-9][0-9]*\).*/\1/p' "$WORK/out/$tag.cg" | head -n 1)
            [[ -n $ir ]] || { OK=2; keep_note bench-instructions "$WORK"; die "run $tag: no summary line in $WORK/out/$tag.cg"; }
            IR[$tag]=$ir
        done
    done
done

# ---------------------------------------------------------------------------
# 3. Hits and misses: each N script through psql, against a normal server
say "hits and misses: the N=$N scripts through a normal server with cachealot"
VERIFY_START=$SECONDS
declare -A STATS CHECK
for w in "${WORKLOADS[@]}"; do
    data=$WORK/verify.$w
    as_tester cp -a "$WORK/pristine" "$data"
    start_server "$data" "$WORK/log/verify.$w.log" shared_preload_libraries=cachealot
    psql_ -c "CREATE EXTENSION cachealot" -c "SELECT cachealot_reset_stats()" >/dev/null
    psql_ -f "$WORK/sql/${w}_$N.sql" >"$WORK/out/verify.$w.stdout" 2>&1 ||
        die "workload $w failed through psql (see $WORK/out/verify.$w.stdout)"
    STATS[$w]=$(psql_ -At -F ' ' -c "SELECT hits, misses, stores, bypasses, invalidations, admission_skips FROM cachealot_stats()")
    stop_server
    rm -rf -- "$data"
    read -r hits misses _ _ _ skips <<<"${STATS[$w]}"
    # "-- expect: hits=EXPR misses=EXPR", EXPR in n (shell arithmetic); an
    # execution that admission skipped (no lookup) counts as a miss here
    misses=$((misses + skips))
    expect=$(sed -n 's/^-- expect: *//p' "$GEN/$w.sql" | head -n 1)
    [[ -n $expect ]] || die "generator $w.sql has no '-- expect:' line"
    want_hits=$(sed -n 's/.*hits=\([^ ]*\).*/\1/p' <<<"$expect")
    want_misses=$(sed -n 's/.*misses=\([^ ]*\).*/\1/p' <<<"$expect")
    [[ $want_hits =~ ^[-+*/n0-9]+$ && $want_misses =~ ^[-+*/n0-9]+$ ]] ||
        die "generator $w.sql: bad expect line '$expect'"
    want_hits=$((${want_hits//n/$N})) want_misses=$((${want_misses//n/$N}))
    if [[ $hits == "$want_hits" && $misses == "$want_misses" ]]; then
        CHECK[$w]=yes
    else
        CHECK[$w]="NO (expected $want_hits hits, $want_misses misses)"
    fi
done
VERIFY_SECS=$((SECONDS - VERIFY_START))

# ---------------------------------------------------------------------------
# 4. The report: instructions.md (also printed) and instructions.csv
title() { sed -n 's/^-- title: *//p' "$GEN/$1.sql" | head -n 1; }
mkdir -p "$RESULTS"
MD=$RESULTS/instructions.md CSV=$RESULTS/instructions.csv
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
[[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]] && commit="$commit (src/ modified)"
cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
ELAPSED=$((SECONDS - START_TIME))
failed=0
{
    echo "# make bench-instructions: instructions per statement, plain PostgreSQL vs cachealot"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); cachealot commit $commit"
    echo "- $("$BINDIR/postgres" --version); $(valgrind --version); ${cpu_model:-$(uname -m)}"
    echo "- method: \`valgrind --tool=callgrind postgres --single\` on a fresh copy of the same data (t: 100,000 rows, primary key; t2: 1,000 rows in 10 groups; frozen and analyzed), one statement a line on stdin; cachealot preloaded with its default settings"
    echo "- per statement: (I($N) - I($BASE)) / $((N - BASE)), I the run's total instructions (Ir): startup, shutdown and the first $BASE statements cancel out"
    echo "- hits, misses: cachealot_stats() after the $N-statement script ran through psql against a normal server with cachealot (fresh copy of the data)"
    echo "- repeatability: identical runs differ by a few tens of thousands of instructions in total (time-dependent work such as statistics flushes, at most once a second), up to about 50 a statement (under 0.1%) between full runs here"
    echo "- measured in $((ELAPSED / 60)) min $((ELAPSED % 60)) s ($CG_SECS s of callgrind, $((${#WORKLOADS[@]} * 4)) runs, $JOBS at a time; $VERIFY_SECS s of hit/miss checks)"
    echo
    echo "| workload | plain | cachealot | cachealot/plain | hits | misses | of which skipped | as named |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
} >"$MD"
echo "workload,title,n,base,plain_ir_n,plain_ir_base,cachealot_ir_n,cachealot_ir_base,plain_per_statement,cachealot_per_statement,ratio,plain_startup,cachealot_startup,hits,misses,admission_skips,stores,bypasses,invalidations,as_named" >"$CSV"
for w in "${WORKLOADS[@]}"; do
    read -r hits misses stores bypasses invalidations skips <<<"${STATS[$w]}"
    [[ ${CHECK[$w]} == yes ]] || failed=1
    awk -v w="$w" -v t="$(title "$w")" -v n="$N" -v b="$BASE" \
        -v pn="${IR[plain.$w.$N]}" -v pb="${IR[plain.$w.$BASE]}" \
        -v cn="${IR[cachealot.$w.$N]}" -v cb="${IR[cachealot.$w.$BASE]}" \
        -v hits="$hits" -v misses="$((misses + skips))" -v skips="$skips" \
        -v stores="$stores" -v bypasses="$bypasses" \
        -v inval="$invalidations" -v check="${CHECK[$w]}" -v md="$MD" -v csv="$CSV" '
        function thousands(x,   s, r) {
            s = sprintf("%.0f", x); r = ""
            while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
            return s r
        }
        BEGIN {
            p = (pn - pb) / (n - b); c = (cn - cb) / (n - b)
            ratio = p > 0 ? sprintf("%.3f", c / p) : "-"
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", t, thousands(p), thousands(c), ratio,
                thousands(hits), thousands(misses), thousands(skips), check >> md
            tq = t; gsub(/"/, "\"\"", tq); cq = check; gsub(/"/, "\"\"", cq)
            printf "%s,\"%s\",%d,%d,%s,%s,%s,%s,%.1f,%.1f,%s,%.0f,%.0f,%s,%s,%s,%s,%s,%s,\"%s\"\n", w, tq, n, b,
                pn, pb, cn, cb, p, c, ratio, pb - b * p, cb - b * c,
                hits, misses, skips, stores, bypasses, inval, cq >> csv
        }'
done
{
    echo
    echo "plain, cachealot: instructions per statement. Ratio below 1: cachealot executes fewer instructions than plain PostgreSQL. A hit of a client statement is neither planned nor executed; a miss pays the key and the lookup, and, when admission stores it, the capture and the store, besides running the statement; \"of which skipped\": executions that admission sent past the cache without a key or a lookup, once the statement had shown that its results are not reused (they count as misses here). An \`UPDATE\` pays the write tracking and the commit protocol. (\`bypasses\` in the CSV counts the query that read the statistics too.) The CSV also has the raw totals and each run's startup (I($BASE) - $BASE × per statement)."
} >>"$MD"
cat "$MD"
say "written: $MD, $CSV (in $ELAPSED s)"
((failed == 0)) || { OK=2; keep_note bench-instructions "$WORK"; die "some cachealot runs did not hit or miss as their names say (see above)"; }
OK=1
