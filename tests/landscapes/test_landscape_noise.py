"""Noise models: statistics against each model's specification, reproducibility from seeds,
independence between rows, and a clean loss that noise never touches.

Statistical checks compare sample moments with their expected values within five standard
errors; the draws are seeded, so the checks are deterministic.
"""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from landscapes import (
    DriftNoise,
    GaussianNoise,
    MinibatchNoise,
    MultiplicativeNoise,
    NoNoise,
    StudentTNoise,
    get_landscape,
    noise_json_schema,
    parse_noise,
)
from landscapes.noise import random_uniforms, student_t_pairs

F64 = torch.float64
B = 4096
SEEDS = torch.arange(B)
ROSENBROCK = get_landscape("rosenbrock").bind()
POINT = (-1.0, 1.5)  # Rosenbrock's gradient here is (196, 100).

RANDOM_MODELS = [
    GaussianNoise(sigma=0.7),
    StudentTNoise(sigma=0.7, df=3.0),
    MultiplicativeNoise(relative_sigma=0.3),
    MinibatchNoise(n_components=8, batch_size=3, shift_scale=0.3),
]
ALL_MODELS = [NoNoise(), *RANDOM_MODELS, DriftNoise(radius=0.5, period=40)]


def model_id(model) -> str:
    return model.kind


def clean_gradient(points: torch.Tensor) -> torch.Tensor:
    points = points.detach().clone().requires_grad_(True)
    ROSENBROCK(points).sum().backward()
    return points.grad


def noise_samples(model, steps: int = 8, point=POINT) -> torch.Tensor:
    """`(steps · B, 2)`: g̃ - g at one point, for B seeds and `steps` steps."""
    points = torch.tensor(point, dtype=F64).expand(B, 2).clone()
    grad = clean_gradient(points)
    draws = [
        model.perturb(grad, points=points, fn=ROSENBROCK, step=t, seeds=SEEDS) - grad
        for t in range(steps)
    ]
    return torch.cat(draws)


def assert_mean(samples: torch.Tensor, expected: float, std: float) -> None:
    bound = 5 * std / math.sqrt(samples.numel())
    assert abs(samples.mean().item() - expected) <= bound


def assert_variance(samples: torch.Tensor, expected: float, excess_kurtosis: float = 0.0) -> None:
    standard_error = expected * math.sqrt((2 + excess_kurtosis) / samples.numel())
    assert abs(samples.var().item() - expected) <= 5 * standard_error


def t3_cdf(t: float) -> float:
    """Student-t CDF with 3 degrees of freedom, in closed form."""
    s = t / math.sqrt(3)
    return 0.5 + (s / (1 + s * s) + math.atan(s)) / math.pi


# --- Each model's specification -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "excess_kurtosis"),
    [(GaussianNoise(sigma=0.7), 0.0), (StudentTNoise(sigma=0.7, df=10.0), 6 / (10 - 4))],
    ids=["gaussian", "student_t"],
)
def test_additive_noise_is_unbiased_with_covariance_sigma_squared(model, excess_kurtosis):
    noise = noise_samples(model)
    sigma = model.sigma
    for axis in range(2):
        assert_mean(noise[:, axis], 0.0, sigma)
        assert_variance(noise[:, axis], sigma**2, excess_kurtosis)
    covariance = (noise[:, 0] * noise[:, 1]).mean().item()
    assert abs(covariance) <= 6 * sigma**2 / math.sqrt(noise.shape[0])


def test_student_t_marginals_and_radius_follow_the_t_law():
    draws = torch.cat([student_t_pairs(SEEDS, t, 7, df=3.0)[:, 0] for t in range(16)])
    n = draws.shape[0]
    for threshold in (-5.0, -2.0, -0.5, 0.0, 1.0, 3.0):
        expected = t3_cdf(threshold)
        bound = 5 * math.sqrt(expected * (1 - expected) / n)
        for axis in range(2):
            observed = (draws[:, axis] <= threshold).double().mean().item()
            assert abs(observed - expected) <= bound
    # Non-integer ν: the bivariate t's radius has P(R² > r) = (1 + r/ν)^(-ν/2).
    df = 2.5
    radius_sq = torch.cat([student_t_pairs(SEEDS, t, 8, df) for t in range(16)]).square().sum(-1)
    for r in (0.5, 2.0, 10.0, 100.0):
        expected = (1 + r / df) ** (-df / 2)
        observed = (radius_sq > r).double().mean().item()
        assert abs(observed - expected) <= 5 * math.sqrt(expected * (1 - expected) / n)


