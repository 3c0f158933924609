#!/usr/bin/env bash
# run.sh: what `make bench` runs (from anywhere; usually as root).
#
# Compares, on the same machine and in the same run, interleaved:
#   plain      PostgreSQL 15 without cachealot
#   cachealot  the same data, cachealot preloaded (default cachealot.max_memory;
#              the point workload also runs against a second copy with
#              cachealot.max_memory = BENCH_BIG_MEMORY, every key prefilled;
#              the point and miss workloads also run with the admission rule,
#              cachealot.min_cost = BENCH_ADMIT_MIN_COST, on the default server)
#   pgpool     pgpool-II (Debian's pgpool2) in raw mode, connection cache on,
#              in-memory query cache on (memqcache_method = 'shmem'), in front
#              of another copy of the plain server (test/bench/pgpool.conf.in)
# with pgbench and the scripts in test/bench/scripts/ (one copy of the data per
# configuration, all made from one pgbench -i, so that each gets the same
# writes), over the workloads
#   floor       SELECT 1: one round trip; a cache hit cannot beat it
#   point       pgbench -S primary-key lookups (1M keys at scale 10)
#   dashboard   5 expensive aggregates and joins over pgbench_accounts
#   rm1, rm10   read-mostly: point reads and dashboards with 1% / 10% single-row
#               UPDATEs of pgbench_accounts (invalidations in the loop)
#   upd10       point lookups on a table updated every 10 statements: 9 random
#               lookups, then 1 single-row UPDATE of pgbench_accounts
#   write       pgbench's TPC-B-like script
#   miss        primary-key lookups that never repeat (capture cost, no hit)
#   hot30       mixed: point lookups, 30% of them on 100 hot keys, 70% on random
#               keys over all accounts (both caches emptied first)
#   inv         single-row UPDATE latency with an empty cache and with
#               BENCH_FILL_ENTRIES (100k) cached entries of the written table
# each in -M simple and -M prepared where the protocol matters. Every figure is
# the median of BENCH_RUNS runs; within a round the configurations take turns
# (their order rotates from round to round).
#
# Output, in test/bench/results/ (BENCH_RESULTS), replaced by each run: this
# script measures and writes latest-raw.csv (every run) and latest-raw.meta
# (settings, machine, times); test/bench/report.sh then renders from those two
# latest.md (machine, settings, table, goals; also printed), latest.csv
# (medians and ratios) and latest.png (the ratios). To redraw a report without
# measuring again: bash test/bench/report.sh test/bench/results/latest-raw.csv
#
# Environment (defaults: full run about 25 minutes / BENCH_QUICK=1 about 2):
#   BENCH_QUICK=1        smoke check of the mechanics: 1 run of 2 s, scale 1
#   BENCH_RUNS           runs per figure (3 / 1)
#   BENCH_SECONDS        seconds per run (8 / 2)
#   BENCH_WARMUP         seconds of discarded warm-up per configuration and
#                        protocol, for the workloads with a cache to fill (3 / 1)
#   BENCH_CLIENTS        pgbench clients (4); BENCH_THREADS (min(clients, nproc))
#   BENCH_SCALE          pgbench scale (10 / 1): 100,000 accounts per unit
#   BENCH_WORKLOADS      subset, in order (floor point dashboard miss hot30 rm1 rm10
#                        upd10 write inv)
#   BENCH_PGPOOL=0       leave pgpool out
#   BENCH_BIG_MEMORY     cachealot.max_memory of the second point run (1GB)
#   BENCH_ADMIT_MIN_COST cachealot.min_cost of the point and miss runs that show
#                        the admission rule at work (10: above a primary-key
#                        lookup's cost of about 8.5, so those bypass)
#   BENCH_FILL_ENTRIES   cached entries for the inv workload (100000)
#   BENCH_SHARED_BUFFERS shared_buffers of every server (256MB: the data fits)
#   BENCH_RESULTS        output folder (test/bench/results)
#   BENCH_KEEP=1         keep the temporary folder (clusters' logs, pgbench output)
#   PG_CONFIG            PostgreSQL 15's pg_config (test/lib/common.sh)
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/../.." && pwd)
cd "$ROOT"
export LANG="${LANG:-C.UTF-8}"

