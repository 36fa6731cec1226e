#!/usr/bin/env bash
# A real SMTP server (aiosmtpd, pinned) for the e-mail channel's tests, in a throwaway virtualenv
# under $CARGO_TARGET_DIR (or target/), made the way run.sh makes python-kis's.
#
#   tests/python/smtp.sh        # prints READY <port>, then a JSON line per message; stops when stdin closes
#
# Prints `SKIPPED: <reason>` and exits 0 when Python 3 or its venv module is missing; the Rust test
# then skips (and fails under CI, where `CI` is set).
set -euo pipefail

AIOSMTPD_VERSION=1.4.6
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${CARGO_TARGET_DIR:-$HERE/../../target}/smtp-python

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIPPED: python3 is not installed"
    exit 0
fi
mkdir -p "$WORK"
VENV=$WORK/venv-aiosmtpd-$AIOSMTPD_VERSION
if [ ! -f "$VENV/.installed" ]; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" >/dev/null 2>&1 || [ ! -x "$VENV/bin/pip" ]; then
        rm -rf "$VENV"
        echo "SKIPPED: python3 -m venv cannot create a virtualenv (Debian: apt-get install python3-venv)"
        exit 0
    fi
    if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION" >&2; then
        rm -rf "$VENV"
        echo "SKIPPED: pip could not install aiosmtpd==$AIOSMTPD_VERSION (no package index reachable?)"
        exit 0
    fi
    touch "$VENV/.installed"
fi
exec "$VENV/bin/python" -u "$HERE/smtp_sink.py"
