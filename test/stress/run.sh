#!/usr/bin/env bash
# test/stress/run.sh: what `make stress` runs: the concurrency stress test
# (test/t/010_stress.pl) for longer than `make test` runs it.
#
#  1. installs missing build/test packages (test/lib/ensure-deps.sh);
#  2. builds and installs the extension (as root or via sudo);
#  3. runs test/t/010_stress.pl with `make installcheck` (PGXS TAP) as an
#     unprivileged user (the `postgres` system user when run as root), from
#     a temporary copy of the tree, against its own temporary cluster;
#  4. prints the test's summary (pairs compared, hits, cache counters) and,
#     on failure, the tails of its logs; the last line is "stress: PASS" or
#     "stress: FAIL (...)".
#
# Environment:
#   CACHEALOT_STRESS_SECONDS  storm duration in seconds (default 300)
#   CACHEALOT_STRESS_SEED     random seed (default: from the clock; printed)
#   CACHEALOT_STRESS_LIBRARY  preload this library file instead of the
#                             installed one (to check the oracle on a
#                             deliberately broken build; see the test)
#   PG_CONFIG                 default: PostgreSQL 15's pg_config
#   KEEP_TMP=1                keep the temporary copy even on success
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

# shellcheck source-path=SCRIPTDIR source=../lib/ensure-deps.sh
source "$ROOT/test/lib/ensure-deps.sh"
ensure_deps
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$ROOT/test/lib/common.sh"
MAKE_ARGS=(PG_CONFIG="$PG_CONFIG")
export LANG="${LANG:-C.UTF-8}"
export CACHEALOT_STRESS_SECONDS="${CACHEALOT_STRESS_SECONDS:-300}"

TEST=test/t/010_stress.pl
WORK=""
OK=0
cleanup() {
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ $OK -eq 1 && -z "${KEEP_TMP:-}" ]]; then
            rm -rf -- "$WORK"
        else
            echo "stress: test tree kept for inspection: $WORK" >&2
        fi
    fi
}
trap cleanup EXIT
trap 'echo "stress: interrupted" >&2; exit 130' INT TERM

as_tester() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- env -u TMPDIR PATH="$BINDIR:$PATH" "$@"
    else
        env PATH="$BINDIR:$PATH" "$@"
    fi
}

echo "=== build ($PG_CONFIG) ==="
make -j"$(nproc)" "${MAKE_ARGS[@]}"
echo "=== install ==="
as_root make "${MAKE_ARGS[@]}" install

if [[ $(id -u) -eq 0 ]]; then tmp_base=/tmp; else tmp_base=${TMPDIR:-/tmp}; fi
WORK=$(mktemp -d "$tmp_base/cachealot-stress.XXXXXX")
tar -C "$ROOT" -cf - \
    --exclude=./.git --exclude=./demo-cluster --exclude='./tmp_check*' \
    --exclude=./output_iso --exclude=./results --exclude=./log \
    --exclude='./regression.*' \
    --exclude='*.o' --exclude='*.so' --exclude='*.bc' . |
    tar -C "$WORK" -xf -
if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$WORK"
fi

echo
echo "=== stress: $TEST for ${CACHEALOT_STRESS_SECONDS}s ==="
start=$(date +%s)
rc=0
as_tester make -C "$WORK" --no-print-directory "${MAKE_ARGS[@]}" \
    REGRESS= ISOLATION= PROVE_TESTS="$TEST" PROVE_FLAGS=--verbose \
    installcheck 2>&1 | tee "$WORK/stress.log" || rc=$?
elapsed=$(( $(date +%s) - start ))

LOGDIR="$WORK/tmp_check/log"
echo
echo "=== summary ==="
# the test's notes: seed, pairs compared, hits, counters
if [[ -f "$LOGDIR/regress_log_010_stress" ]]; then
    grep -E '^\[[^]]*\]\([^)]*\) # (stress:|storm:|r[123]|pairs with|stats|total)' \
        "$LOGDIR/regress_log_010_stress" | sed -E 's/^\[[^]]*\]\([^)]*\) # /  /' || true
fi
if [[ $rc -ne 0 ]] || ! grep -q 'All tests successful' "$WORK/stress.log"; then
    for f in "$LOGDIR"/*.log; do
        [[ -f "$f" ]] || continue
        echo
        echo "===== $f (last 60 lines) ====="
        tail -n 60 -- "$f"
    done
    echo
    echo "stress: FAIL (${elapsed}s; see $LOGDIR/regress_log_010_stress)"
    exit 1
fi
OK=1
echo "stress: PASS (${elapsed}s, storm ${CACHEALOT_STRESS_SECONDS}s)"
