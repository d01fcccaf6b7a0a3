"""Shared fixtures: the real `tipstaff` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible); local runs explore.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

TIPSTAFF = Path(sys.executable).parent / "tipstaff"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tipstaff(tmp_path: Path) -> Run:
    """Run the installed console script with a clean TIPSTAFF_* environment."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None,
            check: bool = False) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TIPSTAFF_")}
        environ["TIPSTAFF_HOME"] = str(tmp_path / "home")
        environ.update(env or {})
        result = subprocess.run([str(TIPSTAFF), *args], capture_output=True, text=True,
                                env=environ, input=input, timeout=120, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    return run


# Helpers shared by several test modules (tests/web_server.py) are importable by name.
sys.path.insert(0, str(Path(__file__).parent))
