#!/usr/bin/env bash
# report.sh: render a `make bench` report from the raw CSV of a run, without
# measuring anything (run.sh calls it at the end of every run; run it by hand
# to redraw a report).
#
#   bash test/bench/report.sh RAW.csv [OUTDIR]
#   bash test/bench/report.sh test/bench/results/latest-raw.csv
#
# Reads RAW.csv (every run, written by run.sh) and its description
# RAW.meta (the same name ending in .meta: machine, settings, times; run.sh
# writes it next to the CSV). Writes to OUTDIR (default: RAW.csv's folder),
# named after RAW.csv without its -raw.csv ending (latest-raw.csv: latest.*):
#   NAME.md   machine, settings, table, goals (what run.sh prints)
#   NAME.csv  medians and ratios, one line per table row and protocol
#   NAME.png  the ratios (test/bench/plot.gp; needs gnuplot, else no chart)
# The raw CSV is read once, by report.awk.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf '%s bench report: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: ${0##*/} RAW.csv [OUTDIR]"
RAW=$1
META=${RAW%.csv}.meta
OUTDIR=${2:-$(dirname "$RAW")}
[[ -f $RAW ]] || die "no such file: $RAW"
[[ -f $META ]] || die "no such file: $META (the run's settings and machine, written by run.sh)"
mkdir -p "$OUTDIR"
base=$(basename "$RAW" .csv)
NAME=${base%-raw}
[[ ! "$OUTDIR/$NAME.csv" -ef "$RAW" ]] ||
    die "$RAW would be overwritten by its own medians: name it NAME-raw.csv"

