"""Presets: ready-made runs that each teach one thing, with a short narration.

The one list of presets, shared by the page (``GET /api/presets``) and the command line. The
first preset is what the page shows on a first visit. Every ``spec`` is a ``RunSpec`` as JSON,
or, with a ``task``, a network run's ``NetworkRunSpec`` (tests validate each); the learning
rates were chosen by running them, and the narrations say how.
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
    spec: dict[str, Any] = Field(
        description="A RunSpec as JSON, or a network run's (with a 'task')."
    )
    view: PresetView = PresetView()


class UnknownPresetError(KeyError):
    def __str__(self) -> str:
        known = ", ".join(preset.id for preset in _PRESETS)
        return f"unknown preset {self.args[0]!r}; known: {known}"


def _series(optimizer: str, **hparams: float | bool) -> dict[str, Any]:
    return {"optimizer": optimizer, "hparams": hparams}


# The Anon paper's comparison set, in its figure's order.
_PAPER_SET = ("anon", "adabelief", "adabound", "adahessian", "adam", "radam", "sgd", "yogi")
# A tuned comparison: every series' learning rate picked from the same 11 candidates (half
# decades from 0.001 to 100, wide enough for AdaHessian's large rates) on the server's default
# tuning seeds, by the median final loss. Gradient noise makes the held-out seeds differ from
# the tuning seeds, so the choice is reported on runs it never saw.
_TUNE_LR = {"param": "lr", "grid": [0.001, 100.0, 11], "objective": "final_loss"}
_TUNED_NOISE = {"kind": "gaussian", "sigma": 1.0}
_TUNED_NOTE = (
    "Every optimizer gets the same budget: the learning rates 0.001, 0.0032, 0.01, ..., 100 "
    "(half decades), each run on 4 tuning seeds; each keeps the rate with the lowest median "
    "final loss, and the paths shown are 4 other seeds, which the choice never saw (the panel "
    "above the plots lists the choices and every candidate's score). The protocol is the "
    "gallery preset's (start {start}, 500 steps, gradient norm clipped to 1.0) plus Gaussian "
    "gradient noise (sigma = 1), without which every seed would run the same path."
)
# Phase diagrams of Anon: 25 gammas from -1 to 2 (SGD with momentum at 0, Adam-like at 1)
# against 13 learning rates, three per decade, each cell 4 seeds of noisy gradients.
_PHASE_GAMMAS = [-1.0 + 0.125 * i for i in range(25)]
_PHASE_SEEDS = [0, 1, 2, 3]
_PHASE_NOISE = {"kind": "gaussian", "sigma": 1.0}


def _lr_thirds(lowest: float) -> list[float]:
    """13 learning rates, three per decade from ``lowest`` over four decades, to 3 digits."""
    return [float(f"{lowest * 10 ** (i / 3):.3g}") for i in range(13)]


def _phase_series(lowest_lr: float) -> dict[str, Any]:
    return {
        "optimizer": "anon",
        "hparams": {},
        "sweep": [
            {"param": "gamma", "values": _PHASE_GAMMAS},
            {"param": "lr", "values": _lr_thirds(lowest_lr)},
        ],
    }


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
        id="anon-phase-rosenbrock",
        title="Anon's gamma x learning rate on Rosenbrock (phase diagram)",
        narration=(
            "Which learning rate suits which gamma? Each cell is one pair: Anon's adaptivity "
            "gamma (up) against the learning rate (across), coloured by the median final loss "
            "of 4 seeds with Gaussian gradient noise (sigma = 1) after 300 steps from (-2, 2). "
            "At gamma <= -0.5 every rate diverges (grey). Above that, the largest rate that "
            "survives grows with gamma (about 2e-4 at gamma = -0.375, 0.1 at gamma = 0.625, "
            "every rate tried from gamma = 0.75 on), and each row's lowest loss sits just below "
            "that diverging edge. So gamma and the learning rate are one knob, not two: "
            "comparing gammas at one fixed rate mostly measures how close each is to its edge. "
            "No cell gets within tolerance in 300 steps; hover a cell for its spread across "
            "seeds, click it to run its paths."
        ),
        spec={
            "landscape": {"id": "rosenbrock"},
            "start": [-2.0, 2.0],
            "noise": _PHASE_NOISE,
            "seeds": _PHASE_SEEDS,
            "steps": 300,
            "record": "final",
            "series": [_phase_series(1e-4)],
        },
    ),
    Preset(
        id="anon-phase-rastrigin",
        title="Anon's gamma x learning rate on Rastrigin (phase diagram)",
        narration=(
            "The same question on Rastrigin's ripples, from (-2, 3.5): Anon's gamma (up) "
            "against the learning rate (across), each cell the median final loss of 4 noisy "
            "seeds (sigma = 1) after 300 steps. At small rates every gamma stays in the ripple "
            "next to the start (loss 12.9). Negative gammas diverge from lr 0.1 to 1 on; from "
            "gamma = 0.5 no rate up to 10 diverges. Where steps are large enough to hop "
            "ripples the picture turns patchy, neighbouring cells ending in different ripples; "
            "the lowest medians (3.5 to 5, a ripple or two closer to the centre) are at gamma "
            "near 0 with lr 0.02 to 0.05, and at gamma above 1 with lr 2 to 5. Only one seed "
            "of one cell reaches the global minimum: here the step size matters more than any "
            "gamma."
        ),
        spec={
            "landscape": {"id": "rastrigin"},
            "start": [-2.0, 3.5],
            "noise": _PHASE_NOISE,
            "seeds": _PHASE_SEEDS,
            "steps": 300,
            "record": "final",
            "series": [_phase_series(1e-3)],
        },
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
        id="anon-paper-rosenbrock-tuned",
        title="Anon paper on Rosenbrock, every learning rate tuned",
        narration=(
            "The comparison above, with no hand-picked learning rates. "
            + _TUNED_NOTE.format(start="(-2, 2)")
            + " Tuned this way, seven of the eight end within about a factor of two of each "
            "other (held-out median final loss 0.007 to 0.016): Anon, AdaBelief, AdaBound, "
            "Adam and Yogi choose lr 0.032, RAdam 0.1, AdaHessian 32. SGD (lr 0.1) is the one "
            "left behind, at 1.2. It takes about 8 seconds on two cores: 44 tuning runs per "
            "optimizer."
        ),
        spec={
            "landscape": {"id": "rosenbrock"},
            "start": [-2.0, 2.0],
            **_GALLERY,
            "noise": _TUNED_NOISE,
            "seeds": [0, 1, 2, 3],
            "tune": _TUNE_LR,
            "series": [_series(optimizer) for optimizer in _PAPER_SET],
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
        id="anon-paper-rastrigin-tuned",
        title="Anon paper on Rastrigin, every learning rate tuned",
        narration=(
            "The Rastrigin comparison with no hand-picked learning rates. "
            + _TUNED_NOTE.format(start="(-2, 3.5)")
            + " Tuned by the final loss from this one start, the best most optimizers can do "
            "is to stay in the ripple they start next to (loss 12.9): six of the eight choose "
            "a small rate, two of them the smallest candidate (flagged: at the grid's edge), "
            "and AdaHessian 0.32. Only RAdam, at lr 1, hops to a lower ripple (held-out median "
            "8.95). From one start, Rastrigin rewards standing still; the phase diagram preset "
            "shows where moving pays."
        ),
        spec={
            "landscape": {"id": "rastrigin"},
            "start": [-2.0, 3.5],
            **_GALLERY,
            "noise": _TUNED_NOISE,
            "seeds": [0, 1, 2, 3],
            "tune": _TUNE_LR,
            "series": [_series(optimizer) for optimizer in _PAPER_SET],
        },
    ),
    Preset(
        id="himmelblau-basins",
        title="Where SGD, Adam and Anon end on Himmelblau (map of starts)",
        narration=(
            "Himmelblau's function has four global minima. Each of 64 x 64 starts over the "
            "whole box runs 300 steps of SGD (lr 0.01), Adam (lr 0.1) and Anon (lr 0.1, "
            "gamma = 1, its Adam-like setting); the maps show, per start, the final loss, the "
            "steps to tolerance and which minimum it ends nearest. All three reach a minimum "
            "from every start, but not the same one: SGD follows the gradient and almost "
            "always ends at the minimum nearest its start, in a median 11 steps; Adam and Anon "
            "take about 84 and end in another minimum than SGD from about 300 of the 4,096 "
            "starts, their sign-like early steps moving diagonally across basin boundaries. "
            "Adam and Anon (gamma = 1) end apart from only 9 starts, and Anon is flung off "
            "its minimum again late in the run from 2 (grey). Hover a cell for its numbers, "
            "click it to run its path."
        ),
        spec={
            "landscape": {"id": "himmelblau"},
            "starts": {"grid": {"x": [-5.0, 5.0, 64], "y": [-5.0, 5.0, 64]}},
            "steps": 300,
            "record": "final",
            "series": [
                _series("sgd", lr=0.01),
                _series("adam", lr=0.1),
                _series("anon", lr=0.1, gamma=1.0),
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
    # Networks: the same optimizers training a small MLP (two hidden layers of 32, tanh) on a
    # generated task. Learning rates were chosen by running them; the narrations report those
    # runs (tests/app/test_presets.py holds each claim).
    Preset(
        id="andi-spirals",
        title="Networks: ANDI vs Adam vs SGD on two spirals",
        narration=(
            "Two interleaved spirals, 300 training points, a 2-32-32-2 network. Its 32 x 32 "
            "hidden weight is a matrix larger than 16 x 16, so ANDI takes its matrix branch "
            "there: each gradient entry is divided by the sum of its row's and its column's "
            "norms, which no 2-D landscape can show. All three separate the spirals (held-out "
            "accuracy 98% or more after 600 steps); Adam gets the training loss lowest, SGD "
            "with momentum next, ANDI last. Watch the decision boundary curl as each learns."
        ),
        spec={
            "task": {"id": "spirals"},
            "steps": 600,
            "series": [
                _series("andi", lr=0.03),
                _series("adam", lr=0.01),
                _series("sgd", lr=0.3, momentum=0.9),
            ],
            "plane": {"kind": "pca", "resolution": 31},
        },
    ),
    Preset(
        id="anon-gamma-spirals",
        title="Networks: Anon's gamma fan on two spirals",
        narration=(
            "One learning rate (0.01) and five values of Anon's adaptivity exponent gamma. At "
            "gamma 0.5 and below Anon scales its steps like SGD with momentum, and at this rate "
            "the network stays near chance (loss about 0.65); at gamma 1 and 1.5 it is "
            "Adam-like and separates the spirals. The final loss falls as gamma grows: the "
            "same slider that morphs paths on Rosenbrock, on a real network."
        ),
        spec={
            "task": {"id": "spirals"},
            "steps": 600,
            "series": [
                {
                    "optimizer": "anon",
                    "hparams": {"lr": 0.01},
                    "sweep": {"param": "gamma", "values": GAMMA_FAN},
                }
            ],
        },
        view=PresetView(gamma_slider=True),
    ),
    Preset(
        id="ano-minibatch-spirals",
        title="Networks: Ano vs Adam under minibatch noise",
        narration=(
            "Minibatches of 16 points make every gradient noisy. Ano steps along the sign of "
            "its momentum with the current gradient's magnitude, which the Ano paper argues "
            "holds up under noise; Adam divides by a running scale of the noise itself. At the "
            "same learning rate (0.03), on two seeds, Ano separates the spirals within 800 "
            "steps while Adam stays near chance. Change the batch size to the full set to see "
            "the gap close."
        ),
        spec={
            "task": {"id": "spirals", "batch_size": 16},
            "steps": 800,
            "seeds": [0, 1],
            "series": [_series("ano", lr=0.03), _series("adam", lr=0.03)],
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
