"""The presets the page (and the command line) offer: valid runs that show what they narrate."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.presets import UnknownPresetError, get_preset, list_presets
from app.settings import Settings
from engine import RunSpec, check_budget, run_to_result


@pytest.mark.parametrize("preset", list_presets(), ids=lambda preset: preset.id)
def test_every_preset_is_a_valid_run_within_the_default_budget(preset):
    spec = RunSpec.model_validate(preset.spec)
    check_budget(spec, Settings().limits)
    assert preset.narration.strip()
    if preset.view.gamma_slider:
        assert any(s.sweep and s.sweep.param == "gamma" for s in spec.series)


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
