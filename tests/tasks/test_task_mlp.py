"""The stacked MLP: nn.Linear's initialisation per row seed, and the same function as nn.Sequential.

Initial weights are bitwise nn.Linear's: the same random calls on the same generator stream.
Outputs and gradients are compared with a tight tolerance rather than bitwise: a row's
``torch.baddbmm`` and ``nn.Linear``'s ``addmm`` are different BLAS calls (batched and single
GEMM), free to block the sum over the inner dimension differently, so they may round apart by
an ulp or so (float64; measured here: outputs equal, the 32 x 32 weight's gradient 3e-18 apart).
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

from tasks import get_task, mlp

HIDDEN = [32, 16, 8]


def generators(seeds):
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def test_layer_shapes_and_parameter_count():
    shapes = mlp.layer_shapes(2, [32, 32], 3)
    assert shapes == [(32, 2), (32, 32), (3, 32)]
    assert mlp.parameter_count(shapes) == 32 * 3 + 32 * 33 + 3 * 33
    assert mlp.layer_shapes(1, [], 1) == [(1, 1)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_each_row_starts_as_nn_linear_would_after_manual_seed(dtype):
    seeds = [0, 5, 2**40]
    shapes = mlp.layer_shapes(2, HIDDEN, 4)
    stacked = mlp.init_rows(shapes, generators(seeds), dtype)
    for r, seed in enumerate(seeds):
        torch.manual_seed(seed)
        module = mlp.reference_module(2, HIDDEN, 4, dtype=dtype)
        reference = list(module.parameters())
        assert len(reference) == len(stacked)
        for ours, theirs in zip(stacked, reference, strict=True):
            assert ours.dtype == dtype
            assert torch.equal(ours[r], theirs.detach())


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("task_id", ["blobs", "sine"])
def test_forward_loss_and_gradient_match_nn_sequential(task_id, activation):
    entry = get_task(task_id)
    data = entry.make({"n": 120})
    outputs = entry.outputs()
    seeds = [1, 2]
    shapes = mlp.layer_shapes(entry.input_dim, HIDDEN, outputs)
    params = [p.requires_grad_() for p in mlp.init_rows(shapes, generators(seeds), torch.float64)]
    ours = mlp.forward(params, data.x_train, activation)
    losses = mlp.losses(ours, data.y_train, entry.kind)
    losses.sum().backward()
    for r, seed in enumerate(seeds):
        torch.manual_seed(seed)
        module = mlp.reference_module(entry.input_dim, HIDDEN, outputs, activation)
        theirs = module(data.x_train)
        if entry.kind == "classification":
            loss = functional.cross_entropy(theirs, data.y_train)
        else:
            loss = functional.mse_loss(theirs, data.y_train)
        loss.backward()
        torch.testing.assert_close(ours[r], theirs, rtol=1e-14, atol=1e-15)
        torch.testing.assert_close(losses[r], loss, rtol=1e-14, atol=1e-15)
        for p, q in zip(params, module.parameters(), strict=True):
            torch.testing.assert_close(p.grad[r], q.grad, rtol=1e-12, atol=1e-15)


def test_rows_are_independent_networks():
    """A row's outputs and gradient do not depend on the other rows of the stack."""
    shapes = mlp.layer_shapes(2, [32, 32], 2)
    data = get_task("xor").make({"n": 64})
    both = [p.requires_grad_() for p in mlp.init_rows(shapes, generators([3, 4]), torch.float64)]
    alone = [p.requires_grad_() for p in mlp.init_rows(shapes, generators([4]), torch.float64)]
    for params in (both, alone):
        mlp.losses(
            mlp.forward(params, data.x_train), data.y_train, "classification"
        ).sum().backward()
    for p, q in zip(both, alone, strict=True):
        torch.testing.assert_close(p.grad[1], q.grad[0], rtol=1e-13, atol=1e-16)


def test_minibatches_per_row_and_accuracy():
    shapes = mlp.layer_shapes(2, [8], 3)
    params = mlp.init_rows(shapes, generators([0, 1]), torch.float64)
    x = torch.randn(2, 5, 2, dtype=torch.float64)
    y = torch.tensor([[0, 1, 2, 0, 1], [2, 2, 1, 0, 0]])
    outputs = mlp.forward(params, x)
    assert outputs.shape == (2, 5, 3)
    for r in range(2):
        single = [p[r : r + 1] for p in params]
        torch.testing.assert_close(mlp.forward(single, x[r])[0], outputs[r])
        expected = functional.cross_entropy(outputs[r], y[r])
        torch.testing.assert_close(mlp.losses(outputs, y, "classification")[r], expected)
        hits = (outputs[r].argmax(dim=1) == y[r]).double().mean()
        assert mlp.accuracy(outputs, y)[r] == hits


def test_a_seed_gives_the_same_network_in_either_dtype():
    """Drawn in float32 as nn.Linear draws by default, then cast: switching a run's dtype does
    not change where it starts."""
    shapes = mlp.layer_shapes(2, [32, 32], 2)
    single = mlp.init_rows(shapes, generators([9]), torch.float32)
    double = mlp.init_rows(shapes, generators([9]), torch.float64)
    for a, b in zip(single, double, strict=True):
        assert torch.equal(a.double(), b)