say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Settings
QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
    RUNS=${BENCH_RUNS:-1} SECS=${BENCH_SECONDS:-2} SCALE=${BENCH_SCALE:-1} WARM=${BENCH_WARMUP:-1}
else
    RUNS=${BENCH_RUNS:-3} SECS=${BENCH_SECONDS:-8} SCALE=${BENCH_SCALE:-10} WARM=${BENCH_WARMUP:-3}
fi
CLIENTS=${BENCH_CLIENTS:-4}
NCPU=$(nproc)
THREADS=${BENCH_THREADS:-$((CLIENTS < NCPU ? CLIENTS : NCPU))}
read -r -a WORKLOADS <<<"${BENCH_WORKLOADS:-floor point dashboard miss hot30 rm1 rm10 upd10 write inv}"
USE_PGPOOL=${BENCH_PGPOOL:-1}
BIG_MEMORY=${BENCH_BIG_MEMORY:-1GB}
ADMIT_MIN_COST=${BENCH_ADMIT_MIN_COST:-10}
FILL_ENTRIES=${BENCH_FILL_ENTRIES:-100000}
SHARED_BUFFERS=${BENCH_SHARED_BUFFERS:-256MB}
RESULTS=${BENCH_RESULTS:-$BENCH/results}
KEEP=${BENCH_KEEP:-0}

for v in RUNS SECS SCALE WARM CLIENTS THREADS FILL_ENTRIES; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, not '${!v}'"
done
((RUNS >= 1 && SECS >= 1 && SCALE >= 1 && CLIENTS >= 1 && THREADS >= 1)) ||
    die "BENCH_RUNS, BENCH_SECONDS, BENCH_SCALE, BENCH_CLIENTS and BENCH_THREADS must be at least 1"
((THREADS <= CLIENTS)) || THREADS=$CLIENTS
for w in "${WORKLOADS[@]}"; do
    case $w in floor | point | dashboard | miss | hot30 | rm1 | rm10 | upd10 | write | inv) ;;
        *) die "unknown workload '$w' in BENCH_WORKLOADS" ;; esac
done
NACCOUNTS=$((100000 * SCALE))
((FILL_ENTRIES <= NACCOUNTS)) || FILL_ENTRIES=$NACCOUNTS

# ---------------------------------------------------------------------------
# Packages: the build/test set, pgpool2 and gnuplot
# shellcheck source=test/lib/ensure-deps.sh
source "$ROOT/test/lib/ensure-deps.sh"
[[ $USE_PGPOOL == 1 ]] && CACHEALOT_DEPS+=(pgpool2)
command -v gnuplot >/dev/null 2>&1 || CACHEALOT_DEPS+=(gnuplot-nox)
ensure_deps
set -euo pipefail   # (ensure-deps.sh sets them too; restated for the reader)

# shellcheck source=test/lib/common.sh
source "$ROOT/test/lib/common.sh"
PGBENCH="$BINDIR/pgbench"
PSQL="$BINDIR/psql"
[[ -x $PGBENCH ]] || PGBENCH=pgbench
[[ -x $PSQL ]] || PSQL=psql

