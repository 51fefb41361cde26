"""Load on a real server on loopback: throughput and latency under concurrent clients, 503s,
health latency while the largest allowed run is computed and sent, and the server's memory.

The server runs in its own process (``optiscope serve``), so its resident memory (RSS, read
from /proc) is its own. Every request goes to 127.0.0.1; loops are bounded in count and time.

1. Bursts: C clients at once, each streaming the page's default comparison (7 optimizers x 500
   steps on Rosenbrock, typed): runs per second, p50/p95 latency, 503s (with Retry-After).
2. The largest run the default budget allows, as one JSON answer (2000 starts x 1999 steps,
   every point: 4M points), while /api/health is polled every 50 ms: health p50/p95/max.
3. RSS: at start, after the bursts and the largest run, and after N identical runs.

Usage: python bench/load.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.local_server import free_port

DEFAULT_COMPARISON = {
    "landscape": {"id": "rosenbrock"},
    "steps": 500,
    "series": [
        {"optimizer": o, "hparams": {"lr": 1e-3}}
        for o in ("ano", "anolog", "anon", "andi", "yogi", "adam", "sgd")
    ],
}
LARGEST_RUN = {
    "landscape": {"id": "rosenbrock"},
    "starts": {"grid": {"x": [-2, 2, 50], "y": [-1, 3, 40]}},
    "steps": 1999,
    "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}],
}
SSE = {"Accept": "text/event-stream"}


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "OPTISCOPE_PORT": str(port), "OPTISCOPE_HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def one_stream(url: str) -> tuple[int, float]:
    """(status, seconds) of one streamed default comparison, read to its end."""
    start = time.perf_counter()
    with httpx.stream(
        "POST",
        f"{url}/api/runs",
        json=DEFAULT_COMPARISON,
        params={"encoding": "typed"},
        headers=SSE,
        timeout=120,
    ) as response:
        for _ in response.iter_raw():
            pass
        if response.status_code == 503:
            assert int(response.headers["Retry-After"]) >= 1
    return response.status_code, time.perf_counter() - start


def burst(url: str, clients: int) -> None:
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: one_stream(url), range(clients)))
    wall = time.perf_counter() - start
    served = [seconds for status, seconds in results if status == 200]
    refused = sum(1 for status, _ in results if status == 503)
    other = len(results) - len(served) - refused
    print(
        f"   {clients:>3} clients: {len(served) / wall:6.2f} runs/s   "
        f"p50 {statistics.median(served):6.2f} s   p95 {percentile(served, 0.95):6.2f} s   "
        f"503s {refused:>3}   other {other}"
    )


def largest_run_with_health(url: str) -> None:
    done = threading.Event()
    outcome: dict[str, float] = {}

    def run() -> None:
        start = time.perf_counter()
        response = httpx.post(f"{url}/api/runs", json=LARGEST_RUN, timeout=300)
        outcome["status"] = response.status_code
        outcome["seconds"] = time.perf_counter() - start
        outcome["mb"] = len(response.content) / 1e6
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while not done.is_set():
            start = time.perf_counter()
            client.get("/api/health")
            latencies.append(time.perf_counter() - start)
            time.sleep(0.05)
    thread.join()
    print(
        f"   run: status {outcome['status']:.0f}, {outcome['seconds']:.1f} s, "
        f"{outcome['mb']:.0f} MB of JSON (decompressed)"
    )
    print(
        f"   /api/health meanwhile ({len(latencies)} polls): p50 "
        f"{statistics.median(latencies) * 1e3:.1f} ms   p95 "
        f"{percentile(latencies, 0.95) * 1e3:.1f} ms   max {max(latencies) * 1e3:.1f} ms "
        "(target < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clients and repeats")
    args = parser.parse_args()
    process, url = start_server()
    try:
        baseline = rss_mb(process.pid)
        one_stream(url)  # warm-up: imports, caches, the first run's allocations
        warm = rss_mb(process.pid)
        print(f"server pid {process.pid}: RSS at start {baseline:.0f} MB, warm {warm:.0f} MB")

        print("\n1. Bursts of clients streaming the default comparison (2 run slots)")
        for clients in (4, 16) if args.quick else (4, 16, 32, 64):
            burst(url, clients)
        print(f"   RSS after the bursts: {rss_mb(process.pid):.0f} MB")

        print("\n2. The largest run the default budget allows, with health polled meanwhile")
        largest_run_with_health(url)
        time.sleep(1)
        print(f"   RSS after it: {rss_mb(process.pid):.0f} MB")

        repeats = 20 if args.quick else 200
        print(f"\n3. {repeats} identical runs one after another")
        before = rss_mb(process.pid)
        for _ in range(repeats):
            one_stream(url)
        after = rss_mb(process.pid)
        print(f"   RSS {before:.0f} MB -> {after:.0f} MB ({after - before:+.0f} MB)")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
