#!/usr/bin/env bash
# common.sh: the shell pieces every test, demo and benchmark script needs,
# written once. Source it (it also sources ensure-deps.sh); then, in order:
#
#   prepare_environment                missing packages (CACHEALOT_DEPS),
#                                      BINDIR, LANG
#   build_and_install                  make, then make install (as root)
#   copy_tree_for_tester NAME          a copy of the tree the tester can use
#   as_tester COMMAND...               run as the tester: postgres under root
#
# and as needed build_and_install_quiet, tester_tmpdir, give_to_tester,
# as_root, finish_work_dir, keep_note and set_cleanup_trap. Sourcing it
# defines PG_CONFIG, MAKE_ARGS, TESTER, and BINDIR when that pg_config runs
# (demo-stop.sh needs no more).
#
# PostgreSQL refuses to run as root. Run as root, every server and every test
# runs as the `postgres` system user (TESTER), in a directory under /tmp that
# it owns: root's own TMPDIR, home or clone may be out of its reach (mode
# 0700). Run as anyone else, as that user, under $TMPDIR (default /tmp).

# shellcheck source-path=SCRIPTDIR source=ensure-deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/ensure-deps.sh"

# Pin PostgreSQL 15 even if other server-dev versions are installed
# (/usr/bin/pg_config follows the newest one).
if [[ -z "${PG_CONFIG:-}" ]]; then
    PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
    [[ -x "$PG_CONFIG" ]] || PG_CONFIG=pg_config
fi
# Empty until the packages are there (prepare_environment sets it for sure).
BINDIR=$("$PG_CONFIG" --bindir 2>/dev/null) || BINDIR=""
# shellcheck disable=SC2034  # used by the scripts that source this file
MAKE_ARGS=(PG_CONFIG="$PG_CONFIG")

# The unprivileged user the servers and tests run as.
# shellcheck disable=SC2034  # used by the scripts that source this file
if [[ $(id -u) -eq 0 ]]; then TESTER=postgres; else TESTER=$(id -un); fi

# prepare_environment: the preamble of every script. Installs the missing
# build and test packages (ensure-deps.sh's CACHEALOT_DEPS: add a script's
# own after sourcing this file, which sets the list), then sets BINDIR from PG_CONFIG and the same locale
# everywhere: a bare CI container has no LANG, which would give the clusters
# SQL_ASCII, not UTF8.
prepare_environment() {
    ensure_deps
    BINDIR=$("$PG_CONFIG" --bindir) ||
        { echo "${0##*/}: $PG_CONFIG --bindir failed" >&2; return 1; }
    export LANG="${LANG:-C.UTF-8}"
}

# Run a command with root rights (make install), through sudo if needed.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "${0##*/}: need root (or sudo) for: $*" >&2
        return 1
    fi
}

# Run a command as TESTER, with the server binaries first in PATH (runuser
# keeps the rest of the environment, such as a test's settings). Pass
# absolute paths: as root, when postgres cannot reach the current directory
# (a clone in root's home or in a mktemp -d), the command starts in /, else
# PostgreSQL's programs warn "could not change directory to ...".
as_tester() {
    if [[ $(id -u) -eq 0 ]]; then
        local -a cd=()
        runuser -u postgres -- test -x "$PWD" 2>/dev/null || cd=(-C /)
        # root's TMPDIR may be out of postgres' reach: TAP tests use /tmp.
        runuser -u postgres -- env -u TMPDIR "${cd[@]}" PATH="$BINDIR:$PATH" "$@"
    else
        env PATH="$BINDIR:$PATH" "$@"
    fi
}

