#!/usr/bin/env bash
# The whole test suite: lint, types, then every test. Fails when no test ran (pytest exit 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
cd "$root"
.venv/bin/ruff check app engine rules store scheduler tests bench scripts
.venv/bin/mypy --python-executable .venv/bin/python -p tipstaff
exec .venv/bin/pytest "$@"