# ---------------------------------------------------------------------------
# The run's description: key=value lines (see write_meta in run.sh)
declare -A M=()
while IFS= read -r line || [[ -n $line ]]; do
    [[ -z $line || $line == \#* ]] && continue
    [[ $line == *=* ]] || die "$META: not key=value: $line"
    M[${line%%=*}]=${line#*=}
done <"$META"
meta() { printf '%s' "${M[$1]:-}"; }

QUICK=$(meta quick) RUNS=$(meta runs) SECS=$(meta seconds) WARM=$(meta warmup)
CLIENTS=$(meta clients) THREADS=$(meta threads) SCALE=$(meta scale) NACCOUNTS=$(meta accounts)
FILL_ENTRIES=$(meta fill_entries) ADMIT_MIN_COST=$(meta admit_min_cost)
SHARED_BUFFERS=$(meta shared_buffers) USE_PGPOOL=$(meta pgpool)
MEM_DEFAULT=$(meta mem_default) MEM_BIG=$(meta mem_big) PREFILLED=$(meta prefilled)
NCPU=$(meta ncpu) MEASURED=$(meta measured_seconds)
for v in RUNS SECS WARM CLIENTS THREADS SCALE NACCOUNTS FILL_ENTRIES NCPU MEASURED; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$META: not a whole number for ${v}: '${!v}'"
done

# 1000000 -> 1M, 100000 -> 100k
human() {
    local n=$1
    if ((n >= 1000000 && n % 1000000 == 0)); then echo "$((n / 1000000))M"
    elif ((n >= 1000 && n % 1000 == 0)); then echo "$((n / 1000))k"
    else echo "$n"; fi
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachealot-bench-report.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

# Rows of the table: label | workload | the cachealot configuration
ROWS=(
    "floor: SELECT 1|floor|cachealot"
    "point: pgbench -S, max_memory $MEM_DEFAULT (default)|point|cachealot"
    "point: pgbench -S, max_memory $MEM_DEFAULT, min_cost $ADMIT_MIN_COST|point|cachealot-admit"
    "point: pgbench -S, max_memory $MEM_BIG, all keys prefilled|point|cachealot-big"
    "dashboard: 5 aggregates/joins over $(human "$NACCOUNTS") rows|dashboard|cachealot"
    "miss: lookups that never repeat|miss|cachealot"
    "miss: lookups that never repeat, min_cost $ADMIT_MIN_COST|miss|cachealot-admit"
    "mixed: 30% hot keys|hot30|cachealot"
    "read-mostly: 1% writes|rm1|cachealot"
    "read-mostly: 10% writes|rm10|cachealot"
    "point lookups on a table updated every 10 statements|upd10|cachealot"
    "write: TPC-B-like|write|cachealot"
    "write latency, empty cache|inv|cachealot"
    "write latency, $(human "$FILL_ENTRIES") cached entries|inv|cachealot-full"
)
printf '%s\n' "${ROWS[@]}" >"$TMP/rows.txt"

# ---------------------------------------------------------------------------
# The one pass over the raw CSV: medians CSV, table rows, goals, chart data
FAILED_RUNS=$(awk -F, -f "$BENCH/report.awk" -v rowsfile="$TMP/rows.txt" \
    -v csvfile="$TMP/out.csv" -v tablefile="$TMP/table.txt" -v goalsfile="$TMP/goals.txt" \
    -v plotfile="$TMP/plot.dat" -v mem_default="$MEM_DEFAULT" -v mem_big="$MEM_BIG" \
    -v admit_min_cost="$ADMIT_MIN_COST" -v fill_human="$(human "$FILL_ENTRIES")" "$RAW") ||
    die "cannot read $RAW"

# ---------------------------------------------------------------------------
# NAME.md
goal_line() {  # text value status format
    local text=$1 v=$2 status=$3 fmt=$4
    if [[ -z $v ]]; then
        echo "- $text: not measured"
        return
    fi
    # shellcheck disable=SC2059
    echo "- $text: $(printf "$fmt" "$v") ($status)"
}
{
    echo "# make bench: cachealot vs plain PostgreSQL vs pgpool-II's query cache"
    echo
    if [[ $QUICK == 1 ]]; then
        echo "**BENCH_QUICK=1: a smoke check of the mechanics (1 short run, small scale). These numbers mean nothing.**"
        echo
    fi
    echo "- date: $(meta date); cachealot commit $(meta commit)"
    echo "- machine: $NCPU CPUs ($(meta cpu_model)), $(meta mem_total) memory, $(meta os), kernel $(meta kernel)"
    echo "- load average (1/5/15 min) at start: $(meta load_start); at end: $(meta load_end)"
    echo "- $(meta pg_version)${M[pgpool_version]:+; ${M[pgpool_version]}}"
    echo "- pgbench: $CLIENTS clients, $THREADS threads, scale $SCALE ($NACCOUNTS accounts), ${SECS} s a run, median of $RUNS run(s), warm-up ${WARM} s; measured in $((MEASURED / 60)) min $((MEASURED % 60)) s"
    echo "- every server: shared_buffers $SHARED_BUFFERS, otherwise PostgreSQL's defaults (fsync and synchronous_commit on, JIT on); clients over TCP on 127.0.0.1, on the same machine"
    echo "- cachealot: max_memory $MEM_DEFAULT (default), other settings default${MEM_BIG:+; second point run with max_memory $MEM_BIG after every key was loaded into the cache in both protocols (${PREFILLED:-?} entries)}"
    if [[ $USE_PGPOOL == 1 ]]; then
        echo "- pgpool: raw mode, connection cache on, memory_cache_enabled on, memqcache_method shmem (512MB, 2M entries), backend over its Unix socket (test/bench/pgpool.conf.in); its cache was warmed only by the warm-up runs"
    fi
    echo
    echo "Notes:"
    echo
    if [[ $USE_PGPOOL == 1 ]]; then
        echo "- pgpool-II answers \`SELECT 1\` (floor) from its cache too, and (4.3.5) never caches a query that calls min() or max(): the dashboard queries avoid them so that both caches can hit."
    fi
    if [[ -n $MEM_BIG ]]; then
        echo "- point: cachealot at max_memory $MEM_DEFAULT and pgpool hold only the keys that the warm-up and the runs touched; the $MEM_BIG cachealot was prefilled with every key."
    fi
    if [[ $USE_PGPOOL == 1 ]]; then
        echo "- point lookups on a table updated every 10 statements: no pgpool figure in -M prepared. pgpool-II (4.3.5) reports the session still in a transaction after an autocommitted UPDATE sent in the extended protocol, and pgbench aborts (\"end of script reached without completing the last transaction\")."
    fi
    echo "- write latency rows: the entries cached before the run depend on the written table, so the first commit makes them unreachable; they stay in memory (a cache that scanned its entries at invalidation would pay for them at every commit). pgpool is not measured there."
    n=$(meta pgpool_delete_errors)
    if [[ $USE_PGPOOL == 1 && $n =~ ^[0-9]+$ ]] && ((n > 0)); then
        echo "- pgpool logged \"error while deleting item from shmem cache ... was already deleted\" $n times (cache invalidation under concurrent writes)."
    fi
    echo
    echo "TPS: transactions per second (one statement each, except TPC-B and the table updated every 10 statements: 9 lookups and 1 UPDATE); ms: mean latency. Ratios are of TPS (above 1: cachealot faster). Hits: share of the SELECTs answered from the cache during the run."
    echo
    echo "| workload | mode | plain TPS | plain ms | cachealot TPS | cachealot ms | pgpool TPS | pgpool ms | cachealot / plain | cachealot / pgpool | cachealot hits | pgpool hits |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    cat "$TMP/table.txt"
    echo
    echo "## Goals (issue 5)"
    echo
    if [[ $QUICK == 1 ]]; then
        echo "(quick mode: not meaningful)"
        echo
    fi
    while IFS=$'\037' read -r text v status fmt; do
        goal_line "$text" "$v" "$status" "$fmt"
    done <"$TMP/goals.txt"
    echo
    if ((FAILED_RUNS > 0)); then
        echo "**$FAILED_RUNS run(s) failed**: their figures are missing or from fewer runs (see $base.csv)."
        echo
    fi
    echo "Files: $NAME.csv (medians and ratios), $base.csv (every run), $NAME.png (ratios)."
    echo "![cachealot ratios]($NAME.png)"
} >"$TMP/out.md"

# ---------------------------------------------------------------------------
# NAME.png: the two ratios per row and mode (test/bench/plot.gp)
title="cachealot: TPS ratios (median of $RUNS x ${SECS}s), $NCPU CPUs, $CLIENTS clients, scale $SCALE"
[[ $QUICK == 1 ]] && title="QUICK MODE, NOT MEANINGFUL: $title"
rm -f "$OUTDIR/$NAME.png"
if [[ -s $TMP/plot.dat ]] && command -v gnuplot >/dev/null 2>&1 &&
    gnuplot -e "datafile='$TMP/plot.dat'; outfile='$TMP/out.png'; charttitle='$title'" \
        "$BENCH/plot.gp" >"$TMP/gnuplot.log" 2>&1; then
    mv "$TMP/out.png" "$OUTDIR/$NAME.png"
else
    cat "$TMP/gnuplot.log" >&2 2>/dev/null || true
    say "warning: gnuplot failed or is not installed: no chart"
fi
mv "$TMP/out.csv" "$OUTDIR/$NAME.csv"
mv "$TMP/out.md" "$OUTDIR/$NAME.md"
files="$NAME.md, $NAME.csv"
[[ -f $OUTDIR/$NAME.png ]] && files+=", $NAME.png"
say "written in $OUTDIR: $files"
