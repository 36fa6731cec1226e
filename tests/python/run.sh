#!/usr/bin/env bash
# Runs the unmodified python-kis against `kiswatch sim` (see pykis_conformance.py).
#
#   tests/python/run.sh PATH/TO/kiswatch
#
# Skips (exit 0, with the reason) when Python 3 or its venv module is missing. Creates a virtualenv
# under $CARGO_TARGET_DIR (or target/), installs the pinned python-kis into it, starts the simulator
# on a free loopback port, runs the script and always stops the simulator.
set -euo pipefail

PYKIS_VERSION=2.1.6
KISWATCH=${1:?usage: run.sh PATH/TO/kiswatch}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${CARGO_TARGET_DIR:-$HERE/../../target}/conformance-python

if ! command -v python3 >/dev/null 2>&1; then
    echo "conformance-python: SKIPPED: python3 is not installed"
    exit 0
fi
if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "conformance-python: SKIPPED: python-kis needs Python 3.10 or newer ($(python3 --version))"
    exit 0
fi

mkdir -p "$WORK"
VENV=$WORK/venv-python-kis-$PYKIS_VERSION
if [ ! -f "$VENV/.installed" ]; then
    rm -rf "$VENV"
    # Debian's python3 without python3-venv has the module but cannot make a venv (no ensurepip).
    if ! python3 -m venv "$VENV" >/dev/null 2>&1 || [ ! -x "$VENV/bin/pip" ]; then
        rm -rf "$VENV"
        echo "conformance-python: SKIPPED: python3 -m venv cannot create a virtualenv (Debian: apt-get install python3-venv)"
        exit 0
    fi
    # python-kis 2.1.6 imports typing_extensions without declaring it as a dependency.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "python-kis==$PYKIS_VERSION" typing-extensions
    touch "$VENV/.installed"
fi

LOG=$(mktemp "$WORK/sim.XXXXXX.log")
"$KISWATCH" sim --bind 127.0.0.1:0 > "$LOG" 2>&1 &
SIM_PID=$!
cleanup() {
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    rm -f "$LOG"
}
trap cleanup EXIT

# The banner names the bound port and the demo credentials; it is printed once the port is bound.
for _ in $(seq 1 100); do
    grep -q '^  KIS_APP_SECRET=' "$LOG" && break
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$LOG"; echo "conformance-python: the simulator exited"; exit 1; }
    sleep 0.1
done
grep -q '^  KIS_APP_SECRET=' "$LOG" || { cat "$LOG"; echo "conformance-python: no simulator banner"; exit 1; }

REST=$(sed -n 's/^  REST *//p' "$LOG")
export KIS_SIM_REST=$REST
export KIS_SIM_WS=${REST/http:/ws:}
export KIS_APP_KEY=$(sed -n 's/^  KIS_APP_KEY=//p' "$LOG")
export KIS_APP_SECRET=$(sed -n 's/^  KIS_APP_SECRET=//p' "$LOG")
echo "conformance-python: python-kis $PYKIS_VERSION against $KIS_SIM_REST"
"$VENV/bin/python" "$HERE/pykis_conformance.py"
