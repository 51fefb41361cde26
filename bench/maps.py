"""Maps and phase diagrams: issue 11's targets, every ratio measured in one run on this machine.

1. The engine computing 65,536 rows x 500 steps on Rosenbrock (``record: final``, what maps and
   sweeps run), Adam and Anon with a tensor gamma, against hand-written fused loops of the same
   update on the analytic gradient (no autograd, no optimizer object, no recording). Target:
   engine <= 2x fused. The engine hands its rows' descriptions and summaries as columns; the
   time to write them as the API does (the ``meta`` and ``done`` events) is printed beside it.
2. A 256 x 256 map of one optimizer x 500 steps, streamed as the API streams it: seconds to the
   coarse preview (target <= 0.5 s) and to the finished map (target <= 4 s).
3. A gamma x lr phase diagram of Anon, 61 x 25 values x 8 seeds x 500 steps (12,200 rows): seconds
   to the finished diagram (target <= 10 s).

Usage: python bench/maps.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import torch

from engine import RunSpec, dumps, plan_run, run_events

STEPS = 500
SIDE = 256
LR = 0.01
B1, B2 = 0.9, 0.999


def grid_spec(optimizer: str, side: int, steps: int, **series) -> RunSpec:
    return RunSpec.model_validate(
        {
            "landscape": {"id": "rosenbrock"},
            "steps": steps,
            "record": "final",
            "starts": {"grid": {"x": [-2, 2, side], "y": [-1, 3, side]}},
            "series": [{"optimizer": optimizer, "hparams": {"lr": LR}, **series}],
        }
    )


def engine_seconds(spec: RunSpec, stream: bool = False) -> tuple[float, float | None]:
    """(seconds to ``done``, seconds to the ``preview`` when there is one)."""
    start = time.perf_counter()
    preview = None
    for event in run_events(plan_run(spec, "cpu"), stream=stream):
        if event.kind == "preview":
            preview = time.perf_counter() - start
    return time.perf_counter() - start, preview


def written_seconds(spec: RunSpec) -> float:
    """Seconds to write the rows' descriptions and summaries (the ``meta`` and ``done``
    events, typed) as the API does: the engine hands them as columns (engine/rows.py), which
    the JSON writer takes as they are."""
    events = list(run_events(plan_run(spec, "cpu"), stream=False))
    start = time.perf_counter()
    for event in events:
        if event.kind in ("meta", "done"):
            dumps(event.data, "typed")
    return time.perf_counter() - start


def starts(side: int) -> torch.Tensor:
    xs = torch.linspace(-2, 2, side, dtype=torch.float64)
    ys = torch.linspace(-1, 3, side, dtype=torch.float64)
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((x.reshape(-1), y.reshape(-1)), dim=1)


def rosenbrock_grad(P: torch.Tensor) -> torch.Tensor:
    x, y = P[:, 0], P[:, 1]
    r = y - x * x
    return torch.stack((-2 * (1 - x) - 400 * x * r, 200 * r), dim=1)


def fused_adam_seconds(side: int, steps: int) -> float:
    P = starts(side)
    m, v = torch.zeros_like(P), torch.zeros_like(P)
    begin = time.perf_counter()
    for t in range(1, steps + 1):
        g = rosenbrock_grad(P)
        m.mul_(B1).add_(g, alpha=1 - B1)
        v.mul_(B2).addcmul_(g, g, value=1 - B2)
        P.sub_(LR * (m / (1 - B1**t)) / (v / (1 - B2**t)).sqrt_().add_(1e-8))
    return time.perf_counter() - begin


def fused_anon_seconds(side: int, steps: int, gamma: torch.Tensor) -> float:
    """Anon's update (optimizers/anon.py) written out, gamma one value per row."""
    P = starts(side)
    gamma = gamma[:, None]
    m, s = torch.zeros_like(P), torch.zeros_like(P)
    V, k = None, 0
    begin = time.perf_counter()
    for t in range(1, steps + 1):
        g = rosenbrock_grad(P)
        m.mul_(B1).add_(g, alpha=1 - B1)
        s.mul_(B2).addcmul_(g, g, value=1 - B2)
        if t == 2**k:
            if k == 0:
                V = (s / (1 - B2) + 1e-16).pow(-gamma / 2)
            else:
                sigma = s / (1 - B2 ** (t // 2)) + 1e-16
                V = ((V.pow(-2) + sigma.pow(gamma)) / 2).pow(-0.5)
            s.zero_()
            k += 1
        P.sub_(LR / (1 - B1**t) * m * V)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, one repeat")
    args = parser.parse_args()
    steps = 100 if args.quick else STEPS
    repeats = 1 if args.quick else 5
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64, CPU")

    rows = SIDE * SIDE
    gammas = torch.linspace(-1, 2, 61, dtype=torch.float64).repeat(rows // 61 + 1)[:rows]
    print(f"\n1. {rows:,} rows x {steps} steps on Rosenbrock, record final (target <= 2x fused)")
    for name, series, fused in (
        ("adam", {}, lambda: fused_adam_seconds(SIDE, steps)),
        (
            "anon",
            # One instance with a tensor gamma: 61 values, one per 1,075 rows or so.
            {"sweep": {"param": "gamma", "values": [round(-1 + 0.05 * i, 2) for i in range(61)]}},
            lambda: fused_anon_seconds(SIDE, steps, gammas),
        ),
    ):
        side = SIDE if name == "adam" else 32  # 61 values x 32 x 32 starts = 62,464 rows
        spec = grid_spec(name, side, steps, **series)
        # Interleaved, and the fastest of each: on a shared machine the noise only ever adds
        # time, and both sides see the same stretches of it.
        engine_runs, fused_runs = [], []
        for _ in range(repeats):
            engine_runs.append(engine_seconds(spec)[0])
            fused_runs.append(fused())
        engine, fused_s = min(engine_runs), min(fused_runs)
        engine_rows = spec.row_count()
        per_row = (engine / engine_rows) / (fused_s / rows)
        print(
            f"   {name:<5} engine {engine:6.2f} s ({engine_rows:,} rows), fused {fused_s:6.2f} s "
            f"({rows:,} rows): engine/fused per row = {per_row:.2f}x "
            f"({'met' if per_row <= 2 else 'MISSED'})"
        )
        print(
            f"         its rows' descriptions and summaries written (meta and done, typed): "
            f"+{written_seconds(spec):.2f} s (not in the engine's time)"
        )

    print(f"\n2. A {SIDE} x {SIDE} map of Adam x {steps} steps, streamed (targets 0.5 s / 4 s)")
    done, preview = engine_seconds(grid_spec("adam", SIDE, steps), stream=True)
    print(
        f"   coarse preview {preview:6.2f} s ({'met' if preview <= 0.5 else 'MISSED'}), "
        f"finished map {done:6.2f} s ({'met' if done <= 4 else 'MISSED'})"
    )

    print(f"\n3. Anon gamma x lr phase diagram, 61 x 25 values x 8 seeds x {steps} steps")
    phase = RunSpec.model_validate(
        {
            "landscape": {"id": "rosenbrock"},
            "steps": steps,
            "record": "final",
            "seeds": list(range(8)),
            "noise": {"kind": "gaussian", "sigma": 1.0},
            "series": [
                {
                    "optimizer": "anon",
                    "sweep": [
                        {"param": "gamma", "values": [round(-1 + 0.05 * i, 2) for i in range(61)]},
                        {"param": "lr", "values": [10 ** (-4 + i / 8) for i in range(25)]},
                    ],
                }
            ],
        }
    )
    seconds, _ = engine_seconds(phase)
    print(
        f"   {phase.row_count():,} rows: {seconds:6.2f} s ({'met' if seconds <= 10 else 'MISSED'}:"
        " target <= 10 s)"
    )


if __name__ == "__main__":
    main()
