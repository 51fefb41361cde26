"""The ``optiscope demo`` command prints real trajectories and reports divergence as data."""

from __future__ import annotations

import torch

from app.cli import main, run_trajectory
from landscapes import get_landscape
from optimizers import Anon


def test_trajectory_equals_a_direct_optimizer_run():
    path, diverged_at = run_trajectory("anon", "rosenbrock", (-2.0, 2.0), 40, {"lr": 1e-3})
    assert diverged_at is None
    f = get_landscape("rosenbrock").bind()
    p = torch.tensor([[-2.0, 2.0]], dtype=torch.float64, requires_grad=True)
    opt = Anon([p], lr=1e-3)
    for x, y, loss in path:
        opt.zero_grad()
        f(p).sum().backward()
        opt.step()
        assert (x, y) == tuple(p.detach()[0].tolist())
        assert loss == float(f(p.detach())[0])


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
