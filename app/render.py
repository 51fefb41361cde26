"""Standalone figures of a run for ``optiscope render``: one HTML file, Plotly inlined.

Left, the landscape's contour (log colour scale where the landscape asks for one) with every
trajectory, its start and end, and the global minima; right, the loss against the step on a log
axis. Rows with the same label (one series and sweep value over several seeds or starts) share a
colour and a legend entry; clicking it hides the paths and the loss curves together. The file
needs no network to open: no CDN, no fonts, no map tiles; the modebar's Plotly logo (a link)
and its share button (an upload to Plotly Cloud) are turned off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine import RunSpec
from engine.maps import CellGrid, phase_diagram, start_maps
from engine.spec import StartsGrid
from landscapes import sample_surface
from optimizers.registry import get_optimizer

__all__ = ["DEFAULT_RESOLUTION", "build_figure", "build_final_figure", "write_standalone_html"]

# Contour grid per axis: smooth at figure size, and ~1 MB of JSON at most.
DEFAULT_RESOLUTION = 200
# The page's series colours (static/js/colors.js): Okabe and Ito's palette without its yellow,
# readable by colour-blind viewers.
SERIES_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# A label with several rows (seeds, starts) draws each of them fainter, so overlaps show.
SHARED_LABEL_OPACITY = 0.45


def build_figure(
    spec: RunSpec,
    result: dict[str, Any],
    *,
    title: str | None = None,
    resolution: int = DEFAULT_RESOLUTION,
) -> go.Figure:
    """The figure of ``result`` (what ``run_to_result(spec)`` returned).

    ``title`` defaults to the landscape and the series; ``resolution`` is the contour grid per
    axis (2 to 400).
    """
    landscape, params = spec.landscape.resolve()
    log_colours = landscape.colour_scale == "log"
    surface = sample_surface(landscape.bind(params), landscape.view_box, resolution).to_plotly(
        log=log_colours
    )
    rows = result["series"]
    labels = list(dict.fromkeys(row["label"] for row in rows))
    colours = {label: SERIES_PALETTE[i % len(SERIES_PALETTE)] for i, label in enumerate(labels)}
    minimum = min((m["value"] for m in result["landscape"]["global_minima"]), default=None)

    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.56, 0.44],
        horizontal_spacing=0.12,
        subplot_titles=(landscape.label, _loss_axis_title(minimum)),
    )
    contour_right_edge = figure.layout.xaxis.domain[1]
    figure.add_trace(
        go.Contour(
            x=surface["x"],
            y=surface["y"],
            z=surface["z"],
            colorscale="Viridis",
            ncontours=30,
            line={"width": 0.5},
            colorbar={
                "title": {"text": "log₁₀(f − min + δ)" if log_colours else "f", "side": "right"},
                "x": contour_right_edge + 0.01,
                "thickness": 12,
            },
            hoverinfo="skip",
            name="landscape",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    for label in labels:
        members = [row for row in rows if row["label"] == label]
        _add_label_traces(figure, label, members, colours[label], minimum)
    _add_markers(figure, rows, result["landscape"]["global_minima"])

    (xmin, xmax), (ymin, ymax) = landscape.view_box
    figure.update_xaxes(title_text="x", range=[xmin, xmax], row=1, col=1)
    figure.update_yaxes(title_text="y", range=[ymin, ymax], row=1, col=1)
    figure.update_xaxes(title_text="step", row=1, col=2)
    figure.update_yaxes(type="log" if _log_loss_axis(rows, minimum) else "linear", row=1, col=2)
    optimizers = ", ".join(dict.fromkeys(get_optimizer(row["optimizer"]).label for row in rows))
    figure.update_layout(
        title={"text": title or f"{landscape.label}: {optimizers}, {result['steps']} steps"},
        height=620,
        template="plotly_white",
        hovermode="closest",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        margin={"t": 90, "b": 120},
        # The run's spec travels with the figure, so it can be re-run: layout.meta.spec.
        meta={
            "spec": spec.model_dump(mode="json", exclude_unset=True),
            "versions": result["versions"],
        },
        annotations=[
            *figure.layout.annotations,
            _footnote(result),
        ],
    )
    return figure


def _loss_axis_title(minimum: float | None) -> str:
    return "loss − f* (f* = global minimum)" if minimum is not None else "loss"


def _log_loss_axis(rows: list[dict[str, Any]], minimum: float | None) -> bool:
    """Log when the plotted values are gaps to a known minimum, or all positive losses."""
    return minimum is not None or all(bool((row["loss"] > 0).all()) for row in rows)


def _add_label_traces(
    figure: go.Figure,
    label: str,
    members: list[dict[str, Any]],
    colour: str,
    minimum: float | None,
) -> None:
    """Paths, end points and loss curves of one label; rows are joined with gaps, one
    trace each, so a sweep of hundreds of rows stays light in the browser."""
    opacity = SHARED_LABEL_OPACITY if len(members) > 1 else 1.0
    path_x = _joined_with_gaps([row["x"] for row in members])
    path_y = _joined_with_gaps([row["y"] for row in members])
    steps = _joined_with_gaps([row["steps"] for row in members])
    loss_value = _joined_with_gaps([_plotted_loss(row["loss"], minimum) for row in members])
    common = {"legendgroup": label, "name": label, "opacity": opacity}
    figure.add_trace(
        go.Scatter(
            x=path_x,
            y=path_y,
            customdata=steps,
            mode="lines",
            line={"color": colour, "width": 2},
            hovertemplate="step %{customdata}<br>(%{x:.4g}, %{y:.4g})",
            **common,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=[row["final_point"][0] for row in members],
            y=[row["final_point"][1] for row in members],
            mode="markers",
            marker={
                "color": colour,
                "size": 9,
                "symbol": ["x" if row["diverged_at"] is not None else "circle" for row in members],
                "line": {"color": "white", "width": 1},
            },
            hovertext=[_end_description(row) for row in members],
            hoverinfo="text+name",
            showlegend=False,
            **common,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=loss_value,
            mode="lines",
            line={"color": colour, "width": 2},
            hovertemplate="step %{x}<br>%{y:.4g}",
            showlegend=False,
            **common,
        ),
        row=1,
        col=2,
    )


def _joined_with_gaps(columns: list[np.ndarray]) -> np.ndarray:
    """Rows' columns end to end as float64, a NaN (a gap in a Plotly line) after each."""
    gap = np.array([np.nan])
    return np.concatenate([part for column in columns for part in (column, gap)], dtype=np.float64)


