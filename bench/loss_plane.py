"""The loss plane of a small network: a 41 x 41 grid, batched against one weight vector at a time.

The network is a 2-32-32-3 tanh MLP (1,251 weights) scored by cross-entropy on 1,000 points of
three Gaussian blobs; the plane is Li et al.'s PCA plane of a short gradient-descent path. The
same 1,681 grid points evaluated three ways, timed in this run (best of ``--repeat`` rounds that
interleave the variants):

1. ``engine.loss_plane.evaluate_grid`` with a batched loss (one ``baddbmm`` per layer over the
   ``B`` networks), at each of ``--chunks`` weight vectors per call;
2. the same function and loss with ``chunk_size=1``: one weight vector per call;
3. a plain per-point loop over an unbatched ``torch.nn.functional`` MLP (what one writes
   without a batched loss).

Ratios are "one by one" seconds over each variant's seconds, and every grid's largest
difference from the one-by-one grid is printed (0 where batching changes no bit).

Usage: python bench/loss_plane.py [--chunks 8 64 256 1681] [--dtype float32|float64]
                                  [--device cpu|cuda] [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from torch.nn import functional

from engine.loss_plane import evaluate_grid, loss_plane

SHAPES = [(32, 2), (32,), (32, 32), (32,), (3, 32), (3,)]
P = sum(math.prod(s) for s in SHAPES)
POINTS = 1000
RESOLUTION = 41


def blobs(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(POINTS) % 3
    means = torch.tensor([[-1.0, 0.0], [1.0, 0.5], [0.0, -1.0]])
    x = means[y] + 0.5 * torch.randn(POINTS, 2, generator=g)
    return x.to(dtype), y


def split(W: torch.Tensor) -> list[torch.Tensor]:
    """``(B, P)`` flat weights into ``(B, *shape)`` views, in ``SHAPES`` order."""
    out, offset = [], 0
    for shape in SHAPES:
        size = math.prod(shape)
        out.append(W[:, offset : offset + size].reshape(W.shape[0], *shape))
        offset += size
    return out


def batched_loss(x: torch.Tensor, y: torch.Tensor):
    """``(B, P) -> (B,)``: one :func:`torch.baddbmm` per layer over the ``B`` networks."""

    def loss(W: torch.Tensor) -> torch.Tensor:
        w1, b1, w2, b2, w3, b3 = split(W)
        B = W.shape[0]
        h = torch.tanh(torch.baddbmm(b1[:, None], x.expand(B, -1, -1), w1.transpose(1, 2)))
        h = torch.tanh(torch.baddbmm(b2[:, None], h, w2.transpose(1, 2)))
        logits = torch.baddbmm(b3[:, None], h, w3.transpose(1, 2))
        log_p = torch.log_softmax(logits, dim=-1)
        return -log_p.gather(-1, y.expand(B, -1)[..., None]).squeeze(-1).mean(dim=1)

    return loss


def unbatched_loss(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2, w3, b3 = (p[0] for p in split(w[None]))
    h = torch.tanh(functional.linear(x, w1, b1))
    h = torch.tanh(functional.linear(h, w2, b2))
    return functional.cross_entropy(functional.linear(h, w3, b3), y)


def training_path(
    loss, dtype: torch.dtype, device: torch.device, steps: int = 100, keep_every: int = 5
) -> torch.Tensor:
    """Kept weights of plain gradient descent from a seeded start (the path to draw)."""
    g = torch.Generator().manual_seed(1)
    w = (0.3 * torch.randn(1, P, generator=g)).to(dtype)
    w = w.to(device).requires_grad_()
    kept = [w.detach().clone()]
    for step in range(1, steps + 1):
        (grad,) = torch.autograd.grad(loss(w).sum(), w)
        with torch.no_grad():
            w -= 0.5 * grad
        if step % keep_every == 0:
            kept.append(w.detach().clone())
    return torch.cat(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[8, 64, 256, RESOLUTION**2])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)

    x, y = (t.to(device) for t in blobs(dtype))
    loss = batched_loss(x, y)
    trajectory = training_path(loss, dtype, device)
    plane = loss_plane(trajectory, SHAPES, loss, resolution=RESOLUTION)
    center, directions, alpha, beta = plane.center, plane.directions, plane.alpha, plane.beta
    d1, d2 = directions.to(dtype=dtype, device=device)

    def plain_loop() -> np.ndarray:
        with torch.no_grad():
            return np.array(
                [
                    [
                        float(unbatched_loss(x, y, center + float(a) * d1 + float(b) * d2))
                        for b in beta
                    ]
                    for a in alpha
                ]
            )

    def grid(chunk: int):
        return lambda: evaluate_grid(center, directions, alpha, beta, loss, chunk_size=chunk)

    runs = {f"batched, chunk {c}": grid(c) for c in args.chunks}
    runs["one by one (chunk 1)"] = grid(1)
    runs["plain loop, unbatched MLP"] = plain_loop
    # Rounds interleave the variants so that a slow spell of a shared machine hits them all.
    seconds = dict.fromkeys(runs, math.inf)
    results = {}
    for _ in range(args.repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run()
            seconds[name] = min(seconds[name], time.perf_counter() - start)

    reference = results["one by one (chunk 1)"]
    points = alpha.size * beta.size
    print(
        f"loss plane: {RESOLUTION}x{RESOLUTION} grid ({points} points), MLP 2-32-32-3 ({P} "
        f"weights) on {POINTS} points, {args.dtype} on {device}, "
        f"{torch.get_num_threads()} threads, best of {args.repeat}"
    )
    print(
        f"PCA explained variance {plane.explained_variance[0]:.3f}, "
        f"{plane.explained_variance[1]:.3f}; centre loss {plane.center_loss:.4f}"
    )
    print(f"{'':28}{'seconds':>9}{'one-by-one / this':>19}{'max |diff|':>12}")
    for name, value in seconds.items():
        result = results[name]
        data = result.data if isinstance(result, np.ma.MaskedArray) else result
        gap = float(np.abs(data - reference.data).max())
        print(f"{name:28}{value:9.3f}{seconds['one by one (chunk 1)'] / value:18.2f}x{gap:12.1e}")
    best = min((v, k) for k, v in seconds.items() if k.startswith("batched"))
    print(
        f"best batched ({best[1]}) vs one by one: "
        f"{seconds['one by one (chunk 1)'] / best[0]:.2f}x faster"
    )


if __name__ == "__main__":
    main()
