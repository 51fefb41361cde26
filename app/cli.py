"""The ``optiscope`` command line.

- ``optiscope serve`` starts the web app (uvicorn).
- ``optiscope run SPEC.json`` runs a spec (the JSON of ``POST /api/runs``: a landscape run, or
  a network run with a ``task``) and prints or writes the same JSON result the API answers,
  under the same budget (``OPTISCOPE_*`` settings).
- ``optiscope render PRESET|SPEC.json -o out.html`` runs a preset of the page or a spec and
  writes a standalone interactive figure (Plotly inlined, opens offline; for a network run, its
  loss curves, decision boundary and loss plane); ``--list`` shows the presets.
- ``optiscope demo`` runs real optimizers from the registry on a landscape from the registry
  through the engine and prints the trajectories: a table of sampled steps for each optimizer,
  then a summary.

Invalid input ends with a one-line message naming the field and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from app.errors import problem
from app.presets import UnknownPresetError, get_preset, list_presets
from app.render import DEFAULT_RESOLUTION, build_figure, build_final_figure, write_standalone_html
from app.render_network import build_network_figure
from app.settings import Settings
from engine import (
    BudgetError,
    RunEvent,
    RunPlan,
    RunSpec,
    check_budget,
    collect_result,
    dumps,
    plan_run,
    run_events,
)
from engine.network_spec import NetworkRunSpec, check_network_budget
from engine.training import (
    NetworkPlan,
    collect_training_result,
    plan_training,
    training_events,
)
from landscapes import list_landscapes
from landscapes.surface import MAX_RESOLUTION
from optimizers.registry import get_optimizer, list_optimizers

DEFAULT_OPTIMIZERS = ("ano", "anolog", "anon", "andi", "yogi", "adam", "sgd")
# Exit status of invalid input (argparse uses 2 for its own usage errors too).
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130
# With a progress bar the engine hands over its recording this often.
PROGRESS_SECONDS = 0.2


class CliError(Exception):
    """Invalid input or an impossible request: printed as one line, exit status 2."""


def _parse_hparams(pairs: Sequence[str]) -> dict[str, float]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--hparam expects NAME=VALUE, got {pair!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise CliError(f"--hparam {name}: {value!r} is not a number") from None
    return values


def demo_spec(args: argparse.Namespace) -> RunSpec:
    """One series per optimizer, each with ``--lr`` and the ``--hparam`` values it accepts."""
    hparams = {"lr": args.lr, **_parse_hparams(args.hparam)}
    series = []
    for optimizer_id in args.optimizers:
        fields = get_optimizer(optimizer_id).hparams.model_fields
        series.append(
            {
                "optimizer": optimizer_id,
                "hparams": {k: v for k, v in hparams.items() if k in fields},
            }
        )
    data = {"landscape": {"id": args.landscape}, "steps": args.steps, "series": series}
    if args.start:
        data["start"] = list(args.start)
    return spec_from_json(data, "the demo's options")


def demo(args: argparse.Namespace) -> int:
    """Print sampled steps of every optimizer's trajectory, then a summary (via the engine)."""
    spec = demo_spec(args)
    result = execute(plan_within_budget(spec, "cpu"), show_progress=False)
    landscape = result["landscape"]
    first = result["series"][0]
    print(f"{landscape['label']}: start {tuple(first['start'])}, {spec.steps} steps, float64")
    if landscape["global_minima"]:
        points = ", ".join(
            f"({x:g}, {y:g})" for x, y in (m["point"] for m in landscape["global_minima"])
        )
        print(f"global minima: {points}")
    for row in result["series"]:
        print(f"\n{row['label']} {spec.series[row['series']].hparams}")
        print(f"{'step':>6} {'x':>12} {'y':>12} {'loss':>14}")
        last = row["steps"][-1]
        columns = (row[name].tolist() for name in ("steps", "x", "y", "loss"))
        for step, x, y, loss in zip(*columns, strict=True):
            if (step % args.every == 0 and step > 0) or step == last:
                print(f"{step:>6} {x:>12.6f} {y:>12.6f} {loss:>14.6e}")
        if row["diverged_at"] is not None:
            print(f"  diverged at step {row['diverged_at']}")

    print(f"\n{'optimizer':<12} {'final loss':>14} {'to minimum':>12}  diverged")
    for row in result["series"]:
        flag = "" if row["diverged_at"] is None else f"at step {row['diverged_at']}"
        distance = row["distance_to_minimum"]
        shown = f"{distance:>12.6f}" if distance is not None else f"{'-':>12}"
        print(f"{row['label']:<12} {row['final_loss']:>14.6e} {shown}  {flag}")
    return 0