# Debian's pgpool2 starts (or tries to start) a system service on install: we
# never use it; stop and disable it so that it holds no port or memory.
stop_system_pgpool() {
    [[ -e /etc/init.d/pgpool2 || -e /lib/systemd/system/pgpool2.service ]] || return 0
    if [[ $(id -u) -eq 0 ]]; then
        if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
            systemctl disable --now pgpool2.service >/dev/null 2>&1 || true
        else
            if command -v systemctl >/dev/null 2>&1; then
                systemctl disable pgpool2.service >/dev/null 2>&1 || true
            fi
            if command -v service >/dev/null 2>&1; then
                service pgpool2 stop >/dev/null 2>&1 || true
            fi
        fi
    fi
    # Still running (no init system here, or started by hand)? Its pid file
    # ends in a NUL byte.
    local pf=/var/run/postgresql/pgpool.pid pid i
    [[ -s $pf ]] || return 0
    pid=$(tr -dc '0-9' <"$pf")
    [[ -n $pid && "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */pgpool ]] || return 0
    say "stopping the pgpool2 system service (pid $pid)"
    kill -INT "$pid" 2>/dev/null || { say "cannot stop pid $pid (not root?): left running"; return 0; }
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    say "the pgpool2 system service (pid $pid) did not stop"
}
[[ $USE_PGPOOL == 1 ]] && stop_system_pgpool
PGPOOL_BIN=$(command -v pgpool || echo /usr/sbin/pgpool)

# ---------------------------------------------------------------------------
# Build and install
say "build"
make -s -j"$NCPU" PG_CONFIG="$PG_CONFIG" >/dev/null || die "make failed"
say "install"
as_root make -s PG_CONFIG="$PG_CONFIG" install >/dev/null || die "make install failed"

# ---------------------------------------------------------------------------
# The servers, pgpool and initdb run as the unprivileged test user
# (test/lib/common.sh: as_tester, give_to_tester), in a folder it owns.
WORK=$(tester_tmpdir cachealot-bench) || die "cannot make a folder for the postgres user"
mkdir -p "$WORK/sock" "$WORK/log" "$WORK/out"
give_to_tester "$WORK"
chmod 755 "$WORK"

declare -A PORT=()     # cluster or "pgpool" -> port
STARTED=()             # clusters started, to stop
POOL_PID=""            # the runuser/pgpool process we started
OK=0

stop_pgpool() {
    [[ -n $POOL_PID ]] || return 0
    local pf="$WORK/pgpool/pgpool.pid" pid="" i
    [[ -s $pf ]] && pid=$(tr -dc '0-9' <"$pf")
    as_tester "$PGPOOL_BIN" -f "$WORK/pgpool/pgpool.conf" -m fast stop >/dev/null 2>&1 || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$POOL_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$POOL_PID" 2>/dev/null; then
        say "pgpool did not stop: killing it"
        [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null
        kill -TERM "$POOL_PID" 2>/dev/null
    fi
    wait "$POOL_PID" 2>/dev/null || true
    POOL_PID=""
}

cleanup() {
    local rc=$? c
    set +e
    trap - EXIT INT TERM
    stop_pgpool
    for c in "${STARTED[@]}"; do
        as_tester pg_ctl -D "$WORK/$c" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_tester pg_ctl -D "$WORK/$c" -m immediate -w stop >/dev/null 2>&1
    done
    STARTED=()
    if [[ $KEEP == 1 ]]; then
        say "temporary folder kept: $WORK"
    elif [[ $OK -eq 1 ]]; then
        rm -rf -- "$WORK"
    else
        # keep what says why (logs, pgbench output), not the data directories
        for c in plain cachealot cachealot-big pgpool-backend; do rm -rf -- "${WORK:?}/$c"; done
        say "kept for inspection: $WORK (servers' and pgpool's logs in log/, pgbench output in out/)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Free TCP ports on 127.0.0.1 (the Unix sockets live in our own folder).
USED_PORTS=" "
pick_port() {
    local p=$((20000 + RANDOM % 30000))
    while [[ $USED_PORTS == *" $p "* ]] || (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null ||
        { command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htan "( sport = :$p )" 2>/dev/null) ]]; }; do
        p=$((p + 1))
        ((p < 65000)) || p=20000
    done
    USED_PORTS+="$p "
    printf -v "$1" %s "$p"
}

# psql against a port, quiet, unaligned, stop on error.
q() {
    local port=$1
    shift
    "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d bench "$@"
}

# ---------------------------------------------------------------------------
# Clusters: one pgbench -i, copied for each configuration
CLUSTERS=(plain cachealot)
for w in "${WORKLOADS[@]}"; do [[ $w == point ]] && CLUSTERS+=(cachealot-big); done
[[ $USE_PGPOOL == 1 ]] && CLUSTERS+=(pgpool-backend)

start_cluster() {
    local c=$1
    as_tester pg_ctl -D "$WORK/$c" -l "$WORK/log/$c.log" -w -t 120 start >/dev/null ||
        { tail -n 30 "$WORK/log/$c.log" >&2; die "cluster $c did not start"; }
    STARTED+=("$c")
}

say "initdb and pgbench -i -s $SCALE"
as_tester initdb -D "$WORK/plain" -A trust -U postgres -E UTF8 --locale=C >"$WORK/log/initdb.log" 2>&1 ||
    { cat "$WORK/log/initdb.log" >&2; die "initdb failed"; }
cat >>"$WORK/plain/postgresql.conf" <<EOF

# --- make bench (every configuration)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/sock'
shared_buffers = $SHARED_BUFFERS
max_connections = 100
max_wal_size = 8GB
checkpoint_timeout = 1h
log_min_messages = warning
log_checkpoints = off
EOF
pick_port 'PORT[plain]'
echo "port = ${PORT[plain]}" >>"$WORK/plain/postgresql.conf"
start_cluster plain
as_tester createdb -h 127.0.0.1 -p "${PORT[plain]}" -U postgres bench
"$PGBENCH" -h 127.0.0.1 -p "${PORT[plain]}" -U postgres -i -q -s "$SCALE" bench >"$WORK/log/pgbench-init.log" 2>&1 ||
    { cat "$WORK/log/pgbench-init.log" >&2; die "pgbench -i failed"; }
q "${PORT[plain]}" -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
as_tester pg_ctl -D "$WORK/plain" -m fast -w stop >/dev/null
STARTED=()

for c in "${CLUSTERS[@]}"; do
    [[ $c == plain ]] && continue
    cp -a "$WORK/plain" "$WORK/$c"
    pick_port "PORT[$c]"
    {
        echo "port = ${PORT[$c]}"
        case $c in
            cachealot) echo "shared_preload_libraries = 'cachealot'" ;;
            cachealot-big) echo "shared_preload_libraries = 'cachealot'"
                           echo "cachealot.max_memory = '$BIG_MEMORY'" ;;
        esac
    } >>"$WORK/$c/postgresql.conf"
