"""The web server under 50 concurrent clients, as a real `tipstaff serve` process on SQLite.

A case with 1,000 events; each of C clients (default 50, one thread and one keep-alive
connection each) sends R requests (default 40) back to back. Measured: latency p50/p99 and
requests/s of the status API and of the case page, with GET /static/style.css (no database,
no evaluation: the server's own floor) measured the same way in the same run as the
baseline; then event POST throughput (each POST appends an event, re-evaluates the case
and plans its reminders in one transaction). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_web.py [--clients 50] [--requests 40] [--events 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_evaluate import _case_lines

TIPSTAFF = Path(sys.executable).parent / "tipstaff"
PASSWORD = "bench-password-1"


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run([str(TIPSTAFF), *args], env=env, check=True, capture_output=True,
                          text=True).stdout


def _load(url: str, clients: int, per_client: int, headers: dict[str, str],
          cookies: dict[str, str], method: str = "GET",
          body: Any = None) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        nonlocal failures
        with httpx.Client(headers=headers, cookies=cookies, timeout=60) as http:
            start.wait()
            for k in range(per_client):
                began = time.perf_counter()
                if method == "GET":
                    response = http.get(url)
                else:
                    payload = body(index, k) if callable(body) else body
                    response = http.post(url, json=payload)
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if response.status_code >= 400:
                        failures += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {"requests": len(latencies), "failures": failures,
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
            "per_s": round(len(latencies) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPSTAFF_")}
        env.update(TIPSTAFF_HOME=folder, TIPSTAFF_USER_PASSWORD=PASSWORD,
                   TIPSTAFF_LOG_LEVEL="WARNING")
        _cli(env, "init")
        _cli(env, "case", "open", "--order", "west-v-dizon", "--case", "case-1")
        lines = _case_lines(1, args.events)
        events = Path(folder) / "events.jsonl"
        events.write_text("\n".join(lines) + "\n")
        _cli(env, "event", "import", str(events))
        _cli(env, "user", "add", "bench", "--name", "Bench Counsel")
        _cli(env, "user", "grant", "bench", "case-1", "counsel")
        token = _cli(env, "token", "create", "bench").strip()
        server = subprocess.Popen([str(TIPSTAFF), "serve", "--port", str(args.port),
                                   "--workers", str(args.workers)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            login = httpx.post(f"{base}/login", data={"username": "bench",
                                                      "password": PASSWORD})
            found = re.search(r"tipstaff_session=([^;]+)", login.headers["set-cookie"])
            assert found is not None
            cookies = {"tipstaff_session": found.group(1)}
            bearer = {"Authorization": f"Bearer {token}"}
            # Warm the evaluation cache once, as any first visitor would.
            httpx.get(f"{base}/api/v1/cases/case-1/status", headers=bearer, timeout=60)
            results = {
                "events_in_case": args.events, "clients": args.clients,
                "workers": args.workers,
                "baseline_static_file": _load(f"{base}/static/style.css", args.clients,
                                              args.requests, {}, {}),
                "status_api": _load(f"{base}/api/v1/cases/case-1/status", args.clients,
                                    args.requests, bearer, {}),
                "case_page": _load(f"{base}/cases/case-1", args.clients, args.requests, {},
                                   cookies),
                "event_post": _load(
                    f"{base}/api/v1/cases/case-1/events", args.clients, 4, bearer, {},
                    method="POST", body=lambda i, k: {
                        "type": "document_viewed", "id": f"bench-{i}-{k}",
                        "occurred_at": "2015-08-10T10:00:00-07:00",
                        "data": {"pages": ["D-1"], "by": "west"}}),
            }
            print(json.dumps(results, indent=2))
        finally:
            server.terminate()
            server.wait(15)


if __name__ == "__main__":
    main()
