"""Optiscope's optimizers: ``torch.optim.Optimizer`` subclasses and the registry listing them.

The same classes serve the web app's 2-D trajectories and real training::

    from optimizers import Ano, Anolog, Anon, ANDI, Yogi
    opt = Anon(model.parameters(), lr=1e-3, gamma=1.0)
"""

from optimizers.andi import ANDI
from optimizers.ano import Ano
from optimizers.anolog import Anolog
from optimizers.anon import Anon
from optimizers.yogi import Yogi

__all__ = ["ANDI", "Ano", "Anolog", "Anon", "Yogi"]
