r"""A small MLP over stacked weights: ``R`` independent networks in one set of tensors.

Layer :math:`l` of every row lives in one weight ``(R, out, in)`` and one bias ``(R, out)``, so
an optimizer built over these tensors with ``independent_rows=True`` steps ``R`` networks with
one ``step()``: the leading dimension indexes rows (ANDI then equilibrates each row's own
``out x in`` matrix). The forward pass is one batched matrix product per layer,

.. math::

    h_{l+1} = \phi\left(b_l + h_l W_l^\top\right), \qquad
    \text{logits} = b_L + h_L W_L^\top,

with :func:`torch.baddbmm` (the bias as the added term, as :func:`torch.nn.functional.linear`
adds it in one ``addmm``), and :math:`\phi` tanh or ReLU.

Initialisation is ``torch.nn.Linear``'s default, drawn from a per-row ``torch.Generator`` in the
order ``nn.Sequential`` draws it (weight then bias, layer by layer), in float32 as
``nn.Linear`` draws by default, then cast to the run's dtype: row ``r`` with seed ``s`` gets
exactly the weights of :func:`reference_module` built after ``torch.manual_seed(s)``, so a
plain PyTorch training loop can start from the same network, and a float32 and a float64 run
of one seed start from the same network too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.nn import functional

__all__ = [
    "Activation",
    "accuracy",
    "forward",
    "init_row",
    "init_rows",
    "layer_shapes",
    "losses",
    "parameter_count",
    "reference_module",
]

Activation = Literal["tanh", "relu"]
_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}
_MODULES = {"tanh": nn.Tanh, "relu": nn.ReLU}


def layer_shapes(input_dim: int, hidden: Sequence[int], outputs: int) -> list[tuple[int, int]]:
    """``(out, in)`` of every layer's weight: input, then ``hidden`` widths, then the outputs."""
    sizes = [input_dim, *hidden, outputs]
    return [(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]


def parameter_count(shapes: Sequence[tuple[int, int]]) -> int:
    """Weights and biases of one network."""
    return sum(out * (inp + 1) for out, inp in shapes)


def init_row(
    shapes: Sequence[tuple[int, int]], generator: torch.Generator, dtype: torch.dtype
) -> list[torch.Tensor]:
    r"""One network's ``[W_1, b_1, W_2, b_2, ...]`` on the CPU, drawn from ``generator``.

    ``nn.Linear.reset_parameters``, step for step: Kaiming-uniform weights with
    :math:`a = \sqrt 5`, i.e. :math:`U(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})`, then the bias
    from the same interval. The same calls with an explicit generator draw the same numbers as
    ``nn.Linear`` does from the global one after ``torch.manual_seed``. Drawn in float32 (what
    ``nn.Linear`` draws in unless told otherwise), then cast to ``dtype``.
    """
    tensors = []
    for out, inp in shapes:
        weight = torch.empty(out, inp, dtype=torch.float32)
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(inp) if inp > 0 else 0.0
        bias = torch.empty(out, dtype=torch.float32)
        nn.init.uniform_(bias, -bound, bound, generator=generator)
        tensors += [weight.to(dtype), bias.to(dtype)]
    return tensors


def init_rows(
    shapes: Sequence[tuple[int, int]],
    generators: Sequence[torch.Generator],
    dtype: torch.dtype,
    device: torch.device | str = "cpu",
) -> list[torch.Tensor]:
    """The stacked ``[W_1 (R, out, in), b_1 (R, out), ...]`` of ``R`` networks, row ``r`` drawn
    from ``generators[r]`` (see :func:`init_row`), moved to ``device``."""
    rows = [init_row(shapes, g, dtype) for g in generators]
    return [torch.stack(parts).to(device) for parts in zip(*rows, strict=True)]


def forward(
    params: Sequence[torch.Tensor], x: torch.Tensor, activation: Activation = "tanh"
) -> torch.Tensor:
    """Every row's outputs ``(R, B, outputs)`` for inputs ``x``: ``(B, in)`` shared by all rows
    (a full batch, a plotting grid) or ``(R, B, in)``, one batch per row (minibatches)."""
    phi = _ACTIVATIONS[activation]
    rows = params[0].shape[0]
    h = x.expand(rows, *x.shape) if x.ndim == 2 else x
    layers = len(params) // 2
    for layer in range(layers):
        weight, bias = params[2 * layer], params[2 * layer + 1]
        h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
        if layer < layers - 1:
            h = phi(h)
    return h


def losses(outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
    """Each row's mean loss ``(R,)``: cross-entropy of the logits for a classification
    (``targets`` int64 ``(B,)`` or ``(R, B)``), mean squared error for a regression
    (``targets`` ``(B, 1)`` or ``(R, B, 1)``).

    Written with the functional losses PyTorch users call (``reduction='none'``, then a mean
    per row), so a row's gradient is the one ``F.cross_entropy`` / ``F.mse_loss`` gives.
    """
    rows, batch = outputs.shape[0], outputs.shape[1]
    if kind == "classification":
        targets = targets.expand(rows, batch) if targets.ndim == 1 else targets
        each = functional.cross_entropy(
            outputs.reshape(rows * batch, -1), targets.reshape(rows * batch), reduction="none"
        )
        return each.view(rows, batch).mean(dim=1)
    targets = targets.expand(rows, *targets.shape) if targets.ndim == 2 else targets
    return functional.mse_loss(outputs, targets, reduction="none").mean(dim=(1, 2))


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each row's fraction of points whose largest logit is the target class ``(R,)``."""
    hits = logits.argmax(dim=2) == targets
    return hits.to(logits.dtype).mean(dim=1)


def reference_module(
    input_dim: int,
    hidden: Sequence[int],
    outputs: int,
    activation: Activation = "tanh",
    dtype: torch.dtype = torch.float64,
) -> nn.Sequential:
    """The same network as a plain ``nn.Sequential`` of ``nn.Linear`` layers, initialised from
    the global generator in float32 as usual and then cast (``.to(dtype)``, as a script's
    ``.double()`` does): the oracle the engine's batched rows are tested against."""
    layers: list[nn.Module] = []
    shapes = layer_shapes(input_dim, hidden, outputs)
    for index, (out, inp) in enumerate(shapes):
        layers.append(nn.Linear(inp, out, dtype=torch.float32))
        if index < len(shapes) - 1:
            layers.append(_MODULES[activation]())
    return nn.Sequential(*layers).to(dtype)
