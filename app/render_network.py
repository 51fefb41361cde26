"""Standalone figures of a network run for ``optiscope render``: one HTML file, Plotly inlined.

Top left, every row's training loss (solid) and held-out loss (dotted) against the step, log
axis; top right, held-out accuracy (classification) or the gradient norm (regression). Bottom
left, the first row's last snapshot: its decision boundary (the probability of its most likely
class over the task's view box) with the training points, or its fitted curve over them.
Bottom right, when the run computed planes, the first row's loss landscape around its path
(engine/network_plane.py) with the path on it and the plane's explained variance, and below,
the full width, the same plane as a 3-D surface with the path lying on it (its height is the
loss on the plane under each kept step, ``path_loss``). Rows of one label share a colour and a
legend entry, as in app/render.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.render import SERIES_PALETTE, SHARED_LABEL_OPACITY
from engine.network_spec import NetworkRunSpec

__all__ = ["build_network_figure"]

# Where a plane's loss is not finite it is drawn at the top of the colour scale's range.
PLANE_FLOOR = 1e-12


def build_network_figure(
    spec: NetworkRunSpec, result: dict[str, Any], *, title: str | None = None
) -> go.Figure:
    """The figure of ``result``, a network run's whole result (``record: full``) for ``spec``;
    the spec travels with it (``layout.meta.spec``), so it can be run again.

    Raises:
        ValueError: the result holds no columns (a ``record: final`` run).
    """
    rows = result["series"]
    if result["record"] != "full":
        raise ValueError("a network run's figure needs its columns: run it with record 'full'")
    classification = result["task"]["data"]["kind"] == "classification"
    labels = list(dict.fromkeys(row["label"] for row in rows))
    colours = {label: SERIES_PALETTE[i % len(SERIES_PALETTE)] for i, label in enumerate(labels)}
    first = rows[0]
    plane = first.get("plane")
    has_plane = plane is not None and plane.get("loss") is not None
    titles = (
        "Loss (training solid, held-out dotted)",
        "Held-out accuracy" if classification else "Gradient norm",
        f"{first['label']}: decision boundary at step {first['last_snapshot'].get('step', '?')}"
        if classification
        else f"{first['label']}: fitted curve",
        _plane_title(plane) if has_plane else "",
    )
    if has_plane:
        figure = make_subplots(
            rows=3, cols=2, subplot_titles=(*titles, "The same plane as a surface", ""),
            specs=[[{}, {}], [{}, {}], [{"type": "scene", "colspan": 2}, None]],
            row_heights=[0.3, 0.3, 0.4], vertical_spacing=0.08, horizontal_spacing=0.1,
        )  # fmt: skip
    else:
        figure = make_subplots(
            rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.14, horizontal_spacing=0.1
        )
    shown: set[str] = set()
    shared = {label: sum(row["label"] == label for row in rows) > 1 for label in labels}
    for row in rows:
        label = row["label"]
        style = {"color": colours[label], "width": 1.5}
        common = {
            "legendgroup": label,
            "opacity": SHARED_LABEL_OPACITY if shared[label] else 1.0,
            "hovertemplate": (
                f"{label} (seed {row['seed']})<br>step %{{x}}: %{{y:.4g}}<extra></extra>"
            ),
        }
        steps = np.asarray(row["steps"])
        figure.add_trace(
            go.Scatter(
                x=steps, y=np.asarray(row["loss"]), mode="lines", name=label, line=style,
                showlegend=label not in shown, **common,
            ),
            row=1, col=1,
        )  # fmt: skip
        shown.add(label)
        figure.add_trace(
            go.Scatter(
                x=steps, y=np.asarray(row["held_out_loss"]), mode="lines", name=label,
                line={**style, "dash": "dot"}, showlegend=False, **common,
            ),
            row=1, col=1,
        )  # fmt: skip
        second = row["accuracy"] if classification else row["grad_norm"]
        figure.add_trace(
            go.Scatter(
                x=steps, y=np.asarray(second), mode="lines", name=label, line=style,
                showlegend=False, **common,
            ),
            row=1, col=2,
        )  # fmt: skip
    figure.update_yaxes(type="log", title_text="loss", row=1, col=1)
    figure.update_xaxes(title_text="step", row=1, col=1)
    figure.update_xaxes(title_text="step", row=1, col=2)
    if not classification:
        figure.update_yaxes(type="log", row=1, col=2)
    _add_snapshot(figure, result, first, classification)
    if has_plane:
        _add_plane(figure, plane, colours[first["label"]])
    figure.update_layout(
        title=title or f"{result['task']['label']}: {', '.join(labels)}",
        template="plotly_white",
        height=1500 if has_plane else 900,
        legend={"orientation": "h", "y": -0.05 if has_plane else -0.08},
        annotations=[*figure.layout.annotations, _footnote(result)],
        meta={
            "spec": spec.model_dump(mode="json", exclude_unset=True),
            "versions": result["versions"],
        },
    )
    return figure


def _plane_title(plane: dict[str, Any] | None) -> str:
    if plane is None:
        return ""
    if plane["kind"] == "pca":
        first, second = plane["explained_variance"]
        return f"Loss around the path (PCA plane: {first:.0%} + {second:.0%} of its variance)"
    return "Loss around the path (filter-normalised random plane)"


def _add_snapshot(
    figure: go.Figure, result: dict[str, Any], row: dict[str, Any], classification: bool
) -> None:
    data = result["task"]["data"]
    grid = result["snapshots"]["grid"]
    points = np.asarray(data["x_train"])
    targets = np.asarray(data["y_train"])
    snapshot = row.get("last_snapshot") or {}
    if classification:
        if "probabilities" in snapshot:
            probabilities = np.asarray(snapshot["probabilities"])  # (classes, y, x)
            figure.add_trace(
                go.Heatmap(
                    x=grid["x"], y=grid["y"], z=probabilities.max(axis=0),
                    customdata=probabilities.argmax(axis=0), colorscale="Greys", zmin=0, zmax=1,
                    reversescale=True, showscale=False,
                    hovertemplate="class %{customdata}: p = %{z:.2f}<extra></extra>",
                ),
                row=2, col=1,
            )  # fmt: skip
            if probabilities.shape[0] == 2:  # the boundary itself: where both are 1/2
                figure.add_trace(
                    go.Contour(
                        x=grid["x"], y=grid["y"], z=probabilities[1], showscale=False,
                        contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "lines"},
                        colorscale=[[0, "black"], [1, "black"]], line={"width": 2},
                        hoverinfo="skip",
                    ),
                    row=2, col=1,
                )  # fmt: skip
        for klass in range(data["classes"]):
            chosen = targets == klass
            figure.add_trace(
                go.Scatter(
                    x=points[chosen, 0], y=points[chosen, 1], mode="markers",
                    marker={"size": 5, "color": SERIES_PALETTE[klass % len(SERIES_PALETTE)],
                            "line": {"width": 0.5, "color": "white"}},
                    name=f"class {klass}", legendgroup="data", showlegend=False,
                    hovertemplate=f"class {klass}<extra></extra>",
                ),
                row=2, col=1,
            )  # fmt: skip
        figure.update_yaxes(scaleanchor="x3", row=2, col=1)
        return
    figure.add_trace(
        go.Scatter(
            x=points[:, 0], y=targets, mode="markers", marker={"size": 4, "color": "grey"},
            name="training points", showlegend=False,
        ),
        row=2, col=1,
    )  # fmt: skip
    if "prediction" in snapshot:
        figure.add_trace(
            go.Scatter(
                x=grid["x"], y=np.asarray(snapshot["prediction"]), mode="lines",
                line={"color": "black", "width": 2}, name="fit", showlegend=False,
            ),
            row=2, col=1,
        )  # fmt: skip


def _log_loss(values: Any) -> np.ndarray:
    """log10 of losses given with ``None`` where not finite (NaN there, a gap in the plot)."""
    array = np.array(values, dtype=float)  # None becomes NaN
    return np.log10(np.maximum(array, PLANE_FLOOR))


def _add_plane(figure: go.Figure, plane: dict[str, Any], colour: str) -> None:
    # Contour takes z[y][x]: beta down, alpha across. Log colours: the loss spans decades.
    log_loss = _log_loss(plane["loss"]).T
    low, high = figure.get_subplot(2, 2).yaxis.domain  # the colour bar beside the contour
    figure.add_trace(
        go.Contour(
            x=plane["alpha"], y=plane["beta"], z=log_loss, name="loss on the plane",
            colorscale="Viridis", ncontours=25, showscale=True,
            colorbar={"title": "log10 loss", "x": 1.02, "y": (low + high) / 2,
                      "len": high - low},
            hovertemplate="alpha %{x:.3g}, beta %{y:.3g}: log10 loss %{z:.3f}<extra></extra>",
        ),
        row=2, col=2,
    )  # fmt: skip
    path = np.asarray(plane["path"])
    figure.add_trace(
        go.Scatter(
            x=path[:, 0], y=path[:, 1], mode="lines+markers", line={"color": colour, "width": 2},
            marker={"size": 3}, name="path", showlegend=False,
            hovertemplate="alpha %{x:.3g}, beta %{y:.3g}<extra>path</extra>",
        ),
        row=2, col=2,
    )  # fmt: skip
    figure.update_xaxes(title_text="alpha", row=2, col=2)
    figure.update_yaxes(title_text="beta", row=2, col=2)
    figure.add_trace(
        go.Surface(
            x=plane["alpha"], y=plane["beta"], z=log_loss, colorscale="Viridis",
            showscale=False, opacity=0.92, name="loss on the plane",
            hovertemplate="alpha %{x:.3g}, beta %{y:.3g}: log10 loss %{z:.3f}<extra></extra>",
        ),
        row=3, col=1,
    )  # fmt: skip
    figure.add_trace(
        go.Scatter3d(
            x=path[:, 0], y=path[:, 1], z=_log_loss(plane["path_loss"]), mode="lines+markers",
            line={"color": colour, "width": 6}, marker={"size": 2, "color": colour},
            name="path", showlegend=False,
            hovertemplate="alpha %{x:.3g}, beta %{y:.3g}: log10 loss %{z:.3f}<extra>path</extra>",
        ),
        row=3, col=1,
    )  # fmt: skip
    figure.update_scenes(
        xaxis_title="alpha", yaxis_title="beta", zaxis_title="log10 loss",
        aspectmode="manual", aspectratio={"x": 1.6, "y": 1.6, "z": 0.8},
        camera={"eye": {"x": 1.4, "y": -1.6, "z": 1.0}},
    )  # fmt: skip


def _footnote(result: dict[str, Any]) -> dict[str, Any]:
    """What the numbers were computed with, under the figure."""
    versions, model = result["versions"], result["model"]
    batch = result["batch_size"] or "full batch"
    text = (
        f"Optiscope {versions.get('optiscope', '?')} · torch {versions['torch']} · "
        f"{result['dtype']} on {result['device']} · network {model['hidden']} "
        f"{model['activation']} ({model['parameters']} parameters) · batch: {batch}"
    )
    return {
        "text": text, "xref": "paper", "yref": "paper", "x": 1, "y": -0.12,
        "xanchor": "right", "showarrow": False, "font": {"size": 10, "color": "grey"},
    }  # fmt: skip
