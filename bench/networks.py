"""Network-run benchmarks, every figure and ratio measured in one run on this machine.

The default network run: two spirals (400 points, 300 for training and 100 held out), an MLP
2-32-32-2 with tanh (1,218 parameters), full batch, Adam at lr 0.01, float64, on the CPU.

1. Seconds per 100 steps for 1, 16 and 64 rows (seeds 0..R-1) trained by the engine in one
   run, and the same rows run one by one through the engine (64 rows: 8 timed, scaled
   linearly, since every single-row run costs the same); the ratio is one-by-one over batched.
   Every figure is the best of 3 timings.
2. For scale, one row as a plain PyTorch loop (nn.Sequential + the same optimizer, the loss
   and the held-out loss each step, as the engine records them).
3. The whole default comparison as the page would send it: 7 optimizers x 1 seed x 500 steps,
   streamed (chunks and decision-boundary snapshots), wall time.

On a shared 2-core machine, torch's two threads can be much slower than one when the other
core is busy (they wait for each other at every kernel); ``--threads 1`` shows the figures
without that.

Usage: python bench/networks.py [--steps N] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional

from engine.network_spec import NetworkRunSpec
from engine.training import plan_training, training_events
from optimizers.registry import get_optimizer
from tasks import get_task, mlp

TASK = {"id": "spirals"}
SERIES = [{"optimizer": "adam", "hparams": {"lr": 0.01}}]
COMPARISON = ("ano", "anolog", "anon", "andi", "yogi", "adam", "sgd")
REPEATS = 3


def spec(rows: int, steps: int, series=SERIES, first_seed: int = 0) -> NetworkRunSpec:
    return NetworkRunSpec.model_validate(
        {
            "task": TASK,
            "steps": steps,
            "series": list(series),
            "seeds": list(range(first_seed, first_seed + rows)),
        }
    )


def engine_seconds(run: NetworkRunSpec, stream: bool = False) -> float:
    start = time.perf_counter()
    for _ in training_events(plan_training(run, "cpu"), stream=stream):
        pass
    return time.perf_counter() - start


def best(measure, repeats: int = REPEATS) -> float:
    """The fastest of ``repeats`` timings: on a shared machine the others only add noise."""
    return min(measure() for _ in range(repeats))


def plain_loop_seconds(steps: int) -> float:
    entry = get_task(TASK["id"])
    data = entry.make()
    torch.manual_seed(0)
    net = mlp.reference_module(entry.input_dim, [32, 32], entry.outputs())
    opt = get_optimizer("adam").build(net.parameters(), {"lr": 0.01})
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = functional.cross_entropy(net(data.x_train), data.y_train)
        loss.backward()
        with torch.no_grad():
            functional.cross_entropy(net(data.x_held_out), data.y_held_out)
        opt.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps timed per run")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: as is)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = args.steps
    per100 = 100 / steps
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {steps} steps per run")
    engine_seconds(spec(2, 5))  # warm-up: first calls of the kernels, the registries
    print("\n1. default network, seconds per 100 steps")
    print(f"{'rows':>5} {'batched':>10} {'one by one':>12} {'ratio':>7}")
    for rows in (1, 16, 64):
        batched = best(lambda rows=rows: engine_seconds(spec(rows, steps))) * per100
        timed = min(rows, 8)
        singles = best(
            lambda timed=timed: sum(
                engine_seconds(spec(1, steps, first_seed=seed)) for seed in range(timed)
            )
        )
        one_by_one = singles * rows / timed * per100
        print(f"{rows:>5} {batched:>10.3f} {one_by_one:>12.3f} {one_by_one / batched:>6.1f}x")
    plain = best(lambda: plain_loop_seconds(steps)) * per100
    print(f"\n2. one row as a plain PyTorch loop: {plain:.3f} s per 100 steps")
    comparison = spec(1, 500, series=[{"optimizer": o} for o in COMPARISON])
    seconds = engine_seconds(comparison, stream=True)
    print(f"\n3. default comparison, {len(COMPARISON)} optimizers x 500 steps, streamed:", end=" ")
    print(f"{seconds:.2f} s")


if __name__ == "__main__":
    main()
