#!/usr/bin/env bash
# Creates the Python peers' virtual environment and installs requirements.txt into it.
#
#   bash peers/python/setup.sh
#
# The environment goes to ${FANOUT_PEERS_VENV:-target/peers-venv}; a relative path is
# taken from the repository's root, so it lands under target/, which git ignores.
# Running it again does nothing while the environment holds exactly the pinned
# versions: a copy of requirements.txt and of this script kept inside the environment
# (the stamp) is compared with them, and any difference rebuilds it from scratch.
#
# Exit codes: 0 ready; 3 the Python peers cannot run here (no python3, a python3 older
# than 3.11, a venv that cannot be created, packages that cannot be installed), said in
# one line on stderr, which callers treat as "skip"; anything else is a bug here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
requirements="$here/requirements.txt"

venv="${FANOUT_PEERS_VENV:-target/peers-venv}"
case "$venv" in
/*) ;;
*) venv="$root/$venv" ;;
esac
stamp="$venv/fanout-requirements.txt"

skip() {
    echo "peers/python/setup.sh: $1; skipping the Python peers" >&2
    exit 3
}

command -v python3 >/dev/null 2>&1 || skip "python3 not found"
# asyncio.TaskGroup, used by httpx_taskgroup.py, arrived in Python 3.11.
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    skip "$(python3 -V 2>&1) is older than 3.11"

mkdir -p "$(dirname "$venv")" 2>/dev/null || skip "cannot create $(dirname "$venv")"

# Two set-ups at once (say, two test binaries) would build the same directory: the
# second one waits here, then finds the stamp and returns at once.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    flock 9
fi

# The stamp is what made the environment: requirements.txt and this script, so a change
# to either (a pin, an install flag) rebuilds it.
wanted="$(cat "$requirements" "${BASH_SOURCE[0]}")"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$wanted" ]]; then
    echo "Python peers ready (already): $venv/bin/python"
    exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/fanout-peers-setup.XXXXXX")"
# --clear: an environment whose stamp differs is rebuilt, not patched, so no package
# left over from an older requirements.txt can change what is measured.
python3 -m venv --clear "$venv" >"$log" 2>&1 ||
    skip "python3 -m venv $venv failed (see $log)"
# urllib3-future (niquests' transport) ships a module named urllib3 and, as a wheel,
# replaces the real urllib3 that requests runs on; built from its source with
# URLLIB3_NO_OVERRIDE=1 it installs as urllib3_future only, so the requests peer still
# measures requests on urllib3.
URLLIB3_NO_OVERRIDE=1 "$venv/bin/python" -m pip install --disable-pip-version-check \
    --quiet --timeout 30 --no-binary urllib3-future \
    --requirement "$requirements" >>"$log" 2>&1 ||
    skip "installing requirements.txt into $venv failed (see $log)"
# The check that the override did not happen: requests must import the pinned urllib3.
pinned_urllib3="$(sed -n 's/^urllib3==//p' "$requirements")"
"$venv/bin/python" -c "import sys, urllib3; sys.exit(urllib3.__version__ != '$pinned_urllib3')" ||
    skip "urllib3 in $venv is not the pinned $pinned_urllib3 (urllib3-future replaced it?)"
printf '%s' "$wanted" >"$stamp"
rm -f "$log"
echo "Python peers ready: $venv/bin/python"