# build_and_install: make (warnings visible) and make install (as root or
# through sudo), for PG_CONFIG. build_and_install_quiet: the same with make
# -s, the output discarded and no headers. On failure both return 1 with
# BUILD_FAILED set to the step that failed ("make" or "make install").
BUILD_FAILED=""
build_and_install() { build_steps 0; }
build_and_install_quiet() { build_steps 1; }
# shellcheck disable=SC2034  # BUILD_FAILED is read by the scripts
build_steps() {
    if [[ $1 -eq 1 ]]; then
        make -s -j"$(nproc)" "${MAKE_ARGS[@]}" >/dev/null ||
            { BUILD_FAILED="make"; return 1; }
        as_root make -s "${MAKE_ARGS[@]}" install >/dev/null ||
            { BUILD_FAILED="make install"; return 1; }
    else
        echo "=== build ($PG_CONFIG) ==="
        make -j"$(nproc)" "${MAKE_ARGS[@]}" || { BUILD_FAILED="make"; return 1; }
        echo "=== install ==="
        as_root make "${MAKE_ARGS[@]}" install || { BUILD_FAILED="make install"; return 1; }
    fi
}

# tester_tmpdir NAME [BASE]: make a new directory BASE/NAME.XXXXXX (mode 0700)
# and print its path. BASE defaults to /tmp as root, else to $TMPDIR or /tmp.
# As root the directory is given to postgres, and what root puts in it later
# wants give_to_tester.
tester_tmpdir() {
    local name=$1 base=${2:-} dir
    if [[ -z "$base" ]]; then
        if [[ $(id -u) -eq 0 ]]; then base=/tmp; else base=${TMPDIR:-/tmp}; fi
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        echo "${0##*/}: the postgres system user does not exist" >&2
        return 1
    fi
    # (run in $(...), where set -e does not hold: each step is checked)
    dir=$(mktemp -d "$base/$name.XXXXXX") || return 1
    give_to_tester "$dir" || return 1
    echo "$dir"
}

# give_to_tester PATH...: as root, make PATHs (recursively) postgres'.
give_to_tester() {
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres: "$@"
    fi
}

# copy_tree_for_tester NAME: a private copy of the source tree for TESTER, in
# a new tester_tmpdir NAME; prints its path. No .git, no build outputs, no
# leftovers of earlier runs or of the demo.
copy_tree_for_tester() {
    local root dir
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    dir=$(tester_tmpdir "$1") || return 1
    if ! tar -C "$root" -cf - \
            --exclude=./.git --exclude=./demo-cluster --exclude='./tmp_check*' \
            --exclude=./output_iso --exclude=./results --exclude=./log \
            --exclude='./regression.*' \
            --exclude='*.o' --exclude='*.so' --exclude='*.bc' . |
            tar -C "$dir" -xf - || ! give_to_tester "$dir"; then
        rm -rf -- "$dir"
        return 1
    fi
    echo "$dir"
}

# keep_note LABEL DIR: say that DIR is kept for inspection.
keep_note() { echo "$1: kept for inspection: $2" >&2; }

# finish_work_dir LABEL DIR OK: what a script's EXIT trap does with its work
# directory. OK 1 (success): remove it, unless KEEP_TMP is set (then say it
# is kept); OK 0 (stopped early: an error or an interruption): keep it and
# say so; OK 2: keep it silently (the script has said so itself).
finish_work_dir() {
    local label=$1 dir=$2 ok=$3
    [[ -n "$dir" && -d "$dir" ]] || return 0
    if [[ $ok -eq 1 && -z "${KEEP_TMP:-}" ]]; then
        rm -rf -- "$dir"
    elif [[ $ok -ne 2 ]]; then
        keep_note "$label" "$dir"
    fi
}

# set_cleanup_trap LABEL FUNCTION: FUNCTION runs on exit; an interruption
# (INT, TERM) says "LABEL: interrupted" and exits with 130, through FUNCTION.
set_cleanup_trap() {
    # shellcheck disable=SC2064  # expanded now, on purpose
    trap "$2" EXIT
    # shellcheck disable=SC2064
    trap "echo '$1: interrupted' >&2; exit 130" INT TERM
}
