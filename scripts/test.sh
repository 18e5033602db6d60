#!/usr/bin/env sh
# Install everything the test suite needs, then run it. The README's test command.
#   - Debian's chromium, for the browser test that opens rendered reports (tests/test_browser.py)
#   - casekit itself, editable, with the test extras (pytest, ruff, hatchling)
#   - then ruff (lint and format check) and the whole suite
set -eu
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        echo "installing Debian's chromium for the browser test ..."
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -q
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium poppler-utils
    else
        echo "warning: no chromium and no apt-get; the browser test will fail" >&2
    fi
fi

python -m pip install -q -e ".[test]"
echo "ruff: lint and format check ..."
python -m ruff check casekit tests notebooks benchmarks
python -m ruff format --check casekit tests notebooks benchmarks
python -m pytest "$@"