done
for c in "${CLUSTERS[@]}"; do start_cluster "$c"; done
for c in cachealot cachealot-big; do
    [[ -n ${PORT[$c]:-} ]] || continue
    q "${PORT[$c]}" -c 'CREATE EXTENSION cachealot' ||
        die "CREATE EXTENSION cachealot failed on $c"
    [[ $(q "${PORT[$c]}" -c 'SHOW shared_preload_libraries') == *cachealot* ]] ||
        die "cachealot is not preloaded on $c"
done
MEM_DEFAULT=$(q "${PORT[cachealot]}" -c 'SHOW cachealot.max_memory')
MEM_BIG=""
[[ -n ${PORT[cachealot-big]:-} ]] && MEM_BIG=$(q "${PORT[cachealot-big]}" -c 'SHOW cachealot.max_memory')

# pgpool in front of its backend (a plain server)
if [[ $USE_PGPOOL == 1 ]]; then
    mkdir -p "$WORK/pgpool/log" "$WORK/pgpool/oiddir"
    pick_port 'PORT[pgpool]'
    pick_port PCP_PORT
    children=$((CLIENTS + 8 > 32 ? CLIENTS + 8 : 32))
    sed -e "s|@BACKEND_SOCKET_DIR@|$WORK/sock|; s|@BACKEND_PORT@|${PORT[pgpool-backend]}|" \
        -e "s|@PORT@|${PORT[pgpool]}|; s|@PCP_PORT@|$PCP_PORT|; s|@CHILDREN@|$children|" \
        -e "s|@DIR@|$WORK/pgpool|g" "$BENCH/pgpool.conf.in" >"$WORK/pgpool/pgpool.conf"
    : >"$WORK/pgpool/pcp.conf"
    : >"$WORK/pgpool/pool_hba.conf"
    give_to_tester "$WORK/pgpool"
    say "start pgpool"
    (cd "$WORK/pgpool" && as_tester "$PGPOOL_BIN" -n -D -f "$WORK/pgpool/pgpool.conf" \
        -F "$WORK/pgpool/pcp.conf" -a "$WORK/pgpool/pool_hba.conf") >"$WORK/log/pgpool.log" 2>&1 &
    POOL_PID=$!
    for ((i = 0; i < 300; i++)); do
        q "${PORT[pgpool]}" -c 'SELECT 1' >/dev/null 2>&1 && break
        kill -0 "$POOL_PID" 2>/dev/null || { cat "$WORK/log/pgpool.log" >&2; die "pgpool exited"; }
        sleep 0.1
    done
    q "${PORT[pgpool]}" -c 'SELECT 1' >/dev/null || { cat "$WORK/log/pgpool.log" >&2; die "pgpool does not answer"; }
