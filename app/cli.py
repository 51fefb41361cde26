"""The ``optiscope`` command line.

``optiscope serve`` starts the web app (uvicorn). ``optiscope demo`` runs real optimizers from
the registry on a landscape from the registry and prints the trajectories: a table of sampled
steps for each optimizer, then a summary. All optimizers share one start point; each runs its
own ``(1, 2)`` parameter tensor in float64.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import torch

from landscapes import get_landscape, list_landscapes
from optimizers.registry import get_optimizer, list_optimizers

DEFAULT_OPTIMIZERS = ("ano", "anolog", "anon", "andi", "yogi", "adam", "sgd")
# Beyond this distance from the view box a run counts as diverged (and stops).
DIVERGENCE_FACTOR = 1e3


def run_trajectory(
    optimizer_id: str,
    landscape_id: str,
    start: tuple[float, float],
    steps: int,
    hparams: dict[str, float],
) -> tuple[list[tuple[float, float, float]], int | None]:
    """Positions and clean losses after each step, and the step a run diverged at (or None)."""
    landscape = get_landscape(landscape_id)
    f = landscape.bind()
    entry = get_optimizer(optimizer_id)
    (xmin, xmax), (ymin, ymax) = landscape.view_box
    limit = DIVERGENCE_FACTOR * max(xmax - xmin, ymax - ymin, abs(xmin), abs(xmax))
    point = torch.tensor([list(start)], dtype=torch.float64, requires_grad=True)
    optimizer = entry.build([point], hparams, independent_rows=True)
    path = []
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        f(point).sum().backward(create_graph=entry.needs_create_graph)
        optimizer.step()
        x, y = point.detach()[0].tolist()
        with torch.no_grad():
            loss = float(f(point.detach())[0])
        if not all(map(math.isfinite, (x, y, loss))) or max(abs(x), abs(y)) > limit:
            return path, step
        path.append((x, y, loss))
    return path, None


def _parse_hparams(pairs: Sequence[str]) -> dict[str, float]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--hparam expects NAME=VALUE, got {pair!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise SystemExit(f"--hparam {name}: {value!r} is not a number") from None
    return values


def demo(args: argparse.Namespace) -> int:
    landscape = get_landscape(args.landscape)
    start = tuple(args.start) if args.start else landscape.default_start
    minima = landscape.global_minima()
    print(f"{landscape.label}: start {start}, {args.steps} steps, float64")
    if minima:
        described = ", ".join(f"({m.point[0]:g}, {m.point[1]:g})" for m in minima)
        print(f"global minima: {described}")
    summary = []
    for optimizer_id in args.optimizers:
        hparams = {"lr": args.lr, **_parse_hparams(args.hparam)}
        entry = get_optimizer(optimizer_id)
        accepted = {k: v for k, v in hparams.items() if k in entry.hparams.model_fields}
        path, diverged_at = run_trajectory(
            optimizer_id, args.landscape, start, args.steps, accepted
        )
        print(f"\n{entry.label} {accepted}")
        print(f"{'step':>6} {'x':>12} {'y':>12} {'loss':>14}")
        for step, (x, y, loss) in enumerate(path, start=1):
            if step % args.every == 0 or step == len(path):
                print(f"{step:>6} {x:>12.6f} {y:>12.6f} {loss:>14.6e}")
        if diverged_at is not None:
            print(f"  diverged at step {diverged_at}")
        final = path[-1] if path else (*start, float("nan"))
        distance = min((math.dist(final[:2], m.point) for m in minima), default=float("nan"))
        summary.append((entry.label, final[2], distance, diverged_at))

    print(f"\n{'optimizer':<12} {'final loss':>14} {'to minimum':>12}  diverged")
    for label, loss, distance, diverged_at in summary:
        flag = "" if diverged_at is None else f"at step {diverged_at}"
        print(f"{label:<12} {loss:>14.6e} {distance:>12.6f}  {flag}")
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    overrides = {k: v for k, v in vars(args).items() if k in ("host", "port", "device") and v}
    settings = Settings(**overrides)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optiscope", description="See how optimizers move.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the web app")
    serve_parser.add_argument("--host", help="default: OPTISCOPE_HOST or 127.0.0.1")
    serve_parser.add_argument("--port", type=int, help="default: OPTISCOPE_PORT or 8000")
    serve_parser.add_argument("--device", choices=["auto", "cpu", "cuda"])
    serve_parser.set_defaults(handler=serve)
    demo_parser = commands.add_parser("demo", help="print trajectories of a few optimizers")
    demo_parser.add_argument(
        "--landscape", default="rosenbrock", choices=[entry.id for entry in list_landscapes()]
    )
    demo_parser.add_argument(
        "--optimizers",
        nargs="+",
        default=list(DEFAULT_OPTIMIZERS),
        choices=[entry.id for entry in list_optimizers()],
        metavar="ID",
    )
    demo_parser.add_argument("--steps", type=int, default=500)
    demo_parser.add_argument("--lr", type=float, default=1e-3, help="learning rate for all")
    demo_parser.add_argument(
        "--hparam", action="append", default=[], metavar="NAME=VALUE", help="e.g. gamma=1"
    )
    demo_parser.add_argument("--start", type=float, nargs=2, metavar=("X", "Y"))
    demo_parser.add_argument("--every", type=int, default=100, help="print every N-th step")
    demo_parser.set_defaults(handler=demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and (args.steps < 1 or args.every < 1):
        raise SystemExit("--steps and --every must be at least 1")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
