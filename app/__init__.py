"""Optiscope's web layer and command line: the FastAPI app (``app.main``), its routes
(``app.api``), settings, the run service, and the ``optiscope`` CLI (``app.cli``).

It imports ``engine``, ``optimizers`` and ``landscapes``; they never import it.
"""
