#!/usr/bin/env bash
# ensure-deps.sh: make sure the Debian packages needed to build and test
# cachealot are installed; install the missing ones with apt-get.
#
# Idempotent and fast (one dpkg-query) when everything is present.
# Installing postgresql-15 on Debian creates and starts a "main" cluster on
# port 5432; we leave it alone and never depend on it.
#
# Usage: bash test/lib/ensure-deps.sh   (or source it and call ensure_deps)
set -euo pipefail

CACHEALOT_DEPS=(postgresql-15 postgresql-server-dev-15 libipc-run-perl make gcc)

# Print the packages of CACHEALOT_DEPS that are not installed, one a line.
missing_deps() {
    local pkg installed
    # A package dpkg never heard of is reported on stderr, absent from stdout.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
        "${CACHEALOT_DEPS[@]}" 2>/dev/null || true)
    for pkg in "${CACHEALOT_DEPS[@]}"; do
        grep -qxF "$pkg installed" <<<"$installed" || echo "$pkg"
    done
}

ensure_deps() {
    local -a missing sudo=()

    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "ensure-deps: dpkg-query not found: only Debian/Ubuntu is supported;" >&2
        echo "ensure-deps: install by hand: ${CACHEALOT_DEPS[*]}" >&2
        return 1
    fi

    mapfile -t missing < <(missing_deps)
    [[ ${#missing[@]} -eq 0 ]] && return 0

    echo "ensure-deps: installing missing packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "ensure-deps: not root and sudo is not available; as root run:" >&2
            echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
            return 1
        fi
    fi

    # --no-install-recommends keeps a fresh CI machine's install short; every
    # hard dependency (clang/llvm for PGXS bitcode, libpq, the client) still comes.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"

    # Double-check: a held or broken package can leave apt-get "successful".
    mapfile -t missing < <(missing_deps)
    if [[ ${#missing[@]} -ne 0 ]]; then
        echo "ensure-deps: still not installed after apt-get: ${missing[*]}" >&2
        return 1
    fi
    echo "ensure-deps: all dependencies installed"
}

# Run when executed; when sourced, the caller calls ensure_deps itself.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    ensure_deps
fi
