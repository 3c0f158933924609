#!/usr/bin/env bash
# valgrind.sh: what `make valgrind` runs. The pg_regress suite against a
# temporary server running under valgrind memcheck: the outputs must match
# expected/ as in `make test`, and no memcheck error may have a stack through
# cachealot.so (PostgreSQL's own known reports, such as writing padding bytes
# to files, are left to PostgreSQL). Slow: a few minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/test/lib/common.sh"
CACHEALOT_DEPS+=(valgrind)
prepare_environment

build_and_install

# The suite's files go with it: the clone may be out of postgres' reach.
WORK=$(tester_tmpdir cachealot-valgrind /tmp)
chmod 755 "$WORK"
cp -r sql expected "$WORK/"
give_to_tester "$WORK"
PORT=54${RANDOM:0:2}
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    as_tester "$BINDIR/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

as_tester "$BINDIR/initdb" -D "$WORK/data" -U postgres --no-sync >/dev/null
cat >>"$WORK/data/postgresql.conf" <<EOC
shared_preload_libraries = 'cachealot'
max_prepared_transactions = 10
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PORT
autovacuum = off
EOC
as_tester bash -c "cd '$WORK' && nohup valgrind --quiet --trace-children=yes \
    --error-limit=no --num-callers=40 --log-file='$WORK/vg.%p.log' \
    '$BINDIR/postgres' -D '$WORK/data' >'$WORK/server.log' 2>&1 &"
for _ in $(seq 1 180); do
    "$BINDIR/pg_isready" -q -h "$WORK" -p "$PORT" && break
    sleep 1
done

as_tester "$BINDIR/createdb" -h "$WORK" -p "$PORT" -U postgres contrib_regression
TESTS=$(find sql -name '*.sql' -printf '%f\n' | sed 's/\.sql$//' | sort)
PGXS_DIR=$(dirname "$("$PG_CONFIG" --pgxs)")
status=0
# shellcheck disable=SC2086  # one word per test
as_tester "$PGXS_DIR/../../src/test/regress/pg_regress" --use-existing \
    --host="$WORK" --port="$PORT" --user=postgres --inputdir="$WORK" \
    --outputdir="$WORK/out" --dbname=contrib_regression $TESTS || status=1
[[ $status -eq 0 ]] || head -n 200 "$WORK/out/regression.diffs" || true

as_tester "$BINDIR/pg_ctl" -D "$WORK/data" -m fast -w -t 300 stop >/dev/null || true

# Each memcheck report is a block of lines; keep those that pass through us.
# Not PostgreSQL's writes of padding bytes to WAL and files ("Syscall param
# write(buf)/pwrite64(buf) points to uninitialised byte(s)", which its own
# src/tools/valgrind.supp suppresses): cachealot writes no file, but the
# stack of such a write can pass through its ProcessUtility hook (CREATE
# DATABASE copies the relation map).
errors=$(awk 'function keep(b) { return b ~ /cachealot/ && b !~ /Syscall param (write|pwrite64)\(buf\) points to uninitialised/ }
              /^==[0-9]+== [A-Z]/ { if (keep(block)) print block; block = $0; next }
              /^==[0-9]+==/ { block = block "\n" $0 }
              END { if (keep(block)) print block }' "$WORK"/vg.*.log)
if [[ -n "$errors" ]]; then
    echo "$errors"
    echo "valgrind: memcheck errors in cachealot (logs in $WORK)"
    status=1
fi
if [[ $status -eq 0 ]]; then
    echo "valgrind: suite passed, no memcheck error in cachealot"
    rm -rf "$WORK"
fi
trap - EXIT
exit $status
