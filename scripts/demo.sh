#!/usr/bin/env bash
# Tipstaff's main job on the embedded default: set up, then show West v. Dizon's dates with
# their derivations. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
exec "$root/.venv/bin/python" "$root/scripts/demo.py"