fi

# ---------------------------------------------------------------------------
# Workloads
S="$BENCH/scripts"
workload_configs() {
    local -a c
    case $1 in
        point) c=(plain cachealot cachealot-admit cachealot-big pgpool) ;;
        miss) c=(plain cachealot cachealot-admit pgpool) ;;
        inv) c=(plain cachealot cachealot-full) ;;
        *) c=(plain cachealot pgpool) ;;
    esac
    local x
    for x in "${c[@]}"; do
        [[ $x == pgpool && $USE_PGPOOL != 1 ]] && continue
        echo "$x"
    done
}
workload_modes() {
    case $1 in
        rm1 | rm10 | inv) echo simple ;;
        *) echo simple prepared ;;
    esac
}
# measured WORKLOAD MODE CONFIG: false for the one figure left out. After an
# autocommitted UPDATE sent in the extended protocol, pgpool-II 4.3 reports
# the session still in a transaction, so that pgbench -M prepared aborts at
# the end of upd10.sql ("end of script reached without completing the last
# transaction"): upd10 has no pgpool figure in -M prepared.
measured() { [[ ! ($1 == upd10 && $2 == prepared && $3 == pgpool) ]]; }
# workload_args WORKLOAD: sets ARGS to its pgbench script options
add_dash() { local i; for i in 1 2 3 4 5; do ARGS+=(-f "$S/dash$i.sql@$1"); done; }
workload_args() {
    ARGS=()
    case $1 in
        floor) ARGS=(-f "$S/floor.sql") ;;
        point) ARGS=(-f "$S/point.sql") ;;
        dashboard) add_dash 1 ;;
        miss) ARGS=(-f "$S/miss.sql" -D k=0) ;;   # -D run=N added per run
        hot30) ARGS=(-f "$S/hot30.sql") ;;
        rm1) ARGS=(-f "$S/point.sql@94" -f "$S/update.sql@1"); add_dash 1 ;;
        rm10) ARGS=(-f "$S/point.sql@85" -f "$S/update.sql@10"); add_dash 1 ;;
        upd10) ARGS=(-f "$S/upd10.sql") ;;
        write) ARGS=(-f "$S/tpcb.sql") ;;
        inv) ARGS=(-f "$S/update.sql") ;;
    esac
}
writes() { [[ $1 == rm1 || $1 == rm10 || $1 == upd10 || $1 == write || $1 == inv ]]; }
warms() {
    [[ $1 == point || $1 == dashboard || $1 == miss || $1 == hot30 || $1 == rm1 || $1 == rm10 ||
        $1 == upd10 ]]
}

# The port a configuration's clients use, and the server behind it.
config_port() {
    case $1 in
        cachealot-full | cachealot-admit) echo "${PORT[cachealot]}" ;;
        *) echo "${PORT[$1]}" ;;
    esac
}
config_server_port() {
    case $1 in
        pgpool) echo "${PORT[pgpool-backend]}" ;;
        *) config_port "$1" ;;
    esac
}
is_cachealot() { [[ $1 == cachealot* ]]; }