def _plotted_loss(loss: np.ndarray, minimum: float | None) -> np.ndarray:
    """The gap to the global minimum when it is known (a log axis shows how close a run got);
    a gap of zero or below (reached to rounding) has no place on a log axis and is left out."""
    if minimum is None:
        return loss.astype(np.float64)
    gap = loss.astype(np.float64) - minimum
    return np.where(gap > 0, gap, np.nan)


def _end_description(row: dict[str, Any]) -> str:
    where = f"seed {row['seed']}, start ({row['start'][0]:g}, {row['start'][1]:g})"
    if row["diverged_at"] is not None:
        return f"{where}: diverged at step {row['diverged_at']}"
    return f"{where}: final loss {row['final_loss']:.4g}"


def _add_markers(
    figure: go.Figure, rows: list[dict[str, Any]], global_minima: list[dict[str, Any]]
) -> None:
    """Start points (once each) and the global minima."""
    starts = list(dict.fromkeys(tuple(row["start"]) for row in rows))
    figure.add_trace(
        go.Scatter(
            x=[x for x, _ in starts],
            y=[y for _, y in starts],
            mode="markers",
            marker={"size": 11, "color": "white", "line": {"color": "black", "width": 2}},
            name="start",
            hovertemplate="start (%{x:g}, %{y:g})<extra></extra>",
        ),
        row=1,
        col=1,
    )
    if global_minima:
        figure.add_trace(
            go.Scatter(
                x=[m["point"][0] for m in global_minima],
                y=[m["point"][1] for m in global_minima],
                mode="markers",
                marker={
                    "symbol": "star",
                    "size": 15,
                    "color": "gold",
                    "line": {"color": "black", "width": 1},
                },
                name="global minimum",
                customdata=[m["value"] for m in global_minima],
                hovertemplate="global minimum (%{x:g}, %{y:g})<br>f = %{customdata:g}"
                "<extra></extra>",
            ),
            row=1,
            col=1,
        )