def _describe_validation_error(error: ValidationError) -> str:
    """One line per problem, each naming the field as the API's 422 does (``loc``)."""
    lines = []
    for item in error.errors():
        named = problem(item)
        where = ".".join(str(part) for part in named["loc"]) or "spec"
        lines.append(f"{where}: {named['msg']}")
    return "\n  ".join(lines)


def load_spec(source: str) -> RunSpec:
    """The spec in file ``source`` (``-`` for standard input), validated."""
    name = "standard input" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {name}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(f"{name} is not valid JSON: {error}") from None
    return spec_from_json(data, name)


def spec_from_json(data: Any, name: str) -> RunSpec | NetworkRunSpec:
    """``data`` validated as a RunSpec, or, with a ``task``, a network run's NetworkRunSpec
    (as the API tells them apart); ``name`` says where it came from in errors."""
    try:
        if isinstance(data, dict) and "task" in data:
            return NetworkRunSpec.model_validate(data)
        return RunSpec.model_validate(data)
    except ValidationError as error:
        raise CliError(
            f"{name} is not a valid run spec:\n  {_describe_validation_error(error)}"
        ) from None


def plan_within_budget(spec: RunSpec | NetworkRunSpec, device: str | None) -> RunPlan | NetworkPlan:
    """Check ``spec`` against the server's budget and plan it, choosing the device as the server
    does: the spec's own device unless it says 'auto', then ``device`` or OPTISCOPE_DEVICE."""
    settings = Settings()
    network = isinstance(spec, NetworkRunSpec)
    try:
        if network:
            check_network_budget(spec, settings.network_limits)
        else:
            check_budget(spec, settings.limits)
    except BudgetError as error:
        where = ".".join(error.loc)
        variables = (
            "OPTISCOPE_MAX_STEPS, OPTISCOPE_MAX_NETWORK_ROWS and OPTISCOPE_MAX_NETWORK_WORK"
            if network
            else "OPTISCOPE_MAX_STEPS, OPTISCOPE_MAX_ROWS and OPTISCOPE_MAX_ROW_STEPS"
        )
        raise CliError(f"{where}: {error} (the budget is set by {variables})") from None
    try:
        if network:
            return plan_training(spec, device or settings.device)
        return plan_run(spec, device or settings.device)
    except ValueError as error:  # CUDA asked for but absent
        raise CliError(str(error)) from None