# Fill cachealot's cache with the results of point lookups of keys
# [from, to], keyed as pgbench would send them in the given protocol: the
# statement text of point.sql after substitution (simple) or with $1 and the
# key as parameter (prepared). Server-side, so it takes seconds, not minutes.
# A deliberate warm-up: with admission on, lookups that all miss would turn
# the statement cold after its first window and store almost nothing.
fill_point_keys() {
    local port=$1 mode=$2 from=$3 to=$4 stmt
    if [[ $mode == simple ]]; then
        stmt="EXECUTE format('SELECT abalance FROM pgbench_accounts WHERE aid = %s;', i) INTO r"
    else
        stmt="EXECUTE 'SELECT abalance FROM pgbench_accounts WHERE aid = \$1;' INTO r USING i"
    fi
    q "$port" -c "SET cachealot.admission = off" \
        -c "DO \$\$ DECLARE r int; BEGIN FOR i IN $from..$to LOOP $stmt; END LOOP; END \$\$"
}

# cachealot_stats() or SHOW pool_cache as "hits selects entries" (pgpool's
# num_selects counts the SELECTs that did not hit).
cache_counters() {
    local config=$1
    if is_cachealot "$config"; then
        q "$(config_port "$config")" -F ' ' -c \
            'SELECT hits, hits + misses + bypasses, entries FROM cachealot_stats()' 2>/dev/null || echo "- - -"
    elif [[ $config == pgpool ]]; then
        q "${PORT[pgpool]}" -F ' ' -c 'SHOW pool_cache' 2>/dev/null |
            awk '{ print $1, $1 + $2, $6 }' || echo "- - -"
    else
        echo "- - -"
    fi
}

RAW="$WORK/raw.csv"
echo "workload,mode,config,round,tps,lat_ms,hit_pct,entries,status" >"$RAW"
SEQ=0
FAILED_RUNS=0

# pgbench_run WORKLOAD MODE CONFIG SECONDS OUTFILE: one pgbench run; sets
# RES to "tps latency_ms", or to "fail".
pgbench_run() {
    local w=$1 mode=$2 config=$3 secs=$4 out=$5
    workload_args "$w"
    SEQ=$((SEQ + 1))
    [[ $w == miss ]] && ARGS+=(-D "run=$(($(date +%s) * 1000 + SEQ))")
    # cachealot-admit: the same server, with the admission rule on
    local options=${PGOPTIONS:-}
    [[ $config == cachealot-admit ]] && options="$options -c cachealot.min_cost=$ADMIT_MIN_COST"
    if PGOPTIONS="$options" "$PGBENCH" -h 127.0.0.1 -p "$(config_port "$config")" -U postgres -n \
        -c "$CLIENTS" -j "$THREADS" -T "$secs" -M "$mode" -D "scale=$SCALE" \
        "${ARGS[@]}" bench >"$out" 2>&1; then
        RES=$(awk '/^tps = / { t = $3 } /^latency average = / { l = $4 }
             END { if (t == "" || l == "") print "fail"; else print t, l }' "$out")
    else
        RES=fail
    fi
}

# Before each measured run: the state that run is defined by.
before_run() {
    local w=$1 config=$2 mode=$3 n
    if [[ $w == inv ]] && is_cachealot "$config"; then
        q "$(config_port "$config")" -c 'SELECT cachealot_flush()' >/dev/null
        if [[ $config == cachealot-full ]]; then
            fill_point_keys "$(config_port "$config")" simple 1 "$FILL_ENTRIES"
            n=$(q "$(config_port "$config")" -c 'SELECT entries FROM cachealot_stats()')
            ((n >= FILL_ENTRIES * 99 / 100)) ||
                say "warning: inv: only $n of $FILL_ENTRIES entries cached before the run"
        fi
    fi
    if writes "$w"; then q "$(config_server_port "$config")" -c 'CHECKPOINT'; fi
}

# Before a workload's rounds (once).
before_workload() {
    local w=$1 n port
    case $w in
        point)
            [[ -n ${PORT[cachealot-big]:-} ]] || return 0
            port=${PORT[cachealot-big]}
            say "point: prefilling all $NACCOUNTS keys, both protocols, in cachealot-big ($MEM_BIG)"
            q "$port" -c 'SELECT cachealot_flush()' >/dev/null
            fill_point_keys "$port" simple 1 "$NACCOUNTS" &
            local p1=$!
            fill_point_keys "$port" prepared 1 "$NACCOUNTS" || die "prefill failed"
            wait "$p1" || die "prefill failed"
            n=$(q "$port" -c 'SELECT entries FROM cachealot_stats()')
            PREFILLED=$n
            say "point: cachealot-big holds $n entries ($(q "$port" -c "SELECT pg_size_pretty(memory_used) FROM cachealot_stats()"))"
            ;;
        hot30)
            # Its lookups have point.sql's text: start from empty caches so
            # that the hits are this workload's own, whatever ran before. A
            # write that changes nothing, through each configuration (the
            # same on every copy of the data), makes pgpool drop its results
            # of pgbench_accounts; cachealot's are flushed.
            local config left=""
            while IFS= read -r config; do
                q "$(config_port "$config")" -c 'UPDATE pgbench_accounts SET abalance = abalance WHERE aid = 1' ||
                    die "$w: cannot empty the cache of $config"
                if is_cachealot "$config"; then
                    q "$(config_port "$config")" -c 'SELECT cachealot_flush()' >/dev/null
                fi
                n=$(cache_counters "$config" | cut -d' ' -f3)
                [[ $n == - ]] || left+="${left:+, }$config $n"
            done < <(workload_configs "$w")
            say "$w: caches emptied (entries left: ${left:-not measured})"
            ;;
    esac
}

