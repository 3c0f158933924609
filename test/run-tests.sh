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
# Environment: PG_CONFIG (default: PostgreSQL 15's pg_config), KEEP_TMP=1 keeps
# the temporary copy even on success.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source-path=SCRIPTDIR source=lib/ensure-deps.sh
source "$ROOT/test/lib/ensure-deps.sh"
ensure_deps

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/test/lib/common.sh"
MAKE_ARGS=(PG_CONFIG="$PG_CONFIG")

# Same locale everywhere: a bare CI container has no LANG, which would give the
# temporary clusters SQL_ASCII instead of UTF8.
export LANG="${LANG:-C.UTF-8}"

SUITES=(regress isolation tap)
declare -A RESULT=()   # suite -> passed | failed | missing
WORK=""
PASSED=0 FAILED=0
OK=0                   # 0 running, 1 no suite failed (remove the tree), 2 failures

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

keep_note() { echo "run-tests: test tree kept for inspection: $WORK" >&2; }

cleanup() {
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ $OK -eq 1 && -z "${KEEP_TMP:-}" ]]; then
            rm -rf -- "$WORK"
        elif [[ $OK -eq 0 ]]; then
            keep_note    # stopped early: an error or an interruption
        fi
    fi
}
trap cleanup EXIT
trap 'echo "run-tests: interrupted" >&2; exit 130' INT TERM

# Run a command as the unprivileged test user, with the server binaries first
# in PATH (runuser keeps the rest of the environment).
as_tester() {
    if [[ $(id -u) -eq 0 ]]; then
        # root's TMPDIR may be out of postgres' reach: TAP tests use /tmp.
        runuser -u postgres -- env -u TMPDIR PATH="$BINDIR:$PATH" "$@"
    else
        env PATH="$BINDIR:$PATH" "$@"
    fi
}

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
    [[ $n -gt 0 ]] || RESULT[regress]=failed
    summary
    exit 1
}

echo "=== build ($PG_CONFIG) ==="
make -j"$(nproc)" "${MAKE_ARGS[@]}" || build_failed "make"

echo "=== install ==="
as_root make "${MAKE_ARGS[@]}" install || build_failed "make install"

# ---------------------------------------------------------------------------
# A private copy of the source tree for the unprivileged user: no .git, no
# build outputs, no leftovers of earlier runs or of the demo cluster.
# As root, under /tmp: postgres must be able to reach it.
if [[ $(id -u) -eq 0 ]]; then tmp_base=/tmp; else tmp_base=${TMPDIR:-/tmp}; fi
WORK=$(mktemp -d "$tmp_base/cachealot-test.XXXXXX")
tar -C "$ROOT" -cf - \
    --exclude=./.git --exclude=./demo-cluster --exclude='./tmp_check*' \
    --exclude=./output_iso --exclude=./results --exclude=./log \
    --exclude='./regression.*' \
    --exclude='*.o' --exclude='*.so' --exclude='*.bc' . |
    tar -C "$WORK" -xf -
if [[ $(id -u) -eq 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "run-tests: the postgres system user does not exist" >&2
        exit 1
    fi
    chown -R postgres: "$WORK"
fi

# Run one suite: `make installcheck` with the other suites switched off.
run_suite() {
    local suite=$1 log="$WORK/run-tests-$1.log"
    local -a off=()
    case $suite in
        regress)   off=(ISOLATION= TAP_TESTS=) ;;
        isolation) off=(REGRESS= TAP_TESTS=) ;;
        tap)       off=(REGRESS= ISOLATION=) ;;
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
if [[ "${RESULT[regress]}" == failed ]]; then
    show_tail "$WORK/regression.diffs"
    show_tail "$WORK/log/postmaster.log" 100
fi
if [[ "${RESULT[isolation]}" == failed ]]; then
    show_tail "$WORK/output_iso/regression.diffs"
    show_tail "$WORK/output_iso/log/postmaster.log" 100
fi
if [[ "${RESULT[tap]}" == failed ]]; then
    for f in "$WORK"/tmp_check/log/regress_log_*; do show_tail "$f"; done
    for f in "$WORK"/tmp_check/log/*.log; do show_tail "$f" 100; done
fi

echo
for suite in "${SUITES[@]}"; do
    echo "  $suite: ${RESULT[$suite]}"
done
count_suites
if [[ $FAILED -eq 0 ]]; then
    OK=1    # nothing to inspect: the temporary tree goes (unless KEEP_TMP)
else
    OK=2    # kept; said here so that the summary stays the last line
fi
[[ $OK -eq 2 || -n "${KEEP_TMP:-}" ]] && keep_note
if [[ $PASSED -eq 0 && $FAILED -eq 0 ]]; then
    echo "run-tests: no test suite ran" >&2
fi
summary
[[ $FAILED -eq 0 && $PASSED -gt 0 ]]
