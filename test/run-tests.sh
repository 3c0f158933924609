#!/usr/bin/env bash
# run-tests.sh: what `make test` runs (from the repo root, often as root in CI).
#
#  1. installs missing build/test packages (test/lib/ensure-deps.sh);
#  2. builds (`make`, warnings visible) and installs (`make install`, as root or
#     via sudo) the extension;
#  3. runs each suite of `make installcheck` (pg_regress, isolation, TAP), each
#     against its own temporary cluster, as an unprivileged user: PostgreSQL
#     refuses to run as root, so root hands a temporary copy of the tree to the
#     `postgres` system user. Each suite runs in its own `make installcheck`
#     (the other two switched off on the command line) so that one failing
#     suite does not hide the others' results;
#  4. on failure prints the diffs and log tails that say why;
#  5. ends with one line "N passed, N failed", counting suites that ran.
#
# Usage: run-tests.sh                every suite (what `make test` runs)
#        run-tests.sh SUITE          only SUITE: regress, isolation or tap
#        run-tests.sh tap FILE...    only the TAP files FILE... (PROVE_TESTS;
#                                    paths from the repo root), as
#                                    test/stress/run.sh runs 010_stress.pl
#
# Environment: PG_CONFIG (default: PostgreSQL 15's pg_config), KEEP_TMP=1 keeps
# the temporary copy even on success, PROVE_FLAGS (e.g. --verbose) is handed
# to prove; the rest of the environment reaches the tests (such as
# CACHEALOT_STRESS_SECONDS).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/test/lib/common.sh"
prepare_environment

