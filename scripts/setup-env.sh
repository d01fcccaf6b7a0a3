#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv and installs Tipstaff
# with its development extras. Idempotent; sourced by demo.sh and test.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    py=""
    for candidate in python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))'; then
            py="$candidate"; break
        fi
    done
    if [ -z "$py" ]; then
        echo "tipstaff: Python 3.11 or 3.12 is required (durable-rules 2.0.28 does not build on 3.13)" >&2
        exit 2
    fi
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
# A regular (non-editable) install: the tests then run against exactly what a wheel ships,
# including the rules/ data files.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$root[dev,postgres]"
