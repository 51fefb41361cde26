"""A real Optiscope server on loopback and Debian's chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, sync_playwright

from app.local_server import local_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """One server for the whole browser session (its state is per request)."""
    with local_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """What a page did: console errors, uncaught exceptions, every request's URL."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def run_requests(self) -> int:
        return sum(1 for url in self.requests if urlsplit(url).path == "/api/runs")

    def foreign_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and urlsplit(url).hostname not in LOOPBACK_HOSTS
        ]


@pytest.fixture
def open_page(browser: Browser) -> Iterator:
    """Open the page (optionally at a fragment) in a fresh context and watch it."""
    contexts = []

    def open_(url: str) -> Watched:
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                watched.errors.append(message.text)

        def on_request(request: Request) -> None:
            watched.requests.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: watched.errors.append(str(error)))
        page.on("request", on_request)
        page.goto(url)
        return watched

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page | Locator, str], None]:
    """Save a screenshot of the page (1280x800) or of one element under test-artifacts/."""

    def save(target: Page | Locator, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        target.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    return save