SUITES=(regress isolation tap)
TAP_FILES=()
if [[ $# -gt 0 ]]; then
    case $1 in
        regress | isolation | tap) SUITES=("$1") ;;
        *) echo "run-tests: unknown suite '$1' (regress, isolation, tap)" >&2; exit 2 ;;
    esac
    shift
    if [[ $# -gt 0 ]]; then
        [[ ${SUITES[0]} == tap ]] ||
            { echo "run-tests: test files go with the tap suite only" >&2; exit 2; }
        TAP_FILES=("$@")
        for f in "${TAP_FILES[@]}"; do
            [[ $f != /* && -f $f ]] ||
                { echo "run-tests: $f: not a test file relative to $ROOT" >&2; exit 2; }
        done
    fi
fi
[[ -n "${PROVE_FLAGS:-}" ]] && MAKE_ARGS+=(PROVE_FLAGS="$PROVE_FLAGS")

declare -A RESULT=()   # suite -> passed | failed | missing
WORK=""
PASSED=0 FAILED=0
OK=0                   # 0 running, 1 no suite failed (remove the tree), 2 kept

# Count suites: sets PASSED and FAILED; "missing" suites count for neither.
count_suites() {
    local s
    PASSED=0 FAILED=0
    for s in "${SUITES[@]}"; do
        case "${RESULT[$s]:-missing}" in
            passed) PASSED=$((PASSED + 1)) ;;
            failed) FAILED=$((FAILED + 1)) ;;
        esac
    done
}

# The final line, which CI logs are read for.
summary() {
    count_suites
    echo "$PASSED passed, $FAILED failed"
}

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() { finish_work_dir run-tests "$WORK" "$OK"; }
set_cleanup_trap run-tests cleanup

# Print the test variables the Makefile defines, as NAME=value lines.
makefile_vars() {
    make -s --no-print-directory -f Makefile -f - "${MAKE_ARGS[@]}" \
        cachealot-print-vars <<'EOF'
cachealot-print-vars: ; $(info REGRESS=$(strip $(REGRESS)))$(info ISOLATION=$(strip $(ISOLATION)))$(info TAP_TESTS=$(strip $(TAP_TESTS)))$(info PROVE_TESTS=$(strip $(PROVE_TESTS)))@:
EOF
}

# Print the last lines of a file under a header, if it exists.
show_tail() {
    local file=$1 lines=${2:-200}
    [[ -f "$file" ]] || return 0
    echo
    echo "===== $file (last $lines lines) ====="
    tail -n "$lines" -- "$file"
}

# ---------------------------------------------------------------------------
# Which suites exist?  A suite the Makefile does not define, or a TAP suite
# with no test files yet, is "missing": neither passed nor failed.
declare -A HAVE=()
val() { sed -n "s/^$1=//p" <<<"$vars"; }
if [[ -f Makefile ]] && vars=$(makefile_vars); then
    [[ -n "$(val REGRESS)" ]] && HAVE[regress]=1
    [[ -n "$(val ISOLATION)" ]] && HAVE[isolation]=1
    if [[ -n "$(val TAP_TESTS)" ]]; then
        # PROVE_TESTS holds globs such as test/t/*.pl (PGXS default: t/*.pl).
        read -r -a globs <<<"$(val PROVE_TESTS)"
        [[ ${#TAP_FILES[@]} -gt 0 ]] && globs=("${TAP_FILES[@]}")
        [[ ${#globs[@]} -gt 0 ]] || globs=('t/*.pl')
        for g in "${globs[@]}"; do
            compgen -G "$g" >/dev/null && HAVE[tap]=1
        done
    fi
else
    echo "run-tests: could not read the test variables from the Makefile" >&2
fi

# Build or install failed: every suite that would have run counts as failed
# (at least one, so that the summary never looks green).
build_failed() {
    local s n=0
    echo "run-tests: $1 failed; no test suite ran" >&2
    for s in "${SUITES[@]}"; do
        [[ -n "${HAVE[$s]:-}" ]] && { RESULT[$s]=failed; n=$((n + 1)); }
    done
    [[ $n -gt 0 ]] || RESULT[${SUITES[0]}]=failed
    summary
    exit 1
}

build_and_install || build_failed "$BUILD_FAILED"

# A private copy of the source tree for the unprivileged user.
WORK=$(copy_tree_for_tester cachealot-test)

# Run one suite: `make installcheck` with the other suites switched off.
run_suite() {
    local suite=$1 log="$WORK/run-tests-$1.log"
    local -a off=()
    case $suite in
        regress)   off=(ISOLATION= TAP_TESTS=) ;;
        isolation) off=(REGRESS= TAP_TESTS=) ;;
        tap)       off=(REGRESS= ISOLATION=)
                   [[ ${#TAP_FILES[@]} -gt 0 ]] && off+=(PROVE_TESTS="${TAP_FILES[*]}") ;;
    esac
    echo
    echo "=== $suite suite ==="
    if [[ -z "${HAVE[$suite]:-}" ]]; then
        echo "(no $suite tests found: skipped, not counted)"
        RESULT[$suite]=missing
        return 0
    fi
    local rc=0
    as_tester make -C "$WORK" --no-print-directory "${MAKE_ARGS[@]}" "${off[@]}" \
        installcheck 2>&1 | tee "$log" || rc=$?
    if [[ $rc -ne 0 ]]; then
        RESULT[$suite]=failed
    elif grep -Eq 'All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests passed|All tests successful|Result: PASS' "$log"; then
        RESULT[$suite]=passed
    else
        echo "run-tests: $suite: make succeeded but no test ran; not counted" >&2
        RESULT[$suite]=missing
    fi
}

for suite in "${SUITES[@]}"; do
    run_suite "$suite"
done

# ---------------------------------------------------------------------------
# Why did it fail?  Bounded tails of the diffs and logs.
if [[ "${RESULT[regress]:-}" == failed ]]; then
    show_tail "$WORK/regression.diffs"
    show_tail "$WORK/log/postmaster.log" 100
fi
if [[ "${RESULT[isolation]:-}" == failed ]]; then
    show_tail "$WORK/output_iso/regression.diffs"
    show_tail "$WORK/output_iso/log/postmaster.log" 100
fi
if [[ "${RESULT[tap]:-}" == failed ]]; then
    for f in "$WORK"/tmp_check/log/regress_log_*; do show_tail "$f"; done
    for f in "$WORK"/tmp_check/log/*.log; do show_tail "$f" 100; done
fi

echo
for suite in "${SUITES[@]}"; do
    echo "  $suite: ${RESULT[$suite]}"
done
count_suites
if [[ $FAILED -eq 0 && -z "${KEEP_TMP:-}" ]]; then
    OK=1    # nothing to inspect: the temporary tree goes
else
    OK=2    # kept; said here so that the summary stays the last line
    keep_note run-tests "$WORK"
fi
if [[ $PASSED -eq 0 && $FAILED -eq 0 ]]; then
    echo "run-tests: no test suite ran" >&2
fi
summary
[[ $FAILED -eq 0 && $PASSED -gt 0 ]]
