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
from landscapes import sample_surface
from optimizers.registry import get_optimizer

__all__ = ["DEFAULT_RESOLUTION", "build_figure", "write_standalone_html"]

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