class ProgressBar:
    """A one-line text bar on ``stream``, redrawn in place: ``[#####-----]  50%  250/500 steps``."""

    WIDTH = 30

    def __init__(self, total_steps: int, stream: TextIO) -> None:
        self.total_steps = total_steps
        self.stream = stream
        self.started = time.perf_counter()

    def update(self, done_steps: int) -> None:
        fraction = min(done_steps / self.total_steps, 1.0)
        filled = int(fraction * self.WIDTH)
        elapsed = time.perf_counter() - self.started
        self.stream.write(
            f"\r[{'#' * filled}{'-' * (self.WIDTH - filled)}] {fraction:4.0%}  "
            f"{done_steps}/{self.total_steps} steps  {elapsed:.1f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _with_progress(events: Iterator[RunEvent], bar: ProgressBar) -> Iterator[RunEvent]:
    """``events`` unchanged, drawing ``bar`` at every chunk (``to_step`` points are recorded)."""
    try:
        for event in events:
            if event.kind == "chunk":
                # to_step points are recorded: the start and to_step - 1 steps.
                bar.update(event.data["to_step"] - 1)
            yield event
    finally:
        bar.close()


def execute(plan: RunPlan | NetworkPlan, show_progress: bool) -> dict[str, Any]:
    """The whole result, as ``POST /api/runs`` answers it; a bar on stderr if asked."""
    network = isinstance(plan, NetworkPlan)
    events_of = training_events if network else run_events
    collect = collect_training_result if network else collect_result
    if not show_progress:
        # One hand-over at the end, as the API does.
        return collect(plan, events_of(plan, chunk_seconds=math.inf))
    bar = ProgressBar(plan.spec.steps, sys.stderr)
    return collect(plan, _with_progress(events_of(plan, chunk_seconds=PROGRESS_SECONDS), bar))


def _progress_wanted(args: argparse.Namespace) -> bool:
    # Only on a terminal: a redrawn line would litter logs and captured output.
    return not args.quiet and sys.stderr.isatty()


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    result = execute(plan_within_budget(spec, args.device), _progress_wanted(args))
    # Written exactly as the API answers (NaN and Infinity can never appear).
    text = dumps(result, args.encoding) + b"\n"
    if args.output is None:
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
        return 0
    try:
        args.output.write_bytes(text)
    except OSError as error:
        raise CliError(f"cannot write {args.output}: {error.strerror}") from None
    return 0


def list_presets_text() -> str:
    """The page's presets, one per line: id, then title."""
    presets = list_presets()
    width = max(len(preset.id) for preset in presets)
    return "\n".join(f"{preset.id:<{width}}  {preset.title}" for preset in presets)


def _render_source(source: str) -> tuple[RunSpec | NetworkRunSpec, str | None, str]:
    """The spec, title and file stem of a preset id or a spec file."""
    if source == "-" or source.endswith(".json") or Path(source).exists():
        return load_spec(source), None, "optiscope" if source == "-" else Path(source).stem
    try:
        preset = get_preset(source)
    except UnknownPresetError as error:
        raise CliError(f"{error} (or give a spec file: SPEC.json)") from None
    return spec_from_json(preset.spec, f"preset {preset.id!r}"), preset.title, preset.id


def render(args: argparse.Namespace) -> int:
    if args.list:
        print(list_presets_text())
        return 0
    if args.source is None:
        raise CliError("give a preset id or a spec file (optiscope render --list shows presets)")
    if not 2 <= args.resolution <= MAX_RESOLUTION:
        raise CliError(f"--resolution must be in [2, {MAX_RESOLUTION}], got {args.resolution}")
    spec, title, stem = _render_source(args.source)
    output = args.output or Path(f"{stem}.html")
    result = execute(plan_within_budget(spec, args.device), _progress_wanted(args))
    if isinstance(spec, NetworkRunSpec):
        try:
            figure = build_network_figure(spec, result, title=args.title or title)
        except ValueError as error:
            raise CliError(str(error)) from None
    elif spec.record == "final":
        try:
            figure = build_final_figure(spec, result, title=args.title or title)
        except ValueError as error:
            raise CliError(str(error)) from None
    else:
        figure = build_figure(spec, result, title=args.title or title, resolution=args.resolution)
    try:
        size = write_standalone_html(figure, output, file_stem=output.stem)
    except OSError as error:
        raise CliError(f"cannot write {output}: {error.strerror}") from None
    if not args.quiet:
        what = "networks" if isinstance(spec, NetworkRunSpec) else "trajectories"
        print(f"wrote {output} ({size / 1e6:.1f} MB, {len(result['series'])} {what})")
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    overrides = {k: v for k, v in vars(args).items() if k in ("host", "port", "device") and v}
    settings = Settings(**overrides)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, server_header=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optiscope", description="See how optimizers move.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the web app")
    serve_parser.add_argument("--host", help="default: OPTISCOPE_HOST or 127.0.0.1")
    serve_parser.add_argument("--port", type=int, help="default: OPTISCOPE_PORT or 8000")
    serve_parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        help="default: OPTISCOPE_DEVICE or auto (CUDA for large runs when present)",
    )
    serve_parser.set_defaults(handler=serve)

    device_help = "where the run executes when its spec says 'auto' (default: OPTISCOPE_DEVICE)"
    run_parser = commands.add_parser(
        "run",
        help="run a spec file and print the JSON result",
        description="Run SPEC (the JSON body of POST /api/runs) and print the same JSON result "
        "the API answers, or write it to a file. The server's budget applies "
        "(OPTISCOPE_MAX_STEPS, OPTISCOPE_MAX_ROWS, OPTISCOPE_MAX_ROW_STEPS).",
    )
    run_parser.add_argument("spec", metavar="SPEC.json", help="spec file, or - for stdin")
    run_parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    run_parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help=device_help)
    run_parser.add_argument(
        "--encoding",
        choices=["plain", "typed"],
        default="plain",
        help="columns as JSON numbers (default) or as typed arrays {dtype, bdata}, as the API's "
        "?encoding= query does",
    )
    run_parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run_parser.set_defaults(handler=run)

    render_parser = commands.add_parser(
        "render",
        help="write a standalone interactive HTML figure of a preset or spec",
        description="Run a preset of the page or a spec file and write one HTML file: the "
        "landscape with every trajectory, and the loss against the step. Plotly is inlined, so "
        "the file opens without a network.",
    )
    render_parser.add_argument(
        "source", nargs="?", metavar="PRESET|SPEC.json", help="preset id, spec file, or - for stdin"
    )
    render_parser.add_argument("--list", action="store_true", help="list the presets and exit")
    render_parser.add_argument(
        "-o", "--output", type=Path, help="HTML file to write (default: PRESET.html or SPEC.html)"
    )
    render_parser.add_argument("--title", help="figure title (default: the preset's title)")
    render_parser.add_argument(
        "--resolution",
        type=int,
        default=DEFAULT_RESOLUTION,
        help=f"contour grid points per axis (default {DEFAULT_RESOLUTION})",
    )
    render_parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help=device_help)
    render_parser.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary")
    render_parser.set_defaults(handler=render)
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
    try:
        return args.handler(args)
    except CliError as error:
        print(f"optiscope {args.command}: error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"optiscope {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
