"""Training tasks for network runs: generated data sets and a small batched MLP.

No web framework and no downloads: every data set is made in code from a seed
(``tasks.datasets``), listed once in ``tasks.registry``, and learned by the MLP of
``tasks.mlp``, whose weights for ``R`` independent networks are stacked per layer so one
optimizer instance steps them all (engine/training.py runs them).
"""

from tasks.datasets import Dataset, TaskParams
from tasks.registry import TaskEntry, UnknownTaskError, get_task, list_tasks

__all__ = ["Dataset", "TaskEntry", "TaskParams", "UnknownTaskError", "get_task", "list_tasks"]
