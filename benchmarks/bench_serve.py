"""Benchmark: the checking page's API under 50 concurrent clients on loopback, against the pool alone.

    python benchmarks/bench_serve.py            # 50 clients × 8 checks
    python benchmarks/bench_serve.py --quick    # 50 clients × 1 check, for CI

The same labelled answers go once straight into a CheckPool (the baseline: checks/s with no HTTP)
and once through `POST /api/check` of a server on 127.0.0.1, from 50 client threads at once, each
with its own connection. Prints throughput as a ratio of the pool's own, the p50 and p95 latency,
and how many requests failed or got a wrong verdict. Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_check import ANSWERS

CLIENTS = 50
DEADLINE = 300.0  # seconds for the whole run: the clients stop by themselves


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client(port: int, jobs: list, stop_at: float) -> list:
    """(seconds, ok) per request, on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    for target, wrt, answer, right in jobs:
        if time.monotonic() > stop_at:
            break
        body = json.dumps({"target": target, "wrt": wrt, "answer": answer})
        start = time.monotonic()
        try:
            conn.request("POST", "/api/check", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = json.loads(response.read())
            ok = response.status == 200 and (data["verdict"] == "correct") == right
        except (OSError, http.client.HTTPException, ValueError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            ok = False
        out.append((time.monotonic() - start, ok))
    conn.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    per_client = 1 if args.quick else 8
    os.environ["DERIVE_NO_CACHE"] = "1"

    import uvicorn

    from derive.check.pool import CheckPool
    from derive.check.task import Task, request
    from derive.serve.app import Limits, create_app

    workers = os.cpu_count() or 1
    tasks = [ANSWERS[n % len(ANSWERS)] for n in range(CLIENTS * per_client)]
    with CheckPool(workers=workers) as pool:
        list(pool.map([Task(request(t, w), a) for t, w, a, _ in ANSWERS]))  # warm: every derivation built once
        start = time.monotonic()
        verdicts = list(pool.map([Task(request(t, w), a) for t, w, a, _ in tasks]))
        pool_rate = len(tasks) / (time.monotonic() - start)
        pool_wrong = sum((v.verdict == "correct") != right for v, (*_, right) in zip(verdicts, tasks))

        port = _port()
        limits = Limits(workers=workers, burst=10_000, rate=10_000.0, queue=CLIENTS * 2)
        server = uvicorn.Server(uvicorn.Config(create_app([], limits, pool=pool), host="127.0.0.1", port=port,
                                               log_level="error", limit_concurrency=CLIENTS * 4))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        jobs = [tasks[c::CLIENTS] for c in range(CLIENTS)]
        stop_at = time.monotonic() + DEADLINE
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=CLIENTS) as ex:
            results = [r for rs in ex.map(lambda j: _client(port, j, stop_at), jobs) for r in rs]
        elapsed = time.monotonic() - start
        server.should_exit = True
        thread.join(timeout=10)

    latencies = sorted(s for s, _ in results)
    failed = sum(not ok for _, ok in results)
    http_rate = len(results) / elapsed
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(f"{'':34} {'requests':>9} {'checks/s':>9} {'ratio':>7} {'p50 s':>7} {'p95 s':>7} {'failed':>7}")
    print(f"{'pool alone (baseline)':34} {len(tasks):>9} {pool_rate:>9.1f} {1.0:>7.2f} {'':>7} {'':>7} "
          f"{pool_wrong:>7}")
    print(f"{f'POST /api/check, {CLIENTS} clients':34} {len(results):>9} {http_rate:>9.1f} "
          f"{http_rate / pool_rate:>7.2f} {statistics.median(latencies):>7.2f} {p95:>7.2f} {failed:>7}")
    print(f"goal: 0 failed; {workers} workers on {os.cpu_count()} cores")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
