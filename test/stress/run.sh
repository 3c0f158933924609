#!/usr/bin/env bash
# test/stress/run.sh: what `make stress` runs: the concurrency stress test
# (test/t/010_stress.pl) for longer than `make test` runs it, through
# `test/run-tests.sh tap test/t/010_stress.pl` (build, install, a temporary
# copy of the tree and cluster as the unprivileged user, as for `make test`),
# with prove --verbose. Then prints the test's summary (seed, pairs compared,
# hits, cache counters); the last line is "stress: PASS (...)" or
# "stress: FAIL (...)". On failure run-tests.sh has printed the tails of the
# logs and kept the tree.
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
TEST=test/t/010_stress.pl
export CACHEALOT_STRESS_SECONDS="${CACHEALOT_STRESS_SECONDS:-300}"

OUT=$(mktemp "${TMPDIR:-/tmp}/cachealot-stress.XXXXXX")
trap 'rm -f -- "$OUT"' EXIT

echo "=== stress: $TEST for ${CACHEALOT_STRESS_SECONDS}s ==="
start=$(date +%s)
rc=0
PROVE_FLAGS=--verbose bash "$ROOT/test/run-tests.sh" tap "$TEST" 2>&1 | tee "$OUT" || rc=$?
elapsed=$(( $(date +%s) - start ))

echo
echo "=== summary ==="
# the test's notes (prove --verbose shows them): seed, pairs, hits, counters
grep -E '^[[:space:]]*# (stress:|storm:|r[123]|pairs with|stats|total)' "$OUT" |
    sed -E 's/^[[:space:]]*# /  /' || true
if [[ $rc -ne 0 ]]; then
    kept=$(sed -n 's/^run-tests: kept for inspection: //p' "$OUT" | tail -n 1)
    echo "stress: FAIL (${elapsed}s; see ${kept:+$kept/tmp_check/log/regress_log_$(basename "$TEST" .pl) and }the logs above)"
    exit 1
fi
echo "stress: PASS (${elapsed}s, storm ${CACHEALOT_STRESS_SECONDS}s)"
