"""A real Optiscope server in a background thread, ready once ``/api/health`` answers.

The tests, the browser tests and the benchmarks start their servers with this, so "started"
means the same everywhere::

    with local_server(Settings(max_concurrent_runs=1)) as url:
        urllib.request.urlopen(f"{url}/api/health")
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from app.main import create_app
from app.settings import Settings

__all__ = ["free_port", "local_server"]

STARTUP_TIMEOUT_S = 20.0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_server(settings: Settings | None = None) -> Iterator[str]:
    """Serve the app on a free loopback port; yields its base URL once it is healthy, and
    stops it afterwards.

    Raises:
        RuntimeError: the server did not answer its health check in time.
    """
    port = free_port()
    overrides = settings.model_dump(exclude={"host", "port"}) if settings else {}
    app = create_app(Settings(**overrides, host="127.0.0.1", port=port))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", server_header=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the server on {url} did not become healthy")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
