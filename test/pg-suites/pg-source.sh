#!/usr/bin/env bash
# pg-source.sh: fetch (once) and cache PostgreSQL 15's Debian source package,
# and the psql of the same version. Sourced by test/pg-suites/run.sh.
#
# Everything goes through a PRIVATE apt configuration: a sources list of our
# own (deb + deb-src lines for the Debian mirrors the system's apt already
# uses), private package lists and a private download cache, all under
# $PG_SRC_CACHE/apt. The system's apt configuration and state are not touched.
#
#   $PG_SRC_CACHE/apt/                 sources.list, lists/, cache/
#   $PG_SRC_CACHE/source/<debver>/     apt-get source output; the tree is
#                                      postgresql-15-<upstream>/ (.complete
#                                      marks a finished unpack)
#   $PG_SRC_CACHE/client/<debver>/     postgresql-client-15_<debver>.deb
#                                      unpacked with dpkg-deb -x into root/
#   $PG_SRC_CACHE/chosen-<server debver>  the source version picked for that
#                                      server, so that a later run reuses it
#                                      without asking apt anything
#
# Defines: pg_source_fetch SERVER_DEBVER (sets PG_SRC_DIR, PG_SRC_VERSION)
#          pg_client_fetch DEBVER        (sets PG_OLD_PSQL, or "" if missing)

# shellcheck disable=SC2034  # PG_SRC_DIR, PG_SRC_VERSION, PG_OLD_PSQL: for run.sh

PG_SRC_CACHE=${PG_SRC_CACHE:-/var/tmp/cachealot-pg-src}
PG_SRC_PKG=postgresql-15
PG_CLIENT_PKG=postgresql-client-15
PG_SRC_APT_UPDATED=0

pgsrc_log() { echo "pg-suites: $*" >&2; }

# The apt options that make apt-get/apt-cache use only our private files.
pgsrc_apt_opts() {
    local a=$PG_SRC_CACHE/apt
    printf '%s\n' \
        -o "Dir::Etc::SourceList=$a/sources.list" \
        -o "Dir::Etc::SourceParts=/dev/null" \
        -o "Dir::State::Lists=$a/lists" \
        -o "Dir::Cache=$a/cache" \
        -o "Dir::Cache::pkgcache=" \
        -o "Dir::Cache::srcpkgcache=" \
        -o "APT::Get::List-Cleanup=0"
}

pgsrc_apt() {   # pgsrc_apt apt-get|apt-cache ARGS...
    local tool=$1; shift
    local -a opts
    mapfile -t opts < <(pgsrc_apt_opts)
    "$tool" "${opts[@]}" "$@"
}