def _footnote(result: dict[str, Any]) -> dict[str, Any]:
    """What the numbers were computed with, under the figure (for captions and reproduction)."""
    versions = result["versions"]
    noise = result["noise"]["kind"] if result["noise"] else "none"
    clip = result["clip_grad_norm"]
    text = (
        f"Optiscope {versions.get('optiscope', '?')} · torch {versions['torch']} · "
        f"{result['dtype']} on {result['device']} · noise: {noise} · "
        f"gradient clipping: {clip if clip is not None else 'off'}"
    )
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": -0.3,
        "xanchor": "right",
        "showarrow": False,
        "font": {"size": 10, "color": "grey"},
    }


def write_standalone_html(figure: go.Figure, path: Path, *, file_stem: str) -> int:
    """Write ``figure`` as a complete HTML page with plotly.js inlined; returns its size in
    bytes. The camera button saves an SVG named ``file_stem`` (vector, for papers)."""
    config = {
        "displaylogo": False,  # the logo links to plotly.com
        "showSendToCloud": False,  # the share button uploads the figure to Plotly Cloud
        "responsive": True,
        "toImageButtonOptions": {"format": "svg", "filename": file_stem},
    }
    figure.write_html(path, include_plotlyjs=True, full_html=True, config=config)
    return path.stat().st_size


# --- maps and phase diagrams (record: final runs) ---------------------------------------------

# Plotted loss gaps are clamped here on the log colour scale (an exact hit would be -inf).
GAP_FLOOR = 1e-16
NO_VALUE_GREY = "#9e9e9e"


def _log_gap(grid: CellGrid) -> tuple[np.ndarray, str]:
    """log10 of the loss gap to the minimum (or of the loss when no minimum is known)."""
    values = (
        grid.values["gap"] if not np.isnan(grid.values["gap"]).all() else grid.values["final_loss"]
    )
    title = "log₁₀(final loss − f*)" if values is grid.values["gap"] else "log₁₀(final loss)"
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.log10(np.maximum(values, GAP_FLOOR))
    return np.where(np.isfinite(logged), logged, np.nan), title


