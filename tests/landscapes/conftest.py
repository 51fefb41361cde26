"""Shared set-up for the landscape tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def warm_up_torch_math_kernels():
    """Call torch's float64 transcendental kernels once before any test.

    Observed with torch 2.13 (CPU wheel, MKL, 2 threads): in roughly one process in ten, the
    first multi-threaded call of e.g. `torch.sin` or `torch.sqrt` returns values off by up to
    ~1e-8 (relative) on the half of the tensor handled by the second thread; every later call,
    of any such kernel, is exact. The exact-equality tests here (same seed, same noise; a row in
    a batch equals the row alone) would otherwise fail at random, depending on which test
    happens to make that first call.
    """
    x = torch.linspace(0.1, 0.9, 1 << 16, dtype=torch.float64)
    for kernel in (torch.sin, torch.cos, torch.exp, torch.expm1, torch.log, torch.sqrt):
        kernel(x)