PREFILLED=""
run_workload() {
    local w=$1 r mode config i res tps lat before after hit entries status
    local -a configs modes order
    mapfile -t configs < <(workload_configs "$w")
    read -r -a modes <<<"$(workload_modes "$w")"
    before_workload "$w"
    if warms "$w" && ((WARM > 0)); then
        for mode in "${modes[@]}"; do
            for config in "${configs[@]}"; do
                measured "$w" "$mode" "$config" || continue
                before_run "$w" "$config" "$mode"
                pgbench_run "$w" "$mode" "$config" "$WARM" "$WORK/out/$w-$mode-$config-warmup.log"
                [[ $RES == fail ]] && say "warning: warm-up $w $mode $config failed: $(tail -n 3 "$WORK/out/$w-$mode-$config-warmup.log" | tr '\n' ' ')"
            done
        done
    fi
    for ((r = 1; r <= RUNS; r++)); do
        # rotate the order of the configurations from round to round
        order=()
        for ((i = 0; i < ${#configs[@]}; i++)); do
            order+=("${configs[$(((i + r - 1) % ${#configs[@]}))]}")
        done
        for mode in "${modes[@]}"; do
            for config in "${order[@]}"; do
                measured "$w" "$mode" "$config" || continue
                before_run "$w" "$config" "$mode"
                before=$(cache_counters "$config")
                local out="$WORK/out/$w-$mode-$config-$r.log"
                pgbench_run "$w" "$mode" "$config" "$SECS" "$out"
                res=$RES
                after=$(cache_counters "$config")
                hit=$(awk -v b="$before" -v a="$after" 'BEGIN {
                        split(b, x, " "); split(a, y, " ");
                        if (x[1] == "-" || y[1] == "-" || y[2] - x[2] <= 0) print "";
                        else printf "%.1f", 100 * (y[1] - x[1]) / (y[2] - x[2]) }')
                entries=$(awk -v a="$after" 'BEGIN { split(a, y, " "); print (y[3] == "-" ? "" : y[3]) }')
                if [[ $res == fail ]]; then
                    tps="" lat="" status=fail
                    FAILED_RUNS=$((FAILED_RUNS + 1))
                    say "run failed: $w $mode $config round $r: $(tail -n 3 "$out" | tr '\n' ' ')"
                else
                    read -r tps lat <<<"$res"
                    status=ok
                fi
                echo "$w,$mode,$config,$r,$tps,$lat,$hit,$entries,$status" >>"$RAW"
                printf '  %-9s %-8s %-14s round %d: %10s tps %9s ms%s\n' "$w" "$mode" "$config" "$r" \
                    "${tps:-FAILED}" "${lat:--}" "${hit:+  (hits $hit%)}" >&2
            done
        done
    done
}

ncells=0
for w in "${WORKLOADS[@]}"; do
    for mode in $(workload_modes "$w"); do
        while IFS= read -r config; do
            if measured "$w" "$mode" "$config"; then ncells=$((ncells + 1)); fi
        done < <(workload_configs "$w")
    done
done
say "$ncells figures x $RUNS runs x ${SECS}s = about $(((ncells * RUNS * SECS + 59) / 60)) min of measurement; $CLIENTS clients, $THREADS threads, scale $SCALE"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
for w in "${WORKLOADS[@]}"; do
    say "workload $w"
    run_workload "$w"
done
T1=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# The raw results and their description; report.sh renders them
# (report.sh RAW.csv redraws a report without measuring again).

# key=value lines: what report.sh needs besides the CSV (settings, machine,
# times). One line each, so no newlines in a value.
write_meta() {
    local pool_version="" cpu_model mem_total os commit errors=""
    cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
    [[ -n $cpu_model ]] || cpu_model=$(uname -m)
    mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    [[ $USE_PGPOOL == 1 ]] && pool_version=$("$PGPOOL_BIN" --version 2>&1 | head -n 1)
    commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
    [[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]] && commit="$commit (src/ modified)"
    # shellcheck disable=SC1091
    os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)
    if [[ $USE_PGPOOL == 1 && -f $WORK/log/pgpool.log ]]; then
        errors=$(grep -c 'error while deleting item from shmem cache' "$WORK/log/pgpool.log" || true)
    fi
    echo "# ${1##*/}.meta: the run behind ${1##*/}.csv (written by test/bench/run.sh;"
    echo "# read by test/bench/report.sh). key=value, one a line."
    local kv
    for kv in "quick=$QUICK" "runs=$RUNS" "seconds=$SECS" "warmup=$WARM" \
        "clients=$CLIENTS" "threads=$THREADS" "scale=$SCALE" "accounts=$NACCOUNTS" \
        "fill_entries=$FILL_ENTRIES" "admit_min_cost=$ADMIT_MIN_COST" \
        "shared_buffers=$SHARED_BUFFERS" "pgpool=$USE_PGPOOL" \
        "mem_default=$MEM_DEFAULT" "mem_big=$MEM_BIG" "prefilled=$PREFILLED" \
        "ncpu=$NCPU" "cpu_model=$cpu_model" "mem_total=$mem_total" "os=$os" \
        "kernel=$(uname -r)" "pg_version=$("$BINDIR/postgres" --version 2>/dev/null || echo "?")" \
        "pgpool_version=$pool_version" "commit=$commit" \
        "date=$(date -u '+%Y-%m-%d %H:%M UTC')" "load_start=$LOAD_START" "load_end=$LOAD_END" \
        "measured_seconds=$((T1 - T0))" "pgpool_delete_errors=$errors"; do
        echo "${kv//$'\n'/ }"
    done
}

mkdir -p "$RESULTS"
cp "$RAW" "$RESULTS/latest-raw.csv"
write_meta "$RESULTS/latest-raw" >"$RESULTS/latest-raw.meta"
bash "$BENCH/report.sh" "$RESULTS/latest-raw.csv"

echo
cat "$RESULTS/latest.md"
echo
say "written: $RESULTS/latest.md, latest.csv, latest-raw.csv, latest-raw.meta, latest.png"
OK=1
((FAILED_RUNS == 0)) || { say "$FAILED_RUNS run(s) failed"; exit 1; }
