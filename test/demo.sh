#!/usr/bin/env bash
# demo.sh: what `make demo` runs. Builds and installs cachealot, starts a
# throwaway cluster (its own port, listening on 127.0.0.1 and on a Unix
# socket in the cluster's folder only), loads a million orders and shows an
# expensive report query answered from the cache, then a committed write
# making the next answer fresh, not stale. `make demo-stop` removes it all.
#
# The cluster lives in a new folder under the system's temporary directory
# (/tmp as root, else $TMPDIR or /tmp), cachealot-demo.XXXXXX, mode 0700,
# owned by the server's user: a clone may sit where that user cannot reach
# (root's home, a mktemp -d). ./demo-cluster/location names that folder, for
# demo-stop.sh.
#
# Idempotent: a previous demo cluster is stopped and replaced. As root the
# server runs as the `postgres` system user (PostgreSQL refuses root);
# otherwise as the current user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STATE_DIR="$ROOT/demo-cluster"

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/test/lib/common.sh"
prepare_environment

build_and_install

echo "=== demo cluster ==="
# Stop and remove any previous demo cluster (no-op when there is none).
bash "$ROOT/test/demo-stop.sh"

DEMO_DIR=$(tester_tmpdir cachealot-demo)   # mode 0700: only its owner (and
DATA="$DEMO_DIR/data"                      # root) reach the trusted socket
LOG="$DEMO_DIR/server.log"
mkdir -p "$STATE_DIR"
echo "$DEMO_DIR" >"$STATE_DIR/location"

