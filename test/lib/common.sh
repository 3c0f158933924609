#!/usr/bin/env bash
# common.sh: helpers shared by the test, demo and demo-stop scripts.
# Source it; it defines PG_CONFIG, BINDIR and as_root.

# Pin PostgreSQL 15 even if other server-dev versions are installed
# (/usr/bin/pg_config follows the newest one).
if [[ -z "${PG_CONFIG:-}" ]]; then
    PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
    [[ -x "$PG_CONFIG" ]] || PG_CONFIG=pg_config
fi
# shellcheck disable=SC2034  # used by the scripts that source this file
BINDIR=$("$PG_CONFIG" --bindir)

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
