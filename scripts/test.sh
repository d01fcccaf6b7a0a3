#!/usr/bin/env bash
# The whole test suite: lint, types, then every test. Fails when no test ran (pytest exit 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
# The browser tests drive Debian's chromium (never a browser downloaded at run time).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
        && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null; }
fi
cd "$root"
.venv/bin/ruff check app engine rules store scheduler tests bench scripts
.venv/bin/mypy --python-executable .venv/bin/python -p tipstaff
exec .venv/bin/pytest "$@"
