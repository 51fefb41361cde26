"""The ``optiscope`` command line: ``demo`` prints real trajectories and reports divergence as
data; ``run`` answers exactly what the API answers; ``render`` writes a standalone figure."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from plotly.offline import get_plotlyjs

from app import cli
from app.cli import main
from app.presets import get_preset, list_presets
from app.render import build_figure
from app.render_network import build_network_figure
from engine import RunSpec, run_to_result
from engine.network_spec import NetworkRunSpec
from landscapes import get_landscape
from optimizers import Anon


def test_demo_prints_the_real_trajectory_of_a_direct_optimizer_run(capsys):
    main(["demo", "--steps", "40", "--every", "10", "--optimizers", "anon", "--lr", "0.001"])
    printed = re.findall(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)$", capsys.readouterr().out, re.M)
    assert [int(step) for step, *_ in printed] == [10, 20, 30, 40]
    f = get_landscape("rosenbrock").bind()
    p = torch.tensor([[-2.0, 2.0]], dtype=torch.float64, requires_grad=True)
    opt = Anon([p], lr=1e-3)
    expected = {}
    for step in range(1, 41):
        opt.zero_grad()
        f(p).sum().backward()
        opt.step()
        expected[step] = (*p.detach()[0].tolist(), float(f(p.detach())[0]))
    for step, x, y, loss in printed:
        assert (float(x), float(y), float(loss)) == pytest.approx(expected[int(step)], rel=1e-6)


def test_demo_prints_every_optimizer_and_reports_divergence(capsys):
    assert main(["demo", "--steps", "60", "--every", "20", "--optimizers", "adam", "andi"]) == 0
    out = capsys.readouterr().out
    assert "Rosenbrock" in out
    assert "Adam {'lr': 0.001}" in out
    assert "diverged at step" in out  # ANDI's near-SGD steps of |g| ~ 1600 blow up at lr 1e-3
    summary = out.split("final loss")[1]
    assert "Adam" in summary
    assert "ANDI" in summary


def test_hparams_reach_the_optimizer(capsys):
    main(["demo", "--steps", "5", "--optimizers", "anon", "--hparam", "gamma=1"])
    assert "'gamma': 1.0" in capsys.readouterr().out


# --- optiscope run / render -------------------------------------------------------------------

SPEC = {
    "landscape": {"id": "rosenbrock"},
    "noise": {"kind": "gaussian", "sigma": 0.5},
    "seeds": [0, 1],
    "steps": 60,
    "series": [
        {"optimizer": "adam", "hparams": {"lr": 0.01}},
        {
            "optimizer": "anon",
            "hparams": {"lr": 0.001},
            "sweep": {"param": "gamma", "values": [0, 1]},
        },
    ],
}


@pytest.fixture
def spec_file(tmp_path) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC))
    return path


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "output-file"])
def test_run_gives_the_apis_json_answer(client, spec_file, tmp_path, capsys, to_file):
    answer = client.post("/api/runs", json=SPEC)
    assert answer.status_code == 200
    output = tmp_path / "result.json"
    assert main(["run", str(spec_file), *(["-o", str(output)] if to_file else [])]) == 0
    printed = output.read_text() if to_file else capsys.readouterr().out
    assert printed == answer.text + "\n"  # byte for byte, as the API serialises it


def test_run_with_a_progress_bar_gives_the_same_result(client, spec_file, capsys, monkeypatch):
    answer = client.post("/api/runs", json=SPEC).json()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(cli, "PROGRESS_SECONDS", 0.0)  # a chunk, and a redraw, every step
    assert main(["run", str(spec_file)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == answer
    assert "100%  60/60 steps" in captured.err.splitlines()[-1]
    assert captured.err.count("\r") == 61


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"series": [{"optimizer": "adam", "hparams": {"lr": -1}}]}, "series.0.hparams.lr: Input"),
        ({"landscape": {"id": "nowhere"}}, "landscape.id: unknown landscape 'nowhere'"),
        ({"steps": 25_000}, "steps: steps must be at most 20000"),
    ],
    ids=["hparam", "landscape", "budget"],
)
def test_run_refuses_an_invalid_spec_naming_the_field(tmp_path, capsys, change, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**SPEC, **change}))
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_run_applies_the_servers_budget_from_the_environment(spec_file, capsys, monkeypatch):
    monkeypatch.setenv("OPTISCOPE_MAX_STEPS", "50")
    assert main(["run", str(spec_file)]) == 2
    assert "steps: steps must be at most 50" in capsys.readouterr().err


def test_run_refuses_a_file_that_is_not_json(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text("{'landscape': 1}")
    assert main(["run", str(path)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_render_writes_standalone_html_with_the_data(spec_file, tmp_path, capsys):
    output = tmp_path / "figure.html"
    assert main(["render", str(spec_file), "-o", str(output), "--resolution", "30"]) == 0
    assert f"wrote {output}" in capsys.readouterr().out
    html = output.read_text(encoding="utf-8")
    spec = RunSpec.model_validate(SPEC)
    result = run_to_result(spec)
    figure = build_figure(spec, result, resolution=30)
    for label in ("Adam", "Anon gamma=0", "Anon gamma=1"):
        rows = [row for row in result["series"] if row["label"] == label]
        # One path trace per label: the rows' x columns joined by gaps (NaN), exactly.
        xs = np.concatenate([part for row in rows for part in (row["x"], [np.nan])])
        (path,) = [
            t for t in figure.data if t.name == label and t.mode == "lines" and t.xaxis == "x"
        ]
        np.testing.assert_array_equal(np.asarray(path.x), xs)
        assert f'"name":"{label}"' in html
    # The spec travels with the figure (layout.meta.spec), so it can be run again.
    meta, _ = json.JSONDecoder().raw_decode(html, html.index('"meta":') + len('"meta":'))
    assert RunSpec.model_validate(meta["spec"]) == RunSpec.model_validate(SPEC)

    # plotly.js is inlined verbatim. Its own code holds URL strings (map tiles, plotly.com)
    # that a figure without maps never fetches; everything else in the file has no URL at all,
    # so there is no <script src>, <link href> or CDN to load.
    plotly_js = get_plotlyjs()
    assert html.count(plotly_js) == 1
    rest = html.replace(plotly_js, "")
    assert re.findall(r"https?://|cdn\.|<link|<script[^>]*\ssrc=", rest) == []
    assert re.search(r'"showSendToCloud": ?false', rest)  # no button that uploads the figure


MAP_SPEC = {
    "landscape": {"id": "himmelblau"},
    "steps": 60,
    "record": "final",
    "starts": {"grid": {"x": [-4, 4, 6], "y": [-4, 4, 5]}},
    "series": [{"optimizer": "sgd", "hparams": {"lr": 0.01}}, {"optimizer": "adam"}],
}
PHASE_SPEC = {
    "landscape": {"id": "rosenbrock"},
    "steps": 60,
    "record": "final",
    "series": [
        {
            "optimizer": "anon",
            "sweep": [
                {"param": "gamma", "values": [0, 1]},
                {"param": "lr", "values": [1e-3, 1e-2]},
            ],
        }
    ],
}


@pytest.mark.parametrize(("spec", "panels"), [(MAP_SPEC, 2 * 3), (PHASE_SPEC, 1 * 2)])
def test_render_draws_maps_and_phase_diagrams_of_final_runs(spec, panels, tmp_path, capsys):
    """Maps: one column per series, rows final loss, steps to tolerance and (Himmelblau's four
    minima) the basin; a phase diagram: loss and steps over the two hyperparameters."""
    path, output = tmp_path / "spec.json", tmp_path / "cells.html"
    path.write_text(json.dumps(spec))
    assert main(["render", str(path), "-o", str(output)]) == 0
    html = output.read_text(encoding="utf-8")
    start = html.index("Plotly.newPlot(")
    data, _ = json.JSONDecoder().raw_decode(html, html.index("[", start))
    heatmaps = [trace for trace in data if trace["type"] == "heatmap"]
    assert len(heatmaps) == panels
    if spec is PHASE_SPEC:
        assert heatmaps[0]["x"] == [1e-3, 1e-2]
        assert heatmaps[0]["y"] == [0, 1]


def test_render_refuses_a_final_run_with_nothing_to_draw(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**SPEC, "record": "final"}))
    assert main(["render", str(path), "-o", str(tmp_path / "x.html")]) == 2
    assert "maps (starts as a grid) or phase diagrams" in capsys.readouterr().err


def test_render_list_shows_the_presets_of_the_page(capsys):
    assert main(["render", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    presets = list_presets()
    assert len(lines) == len(presets)
    for line, preset in zip(lines, presets, strict=True):
        assert line.split(maxsplit=1) == [preset.id, preset.title]


def test_render_a_preset_to_its_default_file_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    preset = get_preset("andi-normalized")
    assert main(["render", preset.id, "--resolution", "20", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    html = (tmp_path / f"{preset.id}.html").read_text(encoding="utf-8")
    assert json.dumps(preset.title)[1:-1] in html
    assert '"name":"ANDI"' in html


def test_render_refuses_an_unknown_preset(capsys):
    assert main(["render", "no-such-preset"]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'no-such-preset'" in err
    assert "tour" in err


NETWORK_SPEC = {
    "task": {"id": "circles", "params": {"n": 80}, "model": {"hidden": [17, 17]}},
    "steps": 30,
    "series": [{"optimizer": "andi", "hparams": {"lr": 0.01}}],
    "plane": {"resolution": 7},
}


def test_run_trains_a_network_spec_as_the_api_does(client, tmp_path, capsys):
    path = tmp_path / "network.json"
    path.write_text(json.dumps(NETWORK_SPEC))
    answer = client.post("/api/runs", json=NETWORK_SPEC)
    assert answer.status_code == 200
    assert main(["run", str(path)]) == 0
    assert capsys.readouterr().out == answer.text + "\n"


def test_render_draws_a_network_run(tmp_path, capsys):
    path, output = tmp_path / "network.json", tmp_path / "network.html"
    path.write_text(json.dumps(NETWORK_SPEC))
    assert main(["render", str(path), "-o", str(output)]) == 0
    assert "1 networks" in capsys.readouterr().out
    html = output.read_text(encoding="utf-8")
    assert "decision boundary at step 30" in html
    assert "Loss around the path (PCA plane" in html
    assert "The same plane as a surface" in html
    meta, _ = json.JSONDecoder().raw_decode(html, html.index('"meta":') + len('"meta":'))
    assert NetworkRunSpec.model_validate(meta["spec"]) == NetworkRunSpec.model_validate(
        NETWORK_SPEC
    )


def test_the_rendered_plane_is_a_contour_and_a_surface_with_the_path_on_it(client):
    spec = NetworkRunSpec.model_validate(NETWORK_SPEC)
    result = client.post("/api/runs", json=NETWORK_SPEC).json()
    plane = result["series"][0]["plane"]
    figure = build_network_figure(spec, result)
    (surface,) = [trace for trace in figure.data if trace.type == "surface"]
    (path,) = [trace for trace in figure.data if trace.type == "scatter3d"]
    (contour,) = [
        trace
        for trace in figure.data
        if trace.name == "loss on the plane" and trace.type == "contour"
    ]
    # One grid, two views: the surface's heights are the contour's, log10 of the plane's loss.
    assert np.array_equal(np.asarray(surface.z), np.asarray(contour.z))
    expected = np.log10(np.array(plane["loss"], dtype=float).T)
    np.testing.assert_array_equal(np.asarray(surface.z), expected)
    # The path lies on the surface: at each kept step, the loss on the plane there.
    np.testing.assert_array_equal(np.asarray(path.x), [p[0] for p in plane["path"]])
    np.testing.assert_array_equal(np.asarray(path.z), np.log10(plane["path_loss"]))
    assert path.z[-1] == pytest.approx(np.log10(result["series"][0]["final_loss"]), abs=1e-12)


def test_run_refuses_a_bad_network_spec_naming_the_field(tmp_path, capsys):
    path = tmp_path / "network.json"
    path.write_text(json.dumps({**NETWORK_SPEC, "task": {"id": "circles", "params": {"n": 2}}}))
    assert main(["run", str(path)]) == 2
    assert "task.params.n" in capsys.readouterr().err
