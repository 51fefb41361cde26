"""Facts the page reads from registry entries instead of testing optimizer ids."""

from __future__ import annotations

import pytest

from optimizers.registry import OptimizerEntry, get_optimizer, list_optimizers


def test_anons_gamma_is_its_adaptivity_exponent_and_adabounds_is_not():
    assert get_optimizer("anon").adaptivity_exponent == "gamma"
    assert "gamma" in get_optimizer("adabound").hparams.model_fields
    assert get_optimizer("adabound").adaptivity_exponent is None


def test_only_anon_marks_preconditioner_refreshes():
    marked = {e.id for e in list_optimizers() if e.preconditioner_refreshes is not None}
    assert marked == {"anon"}


@pytest.mark.parametrize("entry", list_optimizers(), ids=lambda e: e.id)
def test_the_facts_are_served_and_name_real_hyperparameters(entry):
    capabilities = entry.describe()["capabilities"]
    assert capabilities["adaptivity_exponent"] == entry.adaptivity_exponent
    assert capabilities["preconditioner_refreshes"] == entry.preconditioner_refreshes
    if entry.adaptivity_exponent is not None:
        schema = entry.hparams.model_json_schema()["properties"][entry.adaptivity_exponent]
        assert schema["type"] == "number"


def test_an_adaptivity_exponent_must_be_a_hyperparameter():
    anon = get_optimizer("anon")
    with pytest.raises(ValueError, match="adaptivity_exponent 'alpha'"):
        OptimizerEntry(**{**anon.__dict__, "adaptivity_exponent": "alpha"})
