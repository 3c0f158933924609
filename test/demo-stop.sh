#!/usr/bin/env bash
# demo-stop.sh: what `make demo-stop` runs. Stops the demo cluster started by
# test/demo.sh (pg_ctl -m fast, as the folder's owner) and removes
# ./demo-cluster. Does nothing, successfully, when there is no demo cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO_DIR="$ROOT/demo-cluster"
DATA="$DEMO_DIR/data"

if [[ ! -e "$DEMO_DIR" ]]; then
    echo "demo-stop: no demo cluster in $DEMO_DIR"
    exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$ROOT/test/lib/common.sh"

# The server runs as the owner of the folder (postgres when demo.sh ran as root).
OWNER=$(stat -c %U "$DEMO_DIR")

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

# pg_ctl status: 0 running, 3 not running, 4 no data directory.
rc=0
as_user "$OWNER" "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1 || rc=$?
if [[ $rc -eq 0 ]]; then
    echo "demo-stop: stopping the demo cluster (port $(cat "$DEMO_DIR/port" 2>/dev/null || echo '?'))"
    as_user "$OWNER" "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop
fi

# A socket directory outside the folder (long paths only: see demo.sh).
if [[ -f "$DEMO_DIR/socketdir" ]]; then
    sock_dir=$(cat "$DEMO_DIR/socketdir")
    [[ "$sock_dir" == /tmp/cachealot-demo.* ]] && as_user "$OWNER" rm -rf -- "$sock_dir"
fi

# The folder's owner can remove what is inside; the folder itself sits in the
# repo, so remove it as whoever runs this (root or the repo's owner).
as_user "$OWNER" find "$DEMO_DIR" -mindepth 1 -delete
rmdir -- "$DEMO_DIR"
echo "demo-stop: removed $DEMO_DIR"