# Write the private sources list: for each Debian repository the system's apt
# uses (apt-get indextargets: deb822 and one-line files alike), a deb and a
# deb-src line for the same URI, suite and component.
pgsrc_write_sources() {
    local list=$PG_SRC_CACHE/apt/sources.list tmp signed="" uri rel comp of origin
    # shellcheck disable=SC2016  # apt-get expands $(FIELD) itself
    local fmt='$(REPO_URI)|$(RELEASE)|$(COMPONENT)|$(TARGET_OF)|$(ORIGIN)'
    [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
        signed=" [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
    tmp=$(mktemp "$list.XXXXXX")
    chmod 644 "$tmp"
    {
        echo "# written by test/pg-suites/pg-source.sh from the system's apt sources"
        while IFS='|' read -r uri rel comp of origin; do
            [[ $of == deb ]] || continue
            # Debian's own archives only (a third-party repository has no
            # postgresql-15 source and may not serve deb-src at all).
            if [[ -n $origin ]]; then
                [[ $origin == Debian ]] || continue
            else
                [[ $uri == */debian/ || $uri == */debian-security/ || $uri == *debian.org* ]] || continue
            fi
            echo "deb$signed $uri $rel $comp"
            echo "deb-src$signed $uri $rel $comp"
        done < <(apt-get indextargets --format "$fmt" | sort -u)
    } >"$tmp"
    if ! grep -q '^deb-src' "$tmp"; then
        rm -f "$tmp"
        pgsrc_log "no Debian repository found in the system's apt sources"
        return 1
    fi
    mv "$tmp" "$list"
}

pgsrc_apt_update() {
    [[ $PG_SRC_APT_UPDATED -eq 1 ]] && return 0
    mkdir -p "$PG_SRC_CACHE/apt/lists/partial" "$PG_SRC_CACHE/apt/cache/archives/partial"
    pgsrc_write_sources || return 1
    pgsrc_log "private apt-get update ($PG_SRC_CACHE/apt/sources.list)"
    pgsrc_apt apt-get -q update >"$PG_SRC_CACHE/apt/update.log" 2>&1 || {
        cat "$PG_SRC_CACHE/apt/update.log" >&2
        return 1
    }
    PG_SRC_APT_UPDATED=1
}

# A download directory apt's sandbox user can write to (else apt-get source
# as root warns "Download is performed unsandboxed as root").
pgsrc_dl_dir() {
    mkdir -p "$1"
    chmod 755 "$1"
    if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then
        chown _apt:root "$1"
    fi
}

# Versions of $1 offered by the private lists, newest first.
pgsrc_versions_newest_first() {   # KIND(showsrc|policy) PACKAGE
    local -a vs=()
    local v i j t
    if [[ $1 == showsrc ]]; then
        mapfile -t vs < <(pgsrc_apt apt-cache showsrc "$2" 2>/dev/null |
            awk -v p="$2" '/^Package: /{ok=($2==p)} ok && /^Version: /{print $2}' | sort -u)
    else
        mapfile -t vs < <(pgsrc_apt apt-cache madison "$2" 2>/dev/null |
            awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -u)
    fi
    # dpkg's ordering (a few versions: a plain insertion sort)
    for ((i = 1; i < ${#vs[@]}; i++)); do
        for ((j = i; j > 0; j--)); do
            if dpkg --compare-versions "${vs[j]}" gt "${vs[j-1]}"; then
                t=${vs[j]}; vs[j]=${vs[j-1]}; vs[j-1]=$t
            else
                break
            fi
        done
    done
    [[ ${#vs[@]} -gt 0 ]] && printf '%s\n' "${vs[@]}"
    return 0
}

pgsrc_tree_of() {   # DEBVER -> the unpacked tree, if complete
    local d=$PG_SRC_CACHE/source/$1 up=${1%%-*}
    up=${up#*:}
    [[ -f "$d/postgresql-15-$up/.complete" ]] && echo "$d/postgresql-15-$up"
}

# apt-get source one version into the cache; 0 on success.
pgsrc_get_source() {   # DEBVER
    local v=$1 d=$PG_SRC_CACHE/source/$1 up
    up=${v%%-*}; up=${up#*:}
    rm -rf "$d"
    pgsrc_dl_dir "$d"
    pgsrc_log "apt-get source $PG_SRC_PKG=$v"
    if (cd "$d" && pgsrc_apt apt-get -q source --only-source "$PG_SRC_PKG=$v") \
        >"$d.log" 2>&1 && [[ -f "$d/postgresql-15-$up/src/test/regress/parallel_schedule" ]]; then
        touch "$d/postgresql-15-$up/.complete"
        # the .orig tarball is not needed any more
        rm -f "$d"/*.orig.tar.* "$d"/*.debian.tar.* "$d"/*.dsc
        return 0
    fi
    pgsrc_log "  failed: $(grep -E '^(E|W):' "$d.log" | head -n 3 | tr '\n' ' ')"
    rm -rf "$d"
    return 1
}

# Sets PG_SRC_DIR and PG_SRC_VERSION. Prefers the server's own version; if
# the mirror does not serve that source any more, takes the newest it has.
pg_source_fetch() {   # SERVER_DEBVER
    local want=$1 chosen=$PG_SRC_CACHE/chosen-$1 v tree
    mkdir -p "$PG_SRC_CACHE"
    chmod 755 "$PG_SRC_CACHE"
    if [[ -f "$chosen" ]]; then
        v=$(cat "$chosen")
        if tree=$(pgsrc_tree_of "$v"); then
            PG_SRC_DIR=$tree PG_SRC_VERSION=$v
            pgsrc_log "PostgreSQL source $v: cached in $tree"
            return 0
        fi
    fi
    pgsrc_apt_update || return 1
    local -a cands=("$want")
    mapfile -t -O 1 cands < <(pgsrc_versions_newest_first showsrc "$PG_SRC_PKG" | grep -vxF "$want")
    for v in "${cands[@]}"; do
        if tree=$(pgsrc_tree_of "$v") || { pgsrc_get_source "$v" && tree=$(pgsrc_tree_of "$v"); }; then
            echo "$v" >"$chosen"
            PG_SRC_DIR=$tree PG_SRC_VERSION=$v
            [[ $v == "$want" ]] ||
                pgsrc_log "NOTE: the mirror has no source for the server's version $want; using $v"
            return 0
        fi
    done
    pgsrc_log "could not fetch any $PG_SRC_PKG source (tried: ${cands[*]})"
    return 1
}

# Sets PG_OLD_PSQL to the psql of postgresql-client-15=DEBVER, downloaded
# (not installed) and unpacked with dpkg-deb -x; "" if the mirror lacks it.
pg_client_fetch() {   # DEBVER
    local v=$1 d=$PG_SRC_CACHE/client/$1 psql
    psql=$d/root/usr/lib/postgresql/15/bin/psql
    PG_OLD_PSQL=""
    if [[ -f "$d/.complete" && -x "$psql" ]]; then
        PG_OLD_PSQL=$psql
        return 0
    fi
    pgsrc_apt_update || return 0
    rm -rf "$d"
    pgsrc_dl_dir "$d"
    pgsrc_log "apt-get download $PG_CLIENT_PKG=$v"
    if (cd "$d" && pgsrc_apt apt-get -q download "$PG_CLIENT_PKG=$v") >"$d.log" 2>&1 &&
        dpkg-deb -x "$d/${PG_CLIENT_PKG}_${v#*:}_"*.deb "$d/root" && [[ -x "$psql" ]]; then
        rm -f "$d"/*.deb
        touch "$d/.complete"
        PG_OLD_PSQL=$psql
        return 0
    fi
    pgsrc_log "  failed: $(grep -E '^(E|W):' "$d.log" | head -n 3 | tr '\n' ' ')"
    rm -rf "$d"
    return 0
}
