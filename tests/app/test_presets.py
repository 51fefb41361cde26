"""The presets the page (and the command line) offer: valid runs that show what they narrate."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.presets import UnknownPresetError, get_preset, list_presets
from app.settings import Settings
from engine import RunSpec, check_budget, run_to_result
from engine.network_spec import NetworkRunSpec, check_network_budget
from engine.training import train_to_result


@pytest.mark.parametrize("preset", list_presets(), ids=lambda preset: preset.id)
def test_every_preset_is_a_valid_run_within_the_default_budget(preset):
    if "task" in preset.spec:
        spec = NetworkRunSpec.model_validate(preset.spec)
        check_network_budget(spec, Settings().network_limits)
    else:
        spec = RunSpec.model_validate(preset.spec)
        check_budget(spec, Settings().limits)
    assert preset.narration.strip()
    if preset.view.gamma_slider:
        assert any(s.sweep and s.sweep.param == "gamma" for s in spec.series)


def _trained(preset_id: str) -> dict[str, list[dict]]:
    """A network preset's rows by label, trained at one thread (a few seconds)."""
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        spec = NetworkRunSpec.model_validate(get_preset(preset_id).spec)
        result = train_to_result(spec, configured_device="cpu")
    finally:
        torch.set_num_threads(torch_threads)
    assert all(row["diverged_at"] is None for row in result["series"])
    return _rows_by_label(result)


def test_andi_adam_and_sgd_all_learn_the_spirals_as_narrated():
    rows = _trained("andi-spirals")
    final = {label: found[0]["final_loss"] for label, found in rows.items()}
    assert all(found[0]["final_accuracy"] >= 0.95 for found in rows.values())
    assert final["Adam"] < final["SGD"] < final["ANDI"]


def test_anons_loss_on_the_spirals_falls_as_gamma_grows_as_narrated():
    rows = _trained("anon-gamma-spirals")
    by_gamma = sorted((found[0]["hparams"]["gamma"], found[0]) for found in rows.values())
    final = [row["final_loss"] for _, row in by_gamma]
    assert final == sorted(final, reverse=True)
    for gamma, row in by_gamma:
        if gamma <= 0.5:  # SGD-like at this rate: near chance (ln 2 = 0.69)
            assert row["final_loss"] > 0.5
        else:
            assert row["final_accuracy"] >= 0.95


def test_ano_learns_the_spirals_from_minibatches_where_adam_stalls_as_narrated():
    rows = _trained("ano-minibatch-spirals")
    for ano, adam in zip(rows["Ano"], rows["Adam"], strict=True):
        assert ano["seed"] == adam["seed"]
        assert ano["final_accuracy"] >= 0.9
        assert adam["final_loss"] > 0.5


def test_preset_ids_are_unique_and_looked_up():
    ids = [preset.id for preset in list_presets()]
    assert len(ids) == len(set(ids))
    assert get_preset(ids[1]).id == ids[1]
    with pytest.raises(UnknownPresetError, match="known: tour"):
        get_preset("nope")


def test_the_api_serves_the_presets():
    with TestClient(create_app(Settings()), base_url="http://127.0.0.1") as client:
        served = client.get("/api/presets").json()
    assert served == [preset.model_dump() for preset in list_presets()]


def test_anon_gamma_fan_on_rosenbrock_improves_with_gamma_as_narrated():
    result = run_to_result(RunSpec.model_validate(get_preset("anon-gamma-rosenbrock").spec))
    final = [row["final_loss"] for row in result["series"]]
    assert all(row["diverged_at"] is None for row in result["series"])
    assert final == sorted(final, reverse=True)


def _rows_by_label(result: dict) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in result["series"]:
        rows.setdefault(row["label"], []).append(row)
    return rows


def test_the_himmelblau_map_ends_in_minima_as_narrated():
    preset = get_preset("himmelblau-basins")
    spec = RunSpec.model_validate(preset.spec)
    assert spec.record == "final"
    assert spec.start_count() == 64 * 64
    result = run_to_result(spec)
    rows = _rows_by_label(result)
    assert list(rows) == ["SGD", "Adam", "Anon"]
    # Every start reaches the tolerance; SGD never diverges, Anon is flung off from 2 starts.
    for label, members in rows.items():
        assert all(row["steps_to_tolerance"] is not None for row in members), label
    assert [sum(r["diverged_at"] is not None for r in rows[k]) for k in rows] == [0, 0, 2]
    # All four basins are used, and the adaptive ones split the plane differently from SGD.
    assert {row["nearest_minimum"] for row in rows["SGD"]} == {0, 1, 2, 3}
    apart = sum(
        sgd["nearest_minimum"] != adam["nearest_minimum"]
        for sgd, adam in zip(rows["SGD"], rows["Adam"], strict=True)
    )
    assert 250 < apart < 350


def test_anons_phase_diagram_on_rosenbrock_has_the_narrated_diverging_edge():
    from engine.maps import phase_diagram

    preset = get_preset("anon-phase-rosenbrock")
    spec = RunSpec.model_validate(preset.spec)
    gammas, lrs = (sweep.values for sweep in spec.series[0].sweeps)
    assert (len(gammas), len(lrs), len(spec.seeds), spec.steps) == (25, 13, 4, 300)
    grid = phase_diagram(spec, run_to_result(spec), 0)
    diverged = ~np.isfinite(grid.values["final_loss"])
    # gamma <= -0.5 diverges at every rate, gamma >= 0.75 at none.
    assert diverged[np.array(gammas) <= -0.5].all()
    assert not diverged[np.array(gammas) >= 0.75].any()
    # Above, the first diverging rate never falls as gamma grows.
    first = [row.argmax() if row.any() else len(lrs) for row in diverged[np.array(gammas) > -0.5]]
    assert first == sorted(first)
    assert np.isnan(grid.values["steps_to_tolerance"]).all(), "no cell within tolerance"


@pytest.mark.parametrize("preset_id", ["anon-paper-rosenbrock-tuned", "anon-paper-rastrigin-tuned"])
def test_the_tuned_paper_presets_give_every_series_the_same_budget(preset_id):
    spec = RunSpec.model_validate(get_preset(preset_id).spec)
    untuned = get_preset(preset_id.removesuffix("-tuned")).spec
    assert [s.optimizer for s in spec.series] == [s["optimizer"] for s in untuned["series"]]
    assert spec.tune is not None
    assert spec.tune.param == "lr"
    assert not set(spec.tune.seeds) & set(spec.seeds), "held-out seeds are not tuning seeds"
    assert spec.noise is not None, "without noise every seed would run the same path"
    # The gallery protocol of the untuned preset beside it.
    assert list(spec.start) == untuned["start"]
    assert (spec.steps, spec.clip_grad_norm) == (untuned["steps"], untuned["clip_grad_norm"])


@pytest.mark.parametrize(
    ("preset_id", "heatmaps"), [("himmelblau-basins", 3 * 3), ("anon-phase-rastrigin", 2)]
)
def test_optiscope_render_draws_the_map_and_phase_presets(preset_id, heatmaps, tmp_path, capsys):
    """`optiscope render PRESET` draws a map preset as maps (3 series x loss, steps, basin) and
    a phase preset as its phase diagram (loss, steps)."""
    output = tmp_path / "out.html"
    assert main(["render", preset_id, "-o", str(output), "--quiet"]) == 0
    html = output.read_text(encoding="utf-8")
    data, _ = json.JSONDecoder().raw_decode(html, html.index("[", html.index("Plotly.newPlot(")))
    assert sum(trace["type"] == "heatmap" for trace in data) == heatmaps