def test_student_t_has_heavier_tails_than_gaussian_at_equal_variance():
    gaussian = noise_samples(GaussianNoise(sigma=1.0)).abs()
    student = noise_samples(StudentTNoise(sigma=1.0, df=3.0)).abs()
    assert (student > 5).sum() > 20 * max(1, int((gaussian > 5).sum()))


def test_multiplicative_noise_is_relative_to_each_coordinate():
    model = MultiplicativeNoise(relative_sigma=0.3)
    gradient = torch.tensor([196.0, 100.0], dtype=F64)
    relative = noise_samples(model) / gradient
    for axis in range(2):
        assert_mean(relative[:, axis], 0.0, 0.3)
        assert_variance(relative[:, axis], 0.3**2)
    at_minimum = noise_samples(model, steps=1, point=(1.0, 1.0))
    assert torch.equal(at_minimum, torch.zeros_like(at_minimum))


def test_minibatch_is_unbiased_with_the_finite_population_covariance():
    model = MinibatchNoise(n_components=8, batch_size=3, shift_scale=0.3)
    noise = noise_samples(model)
    components = model.component_gradients(ROSENBROCK, torch.tensor([POINT], dtype=F64))[0]
    population_variance = components.var(dim=0, unbiased=False)
    n, b = model.n_components, model.batch_size
    expected_variance = (n - b) / (b * (n - 1)) * population_variance
    for axis in range(2):
        std = math.sqrt(expected_variance[axis].item())
        assert_mean(noise[:, axis], 0.0, std)
        assert noise[:, axis].var().item() == pytest.approx(
            expected_variance[axis].item(), rel=0.05
        )


@pytest.mark.parametrize("batch_size", [1, 7], ids=["b=1", "b=N-1"])
def test_minibatch_samples_uniformly_without_replacement(batch_size):
    """With b = 1 the noise is c_k - c̄ and with b = N - 1 it is (c̄ - c_k)/(N - 1), c_k the
    components' gradients: each of the N values must occur, about equally often. Sampling with
    replacement would produce other values."""
    model = MinibatchNoise(n_components=8, batch_size=batch_size, shift_scale=0.3)
    noise = noise_samples(model, steps=2)
    components = model.component_gradients(ROSENBROCK, torch.tensor([POINT], dtype=F64))[0]
    centred = components - components.mean(dim=0)
    allowed = centred if batch_size == 1 else -centred / (model.n_components - 1)
    distance = (noise[:, None, :] - allowed).norm(dim=-1)
    assert distance.min(dim=1).values.max().item() < 1e-9
    counts = torch.bincount(distance.argmin(dim=1), minlength=8).double()
    expected = noise.shape[0] / 8
    assert (counts - expected).abs().max().item() <= 5 * math.sqrt(expected)


def test_minibatch_of_every_component_is_the_exact_gradient():
    noise = noise_samples(MinibatchNoise(n_components=8, batch_size=8), steps=2)
    assert noise.abs().max().item() < 1e-9


def test_minibatch_shifts_are_fixed_by_the_landscape_seed():
    model = MinibatchNoise(n_components=1024, batch_size=4, shift_scale=0.5, landscape_seed=3)
    shifts = model.shifts()
    assert shifts.shape == (1024, 2)
    assert torch.equal(shifts, model.shifts())
    assert not torch.equal(shifts, model.model_copy(update={"landscape_seed": 4}).shifts())
    assert_mean(shifts, 0.0, 0.5)
    assert_variance(shifts.flatten(), 0.25)


def test_drift_moves_the_landscape_round_a_circle():
    model = DriftNoise(radius=0.5, period=40)
    assert model.offset(0) == (0.0, 0.0)
    assert model.offset(10) == pytest.approx((-0.5, 0.5))
    assert model.offset(20) == pytest.approx((-1.0, 0.0))
    assert model.offset(40) == pytest.approx(model.offset(0))
    for step in (0, 7, 20, 33):
        offset = torch.tensor(model.offset(step), dtype=F64)
        points = (torch.tensor([[1.0, 1.0]], dtype=F64) + offset).requires_grad_(True)
        loss = model.loss(ROSENBROCK, points, step=step)
        loss.sum().backward()
        assert loss.item() == pytest.approx(0.0, abs=1e-24)
        assert points.grad.abs().max().item() < 1e-12
        seen = model.perturb(points.grad, points=points, fn=ROSENBROCK, step=step, seeds=[0])
        assert seen is points.grad  # the moving landscape's exact gradient, unchanged
    elsewhere = torch.tensor([[0.2, -0.4]], dtype=F64)
    expected = ROSENBROCK(elsewhere - torch.tensor([-1.0, 0.0], dtype=F64))
    torch.testing.assert_close(model.loss(ROSENBROCK, elsewhere, step=20), expected)


