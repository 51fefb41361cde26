"""Presets: ready-made runs that each teach one thing, with a short narration.

The one list of presets, shared by the page (``GET /api/presets``) and the command line. The
first preset is what the page shows on a first visit. Every ``spec`` is a ``RunSpec`` as JSON
(tests validate each against ``engine.RunSpec``); the learning rates were chosen by running
them, and the narrations say how.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Preset", "PresetView", "UnknownPresetError", "get_preset", "list_presets"]

GAMMA_FAN = [-0.5, 0.0, 0.5, 1.0, 1.5]

# The jettify/pytorch-optimizer galleries' protocol, which the Anon paper's figures follow:
# their start points, 500 steps and the gradient norm clipped to 1.0.
_GALLERY = {"steps": 500, "clip_grad_norm": 1.0}
_GALLERY_NOTE = (
    "The paper publishes neither start points nor learning rates, so this preset follows the "
    "protocol of the jettify/pytorch-optimizer galleries its figures resemble: start at {start}, "
    "500 steps, gradient norm clipped to 1.0 (the Run panel shows it; untick to compare)."
)


class PresetView(BaseModel):
    """How the page should present a preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gamma_slider: bool = Field(False, description="Show the gamma adaptivity slider and fan.")


class Preset(BaseModel):
    """A run with a title and a narration of what to look for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    narration: str = Field(description="A few sentences of plain text: what to look for.")
    spec: dict[str, Any] = Field(description="A RunSpec as JSON.")
    view: PresetView = PresetView()


class UnknownPresetError(KeyError):
    def __str__(self) -> str:
        known = ", ".join(preset.id for preset in _PRESETS)
        return f"unknown preset {self.args[0]!r}; known: {known}"


def _series(optimizer: str, **hparams: float | bool) -> dict[str, Any]:
    return {"optimizer": optimizer, "hparams": hparams}


_PRESETS: tuple[Preset, ...] = (
    Preset(
        id="tour",
        title="Seven optimizers on Rosenbrock",
        narration=(
            "Rosenbrock's curved valley is easy to find and slow to follow. Each optimizer runs "
            "with a learning rate that works for it here, without gradient clipping: compare how "
            "they enter the valley, whether they zig-zag across it, and how long the last stretch "
            "to the minimum at (1, 1) takes in the loss plot."
        ),
        spec={
            "landscape": {"id": "rosenbrock"},
            "start": [-2.0, 2.0],
            "steps": 500,
            "series": [
                _series("ano", lr=0.1),
                _series("anon", lr=0.3, gamma=1.0),
                _series("andi", lr=3e-4),
                _series("yogi", lr=0.3),
                _series("adam", lr=0.3),
                _series("sgd", lr=1e-3, momentum=0.9),
                _series("lion", lr=0.01),
            ],
        },
    ),
    Preset(
        id="anon-gamma-rosenbrock",
        title="Anon's gamma on Rosenbrock",
        narration=(
            "Anon's adaptivity exponent gamma slides between SGD with momentum (gamma = 0) and "
            "Adam-like steps (gamma = 1), and beyond both. The fan shows gamma in "
            "{-0.5, 0, 0.5, 1, 1.5} at lr 0.01: here more adaptivity travels further along the "
            "valley, and the final loss falls steadily with gamma. Drag the slider to follow one "
            "path; the dots mark the preconditioner refreshes at steps 1, 2, 4, 8, ... "
            + _GALLERY_NOTE.format(start="(-2, 2)")
            + " Without clipping, gamma = -0.5 diverges at the first step: the gradient at the "
            "start is about 1600."
        ),
        spec={
            "landscape": {"id": "rosenbrock"},
            "start": [-2.0, 2.0],
            **_GALLERY,
            "series": [
                {**_series("anon", lr=0.01), "sweep": {"param": "gamma", "values": GAMMA_FAN}}
            ],
        },
        view=PresetView(gamma_slider=True),
    ),
    Preset(
        id="anon-gamma-rastrigin",
        title="Anon's gamma on Rastrigin",
        narration=(
            "Rastrigin is a bowl covered in ripples, each ripple a local minimum. With lr 1.0 the "
            "gamma fan splits: small gamma stays within a ripple of where it starts, "
            "gamma = 0.5 reaches the basin next to the global minimum, and gamma = 1.5 is flung "
            "far away. Adaptivity "
            "changes which minimum you end in, not only how fast. "
            + _GALLERY_NOTE.format(start="(-2, 3.5)")
        ),
        spec={
            "landscape": {"id": "rastrigin"},
            "start": [-2.0, 3.5],
            **_GALLERY,
            "series": [
                {**_series("anon", lr=1.0), "sweep": {"param": "gamma", "values": GAMMA_FAN}}
            ],
        },
        view=PresetView(gamma_slider=True),
    ),
    Preset(
        id="anon-paper-rosenbrock",
        title="Anon paper: eight optimizers on Rosenbrock",
        narration=(
            "The comparison of the Anon paper's figure: Anon, AdaBelief, AdaBound, AdaHessian, "
            "Adam, RAdam, SGD and Yogi. Each learning rate is the one with the lowest final loss "
            "on the grid 0.001, 0.003, 0.01, ..., 30 under this protocol (AdaHessian needs 30 "
            "because its step divides by the curvature). " + _GALLERY_NOTE.format(start="(-2, 2)")
        ),
        spec={
            "landscape": {"id": "rosenbrock"},
            "start": [-2.0, 2.0],
            **_GALLERY,
            "series": [
                _series("anon", lr=0.03),
                _series("adabelief", lr=0.01),
                _series("adabound", lr=0.01),
                _series("adahessian", lr=30.0),
                _series("adam", lr=0.03),
                _series("radam", lr=0.03),
                _series("sgd", lr=0.1),
                _series("yogi", lr=0.03),
            ],
        },
    ),
    Preset(
        id="anon-paper-rastrigin",
        title="Anon paper: eight optimizers on Rastrigin",
        narration=(
            "The same comparison on Rastrigin, learning rates again the best of the grid "
            "0.001, 0.003, ..., 30. No optimizer reaches the global minimum at (0, 0) from this "
            "start; large steps hop over ripples, small ones settle in the nearest. "
            + _GALLERY_NOTE.format(start="(-2, 3.5)")
        ),
        spec={
            "landscape": {"id": "rastrigin"},
            "start": [-2.0, 3.5],
            **_GALLERY,
            "series": [
                _series("anon", lr=3.0),
                _series("adabelief", lr=1.0),
                _series("adabound", lr=0.001),
                _series("adahessian", lr=1.0),
                _series("adam", lr=1.0),
                _series("radam", lr=3.0),
                _series("sgd", lr=0.003),
                _series("yogi", lr=1.0),
            ],
        },
    ),
    Preset(
        id="noise-ano-adam-yogi",
        title="Ano, Adam and Yogi as gradient noise grows",
        narration=(
            "Ano takes its direction from the sign of the momentum and its size from the current "
            "gradient, which is meant to make it robust to noisy gradients. Eight seeds of "
            "Gaussian gradient noise (sigma = 2) on the ill-conditioned quadratic, all at lr 0.03: "
            "the loss plot shows each optimizer's median and its 10-90% band. Change sigma and run "
            "again: at 0.5 Ano's median final loss is several times lower than Adam's and Yogi's, "
            "at 8 the three are within about 10%."
        ),
        spec={
            "landscape": {"id": "ill_conditioned"},
            "noise": {"kind": "gaussian", "sigma": 2.0},
            "seeds": list(range(8)),
            "steps": 300,
            "series": [_series("ano", lr=0.03), _series("adam", lr=0.03), _series("yogi", lr=0.03)],
        },
    ),
    Preset(
        id="anolog-momentum",
        title="Anolog's momentum schedule",
        narration=(
            "Anolog is Ano without beta1: its momentum coefficient 1 - 1/ln(t) starts small and "
            "grows, so early steps follow the gradient closely and later ones average over a "
            "window that widens like ln t. At the same lr (0.1) it follows Ano's path and ends a "
            "little closer to the minimum; Adam at that lr is still in the valley."
        ),
        spec={
            "landscape": {"id": "rosenbrock"},
            "start": [-2.0, 2.0],
            "steps": 500,
            "series": [_series("ano", lr=0.1), _series("anolog", lr=0.1), _series("adam", lr=0.1)],
        },
    ),
    Preset(
        id="andi-normalized",
        title="ANDI's normalized steps",
        narration=(
            "ANDI rescales the gradient g to length about sqrt(|g|^2 + 1)/|g| times itself: "
            "steps of near-constant size whatever the steepness, with Nesterov momentum on top. "
            "On a matrix parameter ANDI also equilibrates rows and columns; a 2-D point is a "
            "vector, so only this vector branch can show here. Against plain SGD on a quadratic "
            "with condition number 100: ANDI's steps keep their size on the flat axis, where "
            "SGD's shrink with the gradient."
        ),
        spec={
            "landscape": {"id": "ill_conditioned", "params": {"condition_number": 100.0}},
            "steps": 200,
            "series": [_series("andi", lr=0.01), _series("sgd", lr=0.1)],
        },
    ),
    Preset(
        id="adam-vs-sgd-ill-conditioned",
        title="Adam vs SGD on an ill-conditioned quadratic",
        narration=(
            "With condition number 100 the bowl is 100 times steeper across than along. SGD's "
            "step is proportional to the gradient, so it crawls along the flat direction; Adam "
            "divides each coordinate by its own gradient scale and moves along both axes at "
            "similar speed. Its scaling works per coordinate, so the bowl's angle matters: set "
            "it to 0 (axes aligned with the bowl) and Adam reaches the tolerance in about 30 "
            "steps; at 30 degrees it has not after 200."
        ),
        spec={
            "landscape": {"id": "ill_conditioned", "params": {"condition_number": 100.0}},
            "steps": 200,
            "series": [_series("adam", lr=0.1), _series("sgd", lr=0.1)],
        },
    ),
)


def list_presets() -> list[Preset]:
    """Every preset, the page's first-visit run first."""
    return list(_PRESETS)


def get_preset(preset_id: str) -> Preset:
    for preset in _PRESETS:
        if preset.id == preset_id:
            return preset
    raise UnknownPresetError(preset_id)
