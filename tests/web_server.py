"""A real `tipstaff serve` process on a real SQLite store, with users of every role, for the
API, browser and feed tests."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import httpx

TIPSTAFF = Path(sys.executable).parent / "tipstaff"
EVENTS = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.events.jsonl"))
PASSWORD = "correct-horse-battery"
# user -> (case, role, party); "admin" is an administrator.
USERS = {
    "counsel": ("west-v-dizon", "counsel", "defense-counsel"),
    "coordinator": ("west-v-dizon", "coordinator", "litigation-coordinator"),
    "auditor": ("west-v-dizon", "auditor", None),
    "other-counsel": ("other-case", "counsel", None),
    "fresh-coordinator": ("fresh-case", "coordinator", "litigation-coordinator"),
    "fresh-counsel": ("fresh-case", "counsel", "defense-counsel"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    home: Path
    port: int
    process: subprocess.Popen[str] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPSTAFF_")}
        env.update(TIPSTAFF_HOME=str(self.home), TIPSTAFF_USER_PASSWORD=PASSWORD)
        return env

    def cli(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run([str(TIPSTAFF), *args], capture_output=True, text=True,
                                env=self.env, input=input, timeout=120, check=False)
        if result.returncode not in (0, 1):
            raise AssertionError(f"{args}: {result.returncode}\n{result.stderr}")
        return result.stdout

    def client(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(15)


def _fresh_case_events(today: dt.date) -> str:
    """A case in progress today: documents served a month ago, judgment ten days ago, so the
    return of every page is due (provisionally) in ten days and D-1..D-41 less the withheld
    pages are still out."""
    served = today - dt.timedelta(days=30)
    judgment = today - dt.timedelta(days=10)
    lines = [
        {"case": "fresh-case", "type": "documents_served", "id": "f-served",
         "occurred_at": f"{served.isoformat()}T10:00:00-08:00",
         "data": {"pages": ["D-1..D-28", "D-30..D-37", "D-39..D-41"], "method": "mail",
                  "to": "west", "by": "defense-counsel"}},
        {"case": "fresh-case", "type": "judgment_entered", "id": "f-judgment",
         "occurred_at": judgment.isoformat(), "data": {"docket": "Doc. 80"}},
    ]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def start(home: Path) -> Server:
    """Initialise a store with three cases and every role, then serve it."""
    server = Server(home=home, port=free_port())
    home.mkdir(parents=True, exist_ok=True)
    server.cli("init")
    server.cli("order", "load", "west-v-dizon")
    server.cli("event", "import", EVENTS)
    server.cli("case", "open", "--order", "west-v-dizon", "--case", "other-case")
    server.cli("case", "open", "--order", "west-v-dizon", "--case", "fresh-case")
    fresh = home / "fresh.jsonl"
    fresh.write_text(_fresh_case_events(dt.datetime.now(dt.UTC).date()))
    server.cli("event", "import", str(fresh))
    server.cli("user", "add", "admin", "--name", "Ada Admin", "--admin")
    for user, (case, role, party) in USERS.items():
        server.cli("user", "add", user, "--name", user.replace("-", " ").title())
        server.cli("user", "grant", user, case, role, *(["--party", party] if party else []))
    for user in ("admin", *USERS):
        server.tokens[user] = server.cli("token", "create", user).strip()
    server.process = subprocess.Popen(
        [str(TIPSTAFF), "serve", "--port", str(server.port)], env=server.env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code in (200, 503):
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError("tipstaff serve did not come up")