# The socket lives in the folder, unless the path would be too long for a
# Unix socket (107 bytes, with a long TMPDIR); then in a private directory
# under /tmp, recorded in the folder's socketdir for demo-stop.
SOCK_DIR="$DEMO_DIR" SOCK_NAME_MAX=/.s.PGSQL.65535
if [[ $(( ${#DEMO_DIR} + ${#SOCK_NAME_MAX} )) -gt 107 ]]; then
    SOCK_DIR=$(as_tester mktemp -d /tmp/cachealot-demo.XXXXXX)
    echo "$SOCK_DIR" >"$DEMO_DIR/socketdir"
fi

as_tester "$BINDIR/initdb" -D "$DATA" -U postgres --no-locale -E UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$DEMO_DIR/initdb.log" 2>&1 ||
    { cat "$DEMO_DIR/initdb.log" >&2; exit 1; }

# Throwaway cluster: durability off for a fast load; autovacuum off so that
# no background transaction lands between the demo's runs.
as_tester tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# --- cachealot demo (test/demo.sh) ---
shared_preload_libraries = 'cachealot'
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
autovacuum = off
port = 0
EOF

# Is a port free? Nothing listening on 127.0.0.1 (TCP connect, pg_isready),
# no socket file of another server, and no Debian cluster configured on it.
port_free() {
    local p=$1 rc=0
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 1
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$p" -t 1 >/dev/null 2>&1 || rc=$?
    [[ $rc -eq 2 ]] || return 1     # 2: no answer at all
    [[ -e /var/run/postgresql/.s.PGSQL.$p || -e /tmp/.s.PGSQL.$p ]] && return 1
    ! grep -qsE "^[[:space:]]*port[[:space:]]*=[[:space:]]*$p([^0-9]|$)" \
        /etc/postgresql/*/*/postgresql.conf
}

# Start on the first free port from 5433; if another server grabs it in the
# meantime, try the next one.
port=5433 started=0
for _ in 1 2 3 4 5; do
    while ! port_free "$port"; do
        port=$((port + 1))
        [[ $port -le 5533 ]] || { echo "demo: no free port in 5433-5533" >&2; exit 1; }
    done
    as_tester sed -i "s/^port = .*/port = $port/" "$DATA/postgresql.conf"
    if as_tester "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
        started=1
        break
    fi
    grep -q 'could not bind\|Address already in use' "$LOG" 2>/dev/null || break
    port=$((port + 1))
done
if [[ $started -ne 1 ]]; then
    echo "demo: the server did not start; end of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
    exit 1
fi
echo "$port" >"$DEMO_DIR/port"
echo "server started: port $port, socket in $SOCK_DIR, log in $LOG"

# psql against the demo cluster, quiet, stopping at the first error.
PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$port" -U postgres -d postgres)
sql() { as_tester "${PSQL[@]}" "$@"; }

echo "=== loading demo data: 10,000 customers, 1,000,000 orders ==="
t0=$(date +%s.%N)
sql <<'SQL'
CREATE EXTENSION cachealot;
BEGIN;
CREATE TABLE customers (
    id     int PRIMARY KEY,
    name   text NOT NULL,
    region text NOT NULL
);
INSERT INTO customers
SELECT i, 'customer ' || i, (ARRAY['north', 'south', 'east', 'west', 'central'])[1 + i % 5]
FROM generate_series(1, 10000) AS i;
-- Deterministic pseudo-random data: the same numbers on every run.
CREATE TABLE orders (
    id          int PRIMARY KEY,
    customer_id int NOT NULL,
    amount      numeric(10, 2) NOT NULL,
    created_at  date NOT NULL,
    status      text NOT NULL
);
INSERT INTO orders
SELECT i,
       1 + (i::bigint * 7919) % 10000,
       ((i::bigint * 104729) % 100000) / 100.0,
       DATE '2023-01-01' + (i * 31) % 730,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + (i / 7) % 5]
FROM generate_series(1, 1000000) AS i;
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers;
COMMIT;
VACUUM ANALYZE customers, orders;
SQL
t1=$(date +%s.%N)
echo "loaded in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

# The report: revenue per region and status over every order. The exact same
# text every time, so that every run looks up the same cache entry.
REPORT="SELECT c.region, o.status, count(*) AS orders,
       count(DISTINCT o.customer_id) AS customers,
       sum(o.amount) AS revenue, round(avg(o.amount), 2) AS avg_amount
FROM orders o JOIN customers c ON c.id = o.customer_id
GROUP BY c.region, o.status
ORDER BY c.region, o.status"

# Run the report in a new session. Sets MS (psql's \timing), HOW (hit, miss
# or bypass, from the change in cachealot_stats()) and ROWS (region|status|...).
run_report() {
    local out h0 m0 h1 m1
    out=$(sql -A -t -F '|' \
        -c "SELECT 'stats', hits, misses FROM cachealot_stats()" \
        -c '\timing on' -c "$REPORT" -c '\timing off' \
        -c "SELECT 'stats', hits, misses FROM cachealot_stats()")
    MS=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
    ROWS=$(grep -v '^stats|\|^Time: \|^Timing is' <<<"$out")
    IFS='|' read -r _ h0 m0 < <(grep '^stats|' <<<"$out" | head -n 1)
    IFS='|' read -r _ h1 m1 < <(grep '^stats|' <<<"$out" | tail -n 1)
    if [[ $h1 -gt $h0 ]]; then HOW=hit
    elif [[ $m1 -gt $m0 ]]; then HOW=miss
    else HOW=bypass; fi
}

# The report row of one (region, status) group.
group_row() { grep "^$1|$2|" <<<"$ROWS" || true; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "inf" }'; }

echo
echo "=== the report query, run twice (each run in a new session) ==="
echo "$REPORT;"
sql -c "SELECT cachealot_flush(), cachealot_reset_stats()" >/dev/null
run_report; MS1=$MS HOW1=$HOW ROWS1=$ROWS
run_report; MS2=$MS HOW2=$HOW
if [[ "$ROWS" != "$ROWS1" ]]; then
    echo "demo: the second run returned different rows!" >&2
    exit 1
fi
echo "($(wc -l <<<"$ROWS1") rows: region, status, orders, customers, revenue, avg_amount)"
echo
echo "first run ($HOW1): $MS1 ms, second run ($HOW2): $MS2 ms, speed-up $(ratio "$MS1" "$MS2")×"
[[ $HOW2 == hit ]] || echo "note: the second run was not answered from the cache ($HOW2); see $LOG"

echo
echo "=== a committed write: the next answer is fresh, not stale ==="
IFS='|' read -r region status amount < <(sql -A -t -F '|' -c \
    "SELECT c.region, o.status, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = 42")
before=$(group_row "$region" "$status")
if [[ -z "$before" ]]; then
    echo "demo: order 42's group ($region, $status) is not in the report" >&2
    exit 1
fi
echo "UPDATE orders SET amount = amount + 1000 WHERE id = 42;   -- order 42: $region, $status, amount $amount"
sql -c "UPDATE orders SET amount = amount + 1000 WHERE id = 42"
run_report; MS3=$MS HOW3=$HOW
after=$(group_row "$region" "$status")
echo "                  region|status|orders|customers|revenue|avg_amount"
echo "before the write: $before"
echo "after the write:  $after"
if [[ "$before" == "$after" ]]; then
    echo "demo: STALE RESULT: the report did not change after a committed write" >&2
    exit 1
fi
IFS='|' read -r _ _ _ _ rev0 avg0 <<<"$before"
IFS='|' read -r _ _ _ _ rev1 avg1 <<<"$after"
echo "group ($region, $status): revenue $rev0 -> $rev1, avg_amount $avg0 -> $avg1: fresh, not stale"
run_report; MS4=$MS HOW4=$HOW
echo "third run ($HOW3, after the write): $MS3 ms, fourth run ($HOW4): $MS4 ms"

echo
echo "=== SELECT * FROM cachealot_stats(); ==="
sql -x -c "SELECT * FROM cachealot_stats()"

if [[ $(id -u) -eq 0 ]]; then how="as root or postgres"; else how="as $TESTER"; fi
cat <<EOF

The demo cluster is running in $DEMO_DIR
(data in $DATA, log in $LOG).
Connect ($how):
    $BINDIR/psql -h $SOCK_DIR -p $port -U postgres -d postgres
(TCP on 127.0.0.1:$port asks for a password, and none is set.)
Stop it and remove $DEMO_DIR with:
    make demo-stop
EOF
