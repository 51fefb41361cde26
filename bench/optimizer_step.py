"""Time one optimizer step() on ~25M parameters, against Adam(foreach=True) and the official Ano.

Usage: python bench/optimizer_step.py [--device cpu|cuda] [--repeats N] [--layers L --width W]

All timings are taken in one run on the same parameters and gradients, so the ratios are
meaningful even on a noisy shared machine. Prints one row per optimizer: median milliseconds per
step, the ratio to Adam(foreach=True), and the ratio to the official ``ano_optimizer.Ano``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from optimizers import ANDI, Ano, Anolog, Anon, Yogi


def make_params(layers: int, width: int, device: str) -> list[torch.Tensor]:
    """A stack of Linear layers (weight + bias) with random gradients attached."""
    torch.manual_seed(0)
    params = []
    for _ in range(layers):
        for shape in ((width, width), (width,)):
            p = torch.randn(shape, device=device) * 0.02
            p.grad = torch.randn(shape, device=device) * 1e-3
            params.append(p)
    return params


def time_steps(make: Callable[[list[torch.Tensor]], torch.optim.Optimizer], params, repeats):
    opt = make(params)
    for _ in range(3):  # warm-up: state creation, allocator, caches
        opt.step()
    sync = torch.cuda.synchronize if params[0].is_cuda else (lambda: None)
    samples = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        opt.step()
        sync()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--width", type=int, default=2048)
    args = parser.parse_args()

    import ano_optimizer  # the oracle is a dev dependency only

    candidates: dict[str, Callable] = {
        "Adam(foreach=True)": lambda ps: torch.optim.Adam(ps, lr=1e-3, foreach=True),
        "official ano_optimizer.Ano": lambda ps: ano_optimizer.Ano(ps, lr=1e-3),
        "Ano": lambda ps: Ano(ps, lr=1e-3),
        "Anolog": lambda ps: Anolog(ps, lr=1e-3),
        "Anon (gamma=1)": lambda ps: Anon(ps, lr=1e-3, gamma=1.0),
        "ANDI": lambda ps: ANDI(ps, lr=1e-3),
        "Yogi": lambda ps: Yogi(ps, lr=1e-3),
    }
    params = make_params(args.layers, args.width, args.device)
    n = sum(p.numel() for p in params)
    print(
        f"device={args.device} params={n / 1e6:.1f}M in {len(params)} tensors "
        f"torch={torch.__version__} threads={torch.get_num_threads()} repeats={args.repeats}"
    )
    results = {}
    for name, make in candidates.items():
        fresh = [p.detach().clone() for p in params]
        for p, q in zip(fresh, params, strict=True):
            p.grad = q.grad.clone()
        results[name] = time_steps(make, fresh, args.repeats)

    adam, official = results["Adam(foreach=True)"], results["official ano_optimizer.Ano"]
    print(f"{'optimizer':<28}{'ms/step':>10}{'vs Adam':>10}{'vs official Ano':>17}")
    for name, ms in results.items():
        print(f"{name:<28}{ms:>10.2f}{ms / adam:>9.2f}x{ms / official:>16.2f}x")


if __name__ == "__main__":
    main()
