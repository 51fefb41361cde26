"""Fixtures for the web layer: an in-process TestClient and a real uvicorn server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from app.local_server import local_server
from app.main import create_app
from app.settings import Settings


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start a real server with the given settings; returns its base URL. Stopped afterwards."""
    with ExitStack() as servers:
        yield lambda **settings: servers.enter_context(local_server(Settings(**settings)))
