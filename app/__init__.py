"""Optiscope's outer layer: the command line now, the web app (FastAPI) as it arrives.

It imports ``optimizers`` and ``landscapes``; they never import it.
"""