def build_cells_figure(
    spec: RunSpec, result: dict[str, Any], grids: list[CellGrid], *, title: str
) -> go.Figure:
    """Heat maps side by side, one column per grid, one row per metric, shared colour scales:
    the final loss (log; diverged cells left blank), the median steps to tolerance among rows
    that reached it (blank where none did), and, with several global minima, which one each
    cell ends nearest to."""
    minima = result["landscape"]["global_minima"]
    metrics = ["loss", "steps"] + (["basin"] if len(minima) > 1 else [])
    figure = make_subplots(
        rows=len(metrics),
        cols=len(grids),
        subplot_titles=[grid.label for grid in grids] + [""] * (len(grids) * (len(metrics) - 1)),
        horizontal_spacing=0.04,
        vertical_spacing=0.08,
    )
    logged = [_log_gap(grid) for grid in grids]
    lows = [np.nanmin(v) for v, _ in logged if not np.isnan(v).all()]
    highs = [np.nanmax(v) for v, _ in logged if not np.isnan(v).all()]
    loss_range = (min(lows), max(highs)) if lows else (0.0, 1.0)
    basin_colours = SERIES_PALETTE[: max(len(minima), 1)]
    for column, (grid, (log_gap, loss_title)) in enumerate(zip(grids, logged, strict=True), 1):
        lo, hi = grid.spread.get("final_loss", (grid.values["final_loss"],) * 2)
        hover = np.dstack([grid.values["final_loss"], grid.values["steps_to_tolerance"],
                           grid.values["reached"] * 100, lo, hi])  # fmt: skip
        common = {"x": grid.x, "y": grid.y, "customdata": hover, "hoverongaps": False}
        template = (
            f"{grid.x_name} %{{x:.4g}}, {grid.y_name} %{{y:.4g}}<br>"
            "final loss %{customdata[0]:.4g} (min %{customdata[3]:.3g}, "
            "max %{customdata[4]:.3g})<br>steps to tolerance "
            "%{customdata[1]:.0f} (%{customdata[2]:.0f}% reached)<extra></extra>"
        )
        figure.add_trace(
            go.Heatmap(
                z=log_gap, zmin=loss_range[0], zmax=loss_range[1], colorscale="Viridis",
                coloraxis=None, showscale=column == 1, hovertemplate=template,
                colorbar={"title": {"text": loss_title, "side": "right"}, "len": 1 / len(metrics),
                          "y": 1 - 0.5 / len(metrics), "thickness": 12},
                **common,
            ),
            row=1, col=column,
        )  # fmt: skip
        figure.add_trace(
            go.Heatmap(
                z=grid.values["steps_to_tolerance"], colorscale="Cividis", zmin=0,
                zmax=result["steps"], showscale=column == 1, hovertemplate=template,
                colorbar={"title": {"text": "steps to tolerance", "side": "right"},
                          "len": 1 / len(metrics), "y": 1 - 1.5 / len(metrics), "thickness": 12},
                **common,
            ),
            row=2, col=column,
        )  # fmt: skip
        if "basin" in metrics:
            count = len(minima)
            # A categorical scale: minimum k is the k-th colour, flat over [k, k + 1).
            scale = [
                [edge, basin_colours[k]]
                for k in range(count)
                for edge in (k / count, (k + 1) / count)
            ]
            figure.add_trace(
                go.Heatmap(
                    z=grid.values["nearest_minimum"], zmin=-0.5, zmax=count - 0.5,
                    colorscale=scale, showscale=column == 1, hovertemplate=template,
                    colorbar={"title": {"text": "nearest minimum", "side": "right"},
                              "tickvals": list(range(count)),
                              "ticktext": [f"({m['point'][0]:.3g}, {m['point'][1]:.3g})"
                                           for m in minima],
                              "len": 1 / len(metrics), "y": 0.5 / len(metrics), "thickness": 12},
                    **common,
                ),
                row=3, col=column,
            )  # fmt: skip
    for column, grid in enumerate(grids, 1):
        for row in range(1, len(metrics) + 1):
            log_x = grid.x_name != "x" and min(grid.x) > 0 and max(grid.x) / min(grid.x) > 20
            figure.update_xaxes(
                title_text=grid.x_name if row == len(metrics) else None,
                type="log" if log_x else None,
                row=row,
                col=column,
            )
            figure.update_yaxes(
                title_text=grid.y_name if column == 1 else None, row=row, col=column
            )
    figure.update_layout(
        title={"text": title},
        height=330 * len(metrics) + 150,
        margin={"t": 150},
        title_y=0.98,
        width=max(700, 380 * len(grids) + 160),
        template="plotly_white",
        # A cell without a value shows the background: diverged (loss, basin) or never within
        # tolerance (steps); a darker grey than any colour of the scales, said in the note.
        plot_bgcolor=NO_VALUE_GREY,
        meta={
            "spec": spec.model_dump(mode="json", exclude_unset=True),
            "versions": result["versions"],
        },
        annotations=[
            *figure.layout.annotations,
            _footnote(result),
            {
                "text": "grey: diverged (final loss, nearest minimum), never within tolerance "
                f"(steps, tolerance {result['tolerance']:g});<br>cells are medians over seeds"
                + (" and starts" if not isinstance(spec.starts, StartsGrid) else ""),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1.0,
                "yshift": 40,
                "yanchor": "bottom",
                "showarrow": False,
                "xanchor": "left",
                "align": "left",
                "font": {"size": 12},
            },
        ],
    )
    return figure


def build_final_figure(
    spec: RunSpec, result: dict[str, Any], *, title: str | None = None
) -> go.Figure:
    """The picture of a ``record: final`` run: maps when its starts are a grid, else the phase
    diagram of every series swept over two hyperparameters.

    Raises:
        ValueError: the run has neither (nothing to draw from summaries alone).
    """
    landscape, _ = spec.landscape.resolve()
    if isinstance(spec.starts, StartsGrid):
        grids = start_maps(spec, result)
        default = f"{landscape.label}: where each start ends, {result['steps']} steps"
    else:
        swept = [i for i, series in enumerate(spec.series) if len(series.sweeps) == 2]
        if not swept:
            raise ValueError(
                "record: a 'final' run draws as maps (starts as a grid) or phase diagrams (a "
                "series swept over two hyperparameters); this run has neither"
            )
        grids = [phase_diagram(spec, result, i) for i in swept]
        default = f"{landscape.label}: final loss over two hyperparameters, {result['steps']} steps"
    return build_cells_figure(spec, result, grids, title=title or default)
