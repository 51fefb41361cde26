"""Engine benchmarks, every ratio measured in one run on this machine.

1. 4096 trajectories x 1000 steps (Adam, lr 0.01, on Rosenbrock from a 64 x 64 grid of starts):
   the engine computing vs the one-optimizer-per-trajectory Python loop the known galleries use
   (timed on a subset and scaled linearly: its cost per trajectory is constant), and vs a
   hand-written fused loop (analytic gradient, Adam written out, no autograd, positions
   recorded). Then the whole result as the API makes it, in both encodings: the time spent
   assembling it and writing its JSON as a share of the computing time (targets: typed <= 10%,
   plain <= 60%), beside the least either can take on this CPU (base64, or orjson, of the
   float columns alone).
2. The same run streamed by a real server on loopback: bytes and seconds with typed arrays and
   with plain numbers, each uncompressed, gzipped and in zstd (target: typed, in zstd as the
   page receives it, < gzipped plain).
3. The server's default comparison (7 optimizers x 500 steps on Rosenbrock): time to the first
   streamed chunk and to the end of the stream.
4. Trajectory-steps per second at B = 1, 64, 4096, 65536.

Usage: python bench/engine_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import httpx
import orjson
import pybase64
import torch

from app.local_server import local_server
from app.settings import Settings
from engine import RunSpec, collect_result, plan_run, run_events
from engine.record import dump_result_pieces
from landscapes import get_landscape

LR = 0.01
DEFAULT_COMPARISON_LR = 1e-3


def grid(n: int) -> list[list[float]]:
    """n x n starts over Rosenbrock's view box [-2, 2] x [-1, 3], x fastest (as a spec's
    grid of starts orders them)."""
    return [[-2 + 4 * i / (n - 1), -1 + 4 * j / (n - 1)] for j in range(n) for i in range(n)]


DEFAULT_COMPARISON = ("ano", "anolog", "anon", "andi", "yogi", "adam", "sgd")


def engine_seconds(spec: RunSpec, transport: bool) -> float:
    """Wall time of a whole run through the engine; with ``transport``, every point is also
    cut into the columns the API sends (one chunk at the end)."""
    start = time.perf_counter()
    for _ in run_events(plan_run(spec, "cpu"), stream=transport, chunk_seconds=math.inf):
        pass
    return time.perf_counter() - start


def batched_spec(starts: list[list[float]], steps: int) -> RunSpec:
    """Adam on Rosenbrock from ``starts``; a square grid of them is sent as a grid (a list of
    4096 points would pass the server's body limit)."""
    side = math.isqrt(len(starts))
    if side > 1 and side * side == len(starts) and starts == grid(side):
        starts = {"grid": {"x": [-2, 2, side], "y": [-1, 3, side]}}
    return RunSpec.model_validate(
        {
            "landscape": {"id": "rosenbrock"},
            "steps": steps,
            "starts": starts,
            "series": [{"optimizer": "adam", "hparams": {"lr": LR}}],
            "max_points": steps + 1,
        }
    )


def gallery_loop_seconds_per_trajectory(starts: list[list[float]], steps: int) -> float:
    """The galleries' way: one tensor, one optimizer, one Python loop per trajectory."""
    f = get_landscape("rosenbrock").bind()
    start = time.perf_counter()
    for xy in starts:
        p = torch.tensor(xy, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=LR)
        path = []
        for _ in range(steps):
            opt.zero_grad()
            f(p).backward()
            opt.step()
            path.append(p.detach().clone())
    return (time.perf_counter() - start) / len(starts)


def fused_loop_seconds(starts: list[list[float]], steps: int) -> float:
    """Hand-written Adam on Rosenbrock's analytic gradient, all rows in one tensor."""
    P = torch.tensor(starts, dtype=torch.float64)
    lr = LR
    m, v = torch.zeros_like(P), torch.zeros_like(P)
    positions = torch.empty(steps + 1, *P.shape, dtype=torch.float64)
    losses = torch.empty(steps + 1, P.shape[0], dtype=torch.float64)
    positions[0] = P
    b1, b2, eps = 0.9, 0.999, 1e-8
    start = time.perf_counter()
    for t in range(1, steps + 1):
        x, y = P[:, 0], P[:, 1]
        r = y - x * x
        losses[t - 1] = (1 - x) ** 2 + 100 * r * r
        g = torch.stack((-2 * (1 - x) - 400 * x * r, 200 * r), dim=1)
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        step = (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt_().add_(eps))
        P = P - lr * step
        positions[t] = P
    return time.perf_counter() - start


def default_comparison_latency(url: str, repeats: int) -> tuple[list[float], list[float]]:
    """(time to first chunk, time to the end of the stream) per request, in seconds."""
    body = {
        "landscape": {"id": "rosenbrock"},
        "steps": 500,
        "series": [
            {"optimizer": o, "hparams": {"lr": DEFAULT_COMPARISON_LR}} for o in DEFAULT_COMPARISON
        ],
    }
    first, total = [], []
    with httpx.Client(timeout=60) as client:
        for _ in range(repeats + 1):  # the first request warms up imports and caches
            start = time.perf_counter()
            first_chunk = None
            with client.stream(
                "POST",
                f"{url}/api/runs",
                json=body,
                params={"encoding": "typed"},
                headers={"Accept": "text/event-stream"},
            ) as response:
                for line in response.iter_lines():
                    if first_chunk is None and line == "event: chunk":
                        first_chunk = time.perf_counter() - start
            first.append(first_chunk)
            total.append(time.perf_counter() - start)
    return first[1:], total[1:]


def encoding_seconds(spec: RunSpec, repeats: int) -> dict[str, tuple[float, float, int]]:
    """Per encoding: (seconds computing with the columns cut, seconds encoding, bytes), medians
    over ``repeats`` runs. Encoding is timed on its own, as the API does it: the result
    assembled, then its JSON written piece by piece (each piece handed on, as the server hands
    it to the socket, and dropped), so the machine's noise does not enter it twice."""
    timings: dict[str, list[tuple[float, float, int]]] = {"typed": [], "plain": []}
    for _ in range(repeats):
        for encoding, measured in timings.items():
            start = time.perf_counter()
            plan = plan_run(spec, "cpu")
            events = list(run_events(plan, chunk_seconds=math.inf))
            computed = time.perf_counter()
            size = sum(map(len, dump_result_pieces(collect_result(plan, events), encoding)))
            measured.append((computed - start, time.perf_counter() - computed, size))
    return {
        encoding: (
            statistics.median(m[0] for m in measured),
            statistics.median(m[1] for m in measured),
            measured[0][2],
        )
        for encoding, measured in timings.items()
    }


def encoding_floors(spec: RunSpec, repeats: int) -> tuple[float, float]:
    """The least each encoding's writing can take on this CPU, medians over ``repeats``: base64
    of the result's float columns alone (typed), and orjson writing them alone, one call per
    column (plain). Whatever else a writer does (keys, summaries, checks, copies) comes on top:
    these say whether a target is within reach of this machine at all."""
    plan = plan_run(spec, "cpu")
    rows = collect_result(plan, run_events(plan, chunk_seconds=math.inf))["series"]
    columns = [row[name] for row in rows for name in ("x", "y", "loss", "grad_norm")]
    typed, plain = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for column in columns:
            pybase64.b64encode(column)
        typed.append(time.perf_counter() - start)
        start = time.perf_counter()
        for column in columns:
            orjson.dumps(column, option=orjson.OPT_SERIALIZE_NUMPY)
        plain.append(time.perf_counter() - start)
    return statistics.median(typed), statistics.median(plain)


def stream_bytes(url: str, spec: RunSpec, encoding: str, coding: str) -> tuple[int, float]:
    """Bytes on the wire of the whole server-sent-event stream of ``spec`` in ``encoding``,
    compressed as ``coding`` ("identity", "gzip", or "zstd", which browsers ask for), and its
    seconds."""
    start = time.perf_counter()
    size = 0
    with (
        httpx.Client(timeout=600) as client,
        client.stream(
            "POST",
            f"{url}/api/runs",
            content=spec.model_dump_json(exclude_unset=True),
            params={"encoding": encoding},
            headers={
                "Accept": "text/event-stream",
                "Accept-Encoding": coding,
                "Content-Type": "application/json",
            },
        ) as response,
    ):
        for raw in response.iter_raw():
            size += len(raw)
    return size, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args()
    steps = 200 if args.quick else 1000
    torch.set_num_threads(torch.get_num_threads())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64, CPU")

    print(f"\n1. 4096 trajectories x {steps} steps, Adam (lr {LR}) on Rosenbrock, 64 x 64 starts")
    if args.quick:  # a row's fixed costs weigh more against 200 steps than against 1000
        print("   (--quick: the encoding targets are for 1000 steps, not these)")
    starts = grid(64)
    repeats = 1 if args.quick else 3
    spec = batched_spec(starts, steps)
    engine_seconds(batched_spec(starts, 10), transport=False)  # imports and first calls
    compute = statistics.median(engine_seconds(spec, transport=False) for _ in range(repeats))
    fused = fused_loop_seconds(starts, steps)
    subset = starts[:: 4096 // (16 if args.quick else 32)]
    gallery = gallery_loop_seconds_per_trajectory(subset, steps) * 4096
    ratio = compute / fused
    print(f"   engine, computing              {compute:8.2f} s   engine/fused = {ratio:.2f}x")
    print(f"   fused loop (analytic gradient) {fused:8.2f} s")
    print(
        f"   gallery loop (scaled from {len(subset)})  {gallery:8.1f} s   engine is "
        f"{gallery / compute:,.0f}x faster computing"
    )
    print("   the whole result, as the API makes it, per encoding:")
    for encoding, (with_columns, encoding_s, size) in encoding_seconds(spec, repeats).items():
        target = {"typed": 0.10, "plain": 0.60}[encoding]
        share = encoding_s / compute
        print(
            f"   {encoding:<5} computing + columns {with_columns:6.2f} s, then encoding "
            f"{encoding_s * 1e3:5.0f} ms = {share:6.1%} of computing ({size / 1e6:.0f} MB; "
            f"target <= {target:.0%}: {'met' if share <= target else 'MISSED'})"
        )
    typed_floor, plain_floor = encoding_floors(spec, repeats)
    print(
        f"   floors on this CPU: base64 of the float columns alone {typed_floor * 1e3:5.0f} ms "
        f"({typed_floor / compute:.0%} of computing), orjson writing them alone "
        f"{plain_floor * 1e3:5.0f} ms ({plain_floor / compute:.0%})"
    )

    # The budget's default (4M row-steps) is below this run; the benchmark's server allows it.
    settings = Settings(
        max_row_steps=len(starts) * steps, max_output_points=len(starts) * (steps + 1)
    )
    with local_server(settings) as url:
        print("\n2. The same run streamed by a server on loopback (bytes on the wire)")
        sizes = {}
        levels = {"gzip": settings.gzip_level, "zstd": settings.zstd_level}
        for encoding in ("typed", "plain"):
            for coding in ("identity", "gzip", "zstd"):
                size, seconds = stream_bytes(url, spec, encoding, coding)
                sizes[encoding, coding] = size
                how = f"{coding} level {levels[coding]}" if coding in levels else "uncompressed"
                print(f"   {encoding:<5} {how:<13} {size / 1e6:8.1f} MB in {seconds:6.2f} s")
        # Base64 inflates binary by 4/3 while gzip and zstd squeeze decimal digits to about
        # their binary entropy: full-precision typed arrays beat gzipped numbers only when
        # they are compressed too, as the server does for browsers (with zstd: they ask for it).
        ratio = sizes["typed", "zstd"] / sizes["plain", "gzip"]
        print(
            f"   typed (as the page receives it, zstd) / plain gzipped = {ratio:.2f} "
            f"({'met' if ratio < 1 else 'MISSED'}: target < 1)"
        )

        print("\n3. Server, default comparison (7 optimizers x 500 steps, Rosenbrock), streamed")
        first, total = default_comparison_latency(url, 3 if args.quick else 7)
    print(
        f"   first chunk: median {statistics.median(first) * 1e3:6.1f} ms"
        f"   complete: median {statistics.median(total) * 1e3:6.1f} ms"
        f"   (of {len(total)} requests after a warm-up)"
    )

    print("\n4. Trajectory-steps per second")
    for side in (1, 8, 64, 256):
        rows, run_steps = side * side, 200 if side == 256 else 500
        seconds = engine_seconds(
            batched_spec(grid(side) if side > 1 else [[-2.0, 2.0]], run_steps), False
        )
        print(
            f"   B = {rows:>6}: {rows * run_steps / seconds:>14,.0f} trajectory-steps/s (computing)"
        )


if __name__ == "__main__":
    main()
