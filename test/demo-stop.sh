#!/usr/bin/env bash
# demo-stop.sh: what `make demo-stop` runs. Stops the demo cluster started by
# test/demo.sh (pg_ctl -m fast, as the cluster folder's owner), removes that
# folder (the one ./demo-cluster/location names, under the temporary
# directory) and ./demo-cluster. Does nothing, successfully, when there is no
# demo cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR="$ROOT/demo-cluster"
cd /    # the folder's owner may not reach the clone; every path is absolute

if [[ ! -e "$STATE_DIR" ]]; then
    echo "demo-stop: no demo cluster ($STATE_DIR does not exist)"
    exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/test/lib/common.sh"

# Where the cluster is: the folder demo.sh made (cachealot-demo.XXXXXX), or,
# left by an older demo.sh, ./demo-cluster itself.
DEMO_DIR=""
if [[ -f "$STATE_DIR/location" ]]; then
    DEMO_DIR=$(cat "$STATE_DIR/location")
    if [[ "$DEMO_DIR" != /*/cachealot-demo.* || "$DEMO_DIR" == *..* ]]; then
        echo "demo-stop: $STATE_DIR/location names no demo folder: '$DEMO_DIR'" >&2
        exit 1
    fi
    [[ -d "$DEMO_DIR" ]] || { echo "demo-stop: $DEMO_DIR is gone"; DEMO_DIR=""; }
elif [[ -d "$STATE_DIR/data" ]]; then
    DEMO_DIR=$STATE_DIR
fi

# Run a command as the given user.
as_user() {
    local user=$1
    shift
    if [[ $(id -un) == "$user" ]]; then
        "$@"
    elif [[ $(id -u) -eq 0 ]]; then
        runuser -u "$user" -- "$@"
    else
        sudo -u "$user" -- "$@"
    fi
}

if [[ -n "$DEMO_DIR" ]]; then
    # (no pg_ctl: say so rather than take a running server for a stopped one)
    [[ -n "$BINDIR" ]] || { echo "demo-stop: $PG_CONFIG does not run" >&2; exit 1; }
    # The server runs as the owner of the folder (postgres when demo.sh ran
    # as root).
    OWNER=$(stat -c %U "$DEMO_DIR")

    # pg_ctl status: 0 running, 3 not running, 4 no data directory.
    rc=0
    as_user "$OWNER" "$BINDIR/pg_ctl" -D "$DEMO_DIR/data" status >/dev/null 2>&1 || rc=$?
    if [[ $rc -eq 0 ]]; then
        echo "demo-stop: stopping the demo cluster (port $(cat "$DEMO_DIR/port" 2>/dev/null || echo '?'))"
        as_user "$OWNER" "$BINDIR/pg_ctl" -D "$DEMO_DIR/data" -m fast -w -t 60 stop
    fi

    # A socket directory outside the folder (long paths only: see demo.sh).
    if [[ -f "$DEMO_DIR/socketdir" ]]; then
        sock_dir=$(cat "$DEMO_DIR/socketdir")
        [[ "$sock_dir" == /tmp/cachealot-demo.* ]] && as_user "$OWNER" rm -rf -- "$sock_dir"
    fi

    # The owner can remove what is inside; the folder itself as whoever made
    # it (root or the owner).
    as_user "$OWNER" find "$DEMO_DIR" -mindepth 1 -delete
    rmdir -- "$DEMO_DIR"
    echo "demo-stop: removed $DEMO_DIR"
fi
if [[ "$DEMO_DIR" != "$STATE_DIR" ]]; then
    rm -f -- "$STATE_DIR/location"
    rmdir -- "$STATE_DIR"
fi