# --- Properties every model shares --------------------------------------------------------------


def random_points(rows: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(rows, 2, generator=torch.Generator().manual_seed(seed), dtype=F64) * 2 - 1


@pytest.mark.parametrize("model", ALL_MODELS, ids=model_id)
def test_clean_loss_and_inputs_are_untouched(model):
    points = random_points(64)
    grad = clean_gradient(points)
    before = (points.clone(), grad.clone())
    model.perturb(grad, points=points, fn=ROSENBROCK, step=5, seeds=SEEDS[:64])
    assert torch.equal(points, before[0])
    assert torch.equal(grad, before[1])
    if model.kind != "drift":
        assert torch.equal(model.loss(ROSENBROCK, points, step=5), ROSENBROCK(points))


@pytest.mark.parametrize("model", RANDOM_MODELS, ids=model_id)
def test_same_seed_same_noise_and_different_seeds_or_steps_differ(model):
    points = random_points(256)
    grad = clean_gradient(points)

    def draw(seeds, step):
        return model.perturb(grad, points=points, fn=ROSENBROCK, step=step, seeds=seeds)

    seeds = torch.arange(256) * 7919 + 2**40  # large seeds use the high 32 bits too
    assert torch.equal(draw(seeds, 3), draw(seeds, 3))
    assert torch.equal(draw(seeds.tolist(), 3), draw(seeds, 3))
    assert (draw(seeds, 3) != draw(seeds + 1, 3)).any(dim=1).float().mean() > 0.9
    assert (draw(seeds, 3) != draw(seeds, 4)).any(dim=1).float().mean() > 0.9
    assert (draw(seeds, 3) != draw(seeds + 2**32, 3)).any(dim=1).float().mean() > 0.9


def assert_same_noise(actual: torch.Tensor, expected: torch.Tensor, grad: torch.Tensor) -> None:
    """Equal up to rounding on the scale of the noise, not of the noisy gradient g̃ = g + noise.

    A batch and a row alone may reach a transcendental kernel by different code paths (vector
    body or scalar tail, MKL or Sleef), whose last bits can differ on another CPU or torch build.
    Where noise and gradient nearly cancel, one ulp of the noise is many ulps of g̃ (row 777 of
    the multiplicative model: |noise| = 14 |g̃|), so a bound relative to g̃ alone is a knife
    edge; |g| + |g̃| bounds |noise|. A wrong row or seed would be off by the noise itself.
    """
    bound = 1e-14 * (grad.abs() + expected.abs())
    assert bool(((actual - expected).abs() <= bound).all()), (actual - expected).abs().max()


@pytest.mark.parametrize("model", RANDOM_MODELS, ids=model_id)
def test_a_row_gets_the_same_noise_in_a_batch_as_alone(model):
    points = random_points(B)
    grad = clean_gradient(points)
    batch = model.perturb(grad, points=points, fn=ROSENBROCK, step=11, seeds=SEEDS)
    for row in (0, 1, 777, B - 1):
        alone = model.perturb(
            grad[row : row + 1], points=points[row : row + 1], fn=ROSENBROCK, step=11, seeds=[row]
        )
        assert_same_noise(alone[0], batch[row], grad[row])
    permutation = torch.randperm(B, generator=torch.Generator().manual_seed(0))
    permuted = model.perturb(
        grad[permutation],
        points=points[permutation],
        fn=ROSENBROCK,
        step=11,
        seeds=SEEDS[permutation],
    )
    assert_same_noise(permuted, batch[permutation], grad[permutation])


def test_rows_steps_and_coordinates_are_uncorrelated():
    seeds = torch.arange(16 * B)
    zeros = torch.zeros(seeds.shape[0], 2, dtype=F64)
    model = GaussianNoise(sigma=1.0)

    def draw(step):
        return model.perturb(zeros, points=zeros, fn=ROSENBROCK, step=step, seeds=seeds)

    now, later = draw(0), draw(1)
    bound = 5 / math.sqrt(seeds.shape[0])
    pairs = [
        (now[:-1, 0], now[1:, 0]),  # neighbouring rows
        (now[:, 0], later[:, 0]),  # consecutive steps
        (now[:, 0], now[:, 1]),  # the two coordinates
        (now[:, 1], later[:, 0]),
    ]
    for a, b in pairs:
        assert abs(torch.corrcoef(torch.stack((a, b)))[0, 1].item()) <= bound


@pytest.mark.parametrize("model", ALL_MODELS, ids=model_id)
def test_batched_sgd_run_equals_one_by_one_runs(model):
    """The trajectory engine's contract, with its recipe: loss, backward, perturb, step."""

    def run(start: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        points = start.clone().requires_grad_(True)
        optimizer = torch.optim.SGD([points], lr=1e-4)
        for step in range(15):
            optimizer.zero_grad()
            model.loss(ROSENBROCK, points, step=step).sum().backward()
            points.grad = model.perturb(
                points.grad, points=points.detach(), fn=ROSENBROCK, step=step, seeds=seeds
            )
            optimizer.step()
        return points.detach()

    starts = random_points(6, seed=5)
    seeds = [11, 12, 13, 2**33, 0, 99]
    batched = run(starts, seeds)
    for row in range(6):
        alone = run(starts[row : row + 1], seeds[row : row + 1])
        torch.testing.assert_close(alone[0], batched[row], rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("model", RANDOM_MODELS, ids=model_id)
def test_global_random_state_is_neither_used_nor_changed(model):
    points = random_points(32)
    grad = clean_gradient(points)
    torch.manual_seed(0)
    state = torch.random.get_rng_state()
    first = model.perturb(grad, points=points, fn=ROSENBROCK, step=2, seeds=SEEDS[:32])
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(12345)
    assert torch.equal(
        model.perturb(grad, points=points, fn=ROSENBROCK, step=2, seeds=SEEDS[:32]), first
    )


@pytest.mark.parametrize("model", ALL_MODELS, ids=model_id)
def test_float32_in_float32_out(model):
    points = random_points(16).float()
    grad = clean_gradient(points)
    out = model.perturb(grad, points=points, fn=ROSENBROCK, step=0, seeds=SEEDS[:16])
    assert out.dtype == torch.float32
    assert out.shape == (16, 2)


def test_uniforms_are_inside_the_open_unit_interval_and_flat():
    u = random_uniforms(torch.arange(2**12), step=9, stream=5, count=64).flatten()
    assert u.min().item() > 0
    assert u.max().item() < 1
    bins = 64
    counts = torch.histc(u, bins=bins, min=0, max=1)
    expected = u.numel() / bins
    chi_square = ((counts - expected) ** 2 / expected).sum().item()
    assert abs(chi_square - (bins - 1)) <= 6 * math.sqrt(2 * (bins - 1))


# --- Validation and parsing ---------------------------------------------------------------------


def test_bad_arguments_are_named():
    model = GaussianNoise()
    grad = torch.zeros(4, 2, dtype=F64)

    def perturb(grad=grad, points=grad, step=0, seeds=(1, 2, 3, 4)):
        return model.perturb(grad, points=points, fn=ROSENBROCK, step=step, seeds=seeds)

    with pytest.raises(ValueError, match="seeds"):
        perturb(seeds=(1, 2, 3))
    with pytest.raises(ValueError, match="seeds"):
        perturb(seeds=(1, 2, 3, -4))
    with pytest.raises(ValueError, match="seeds"):
        perturb(seeds=torch.ones(4))
    with pytest.raises(ValueError, match="seeds"):
        perturb(seeds=(1, 2, 3, 2**64))
    for step in (-1, 2**32, 1.5, True):
        with pytest.raises(ValueError, match="step"):
            perturb(step=step)
    with pytest.raises(ValueError, match="grad"):
        perturb(grad=torch.zeros(4, 3), points=torch.zeros(4, 3))
    with pytest.raises(ValueError, match="points"):
        perturb(points=torch.zeros(5, 2))
    with pytest.raises(ValueError, match="step"):
        model.loss(ROSENBROCK, grad, step=-1)


def test_parameters_are_validated():
    with pytest.raises(ValidationError, match="batch_size"):
        MinibatchNoise(n_components=4, batch_size=5)
    with pytest.raises(ValidationError, match="df"):
        StudentTNoise(df=2.0)
    with pytest.raises(ValidationError, match="sigma"):
        GaussianNoise(sigma=-1.0)
    with pytest.raises(ValidationError, match="extra"):
        GaussianNoise(sigma=1.0, mean=2.0)


def test_parse_noise_and_schema():
    assert parse_noise(None) == NoNoise()
    assert parse_noise({"kind": "gaussian", "sigma": 0.5}) == GaussianNoise(sigma=0.5)
    assert parse_noise({"kind": "drift", "period": 10}) == DriftNoise(period=10)
    model = StudentTNoise(df=4.0)
    assert parse_noise(model) is model
    assert parse_noise(model.model_dump()) == model
    with pytest.raises(ValidationError):
        parse_noise({"kind": "bogus"})
    schema = json.dumps(noise_json_schema())
    for kind in ("none", "gaussian", "student_t", "multiplicative", "minibatch", "drift"):
        assert f'"{kind}"' in schema
