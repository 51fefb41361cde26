"""What the server tells browsers and whom it answers: security headers on every response, a
Content-Security-Policy of the page's own origin, no server banner, only trusted Host headers
(so a DNS-rebinding page cannot start runs), Swagger UI served from the server itself, and no
file outside the served folders, whatever the raw path says."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app import cli
from app.main import create_app
from app.settings import Settings

LOCAL = "http://127.0.0.1"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
# Long enough (tens of seconds) that it would still be running when the test looks.
LONG_RUN = {
    "landscape": {"id": "rastrigin"},
    "seeds": list(range(64)),
    "steps": 20_000,
    "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}],
}
SHORT_RUN = {
    "landscape": {"id": "rosenbrock"},
    "steps": 20,
    "series": [{"optimizer": "adam", "hparams": {"lr": 1e-3}}],
}


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """GET ``target`` byte for byte (no client normalises it): the status and the body."""
    parts = urlsplit(base_url)
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# --- security headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/api/health", 200),
        ("GET", "/vendor/plotly.min.js", 200),
        ("GET", "/docs", 200),
        ("GET", "/vendor/swagger-ui/swagger-ui.css", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/no/such/file", 404),
        ("POST", "/api/runs", 422),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path, status):
    response = client.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_policy_allows_the_pages_origin_and_nothing_foreign(client):
    policy = directives(client.get("/").headers["content-security-policy"])
    # Scripts only from the page's origin: no inline script, no eval, no other host.
    assert policy["script-src"] == ["'self'"]
    # Plotly.js writes <style> elements and style attributes (measured in chromium).
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    # Plotly draws contour fills as data: images; its PNG export draws the SVG from a blob: URL.
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    sources = [source for values in policy.values() for source in values]
    assert not [source for source in sources if "//" in source or source == "*"]


def test_a_rejected_host_still_gets_the_security_headers(client):
    response = client.get("/api/health", headers={"Host": "evil.example"})
    assert response.status_code == 400
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_a_real_server_sends_no_server_header(serve):
    url = serve()
    for path in ("/", "/api/health", "/no/such/file"):
        response = httpx.get(f"{url}{path}")
        assert "server" not in response.headers, path
        assert response.headers["x-content-type-options"] == "nosniff"


def test_optiscope_serve_turns_uvicorns_server_header_off(monkeypatch):
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append(kwargs))
    assert cli.main(["serve", "--port", "9123"]) == 0
    assert calls == [{"host": "127.0.0.1", "port": 9123, "server_header": False}]


# --- Swagger UI from the server ----------------------------------------------------------------


def test_docs_load_swagger_ui_from_the_server(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"https?:|=\"//", html), "no URL of another host"
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert set(urls) == {
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/swagger-ui/swagger-ui.css",
        "/vendor/swagger-ui/favicon.png",
    }
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url
    script_type = client.get("/vendor/swagger-ui/swagger-ui-bundle.js").headers["content-type"]
    assert script_type.startswith(("text/javascript", "application/javascript"))
    # Swagger UI 5 or later: the first to render OpenAPI 3.1, which FastAPI writes.
    bundle = client.get("/vendor/swagger-ui/swagger-ui-bundle.js").text
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert int(re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)[1]) >= 5


def test_the_docs_policy_allows_exactly_their_own_inline_script(client):
    response = client.get("/docs")
    inline = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert '"validatorUrl": null' in inline[0], "Swagger UI never calls the online validator"


def test_redoc_is_not_served_and_docs_are_not_in_the_schema(client):
    assert client.get("/redoc").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc"} & paths.keys()


# --- trusted hosts -----------------------------------------------------------------------------


def test_the_default_hosts_are_the_loopback_names():
    assert Settings().allowed_hosts == ["127.0.0.1", "localhost", "[::1]"]


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1", 200),
        ("127.0.0.1:8000", 200),
        ("localhost:8000", 200),
        ("LOCALHOST", 200),
        ("[::1]:8000", 200),
        ("evil.example", 400),
        ("evil.example:8000", 400),
        ("127.0.0.1.evil.example", 400),
        ("localhost.evil.example", 400),
        ("testserver", 400),
        ("", 400),
    ],
)
def test_only_trusted_host_headers_are_answered(client, host, status):
    assert client.get("/api/health", headers={"Host": host}).status_code == status


def test_a_rebinding_page_cannot_start_a_run(serve):
    url = serve(max_concurrent_runs=1, queue_timeout_s=2)
    port = urlsplit(url).port
    started = time.monotonic()
    response = httpx.post(
        f"{url}/api/runs", json=LONG_RUN, headers={"Host": f"evil.example:{port}"}, timeout=10
    )
    assert response.status_code == 400
    assert time.monotonic() - started < 5
    assert httpx.get(f"{url}/api/health").json()["runs_in_progress"] == 0
    # The only slot is free: the rejected request never reached the run service.
    allowed = httpx.post(
        f"{url}/api/runs", json=SHORT_RUN, headers={"Host": f"127.0.0.1:{port}"}, timeout=60
    )
    assert allowed.status_code == 200
    assert allowed.json()["steps"] == SHORT_RUN["steps"]


def test_a_request_without_a_host_header_is_refused(serve):
    url = serve()
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(b"GET /api/health HTTP/1.0\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.split(b" ", 2)[1] == b"400"


def test_allowed_hosts_come_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("OPTISCOPE_ALLOWED_HOSTS", '["optiscope.example", "*.lab.example", "::1"]')
    settings = Settings()
    # An IPv6 literal is kept in brackets, as it appears in a Host header.
    assert settings.allowed_hosts == ["optiscope.example", "*.lab.example", "[::1]"]
    with TestClient(create_app(settings), base_url="http://optiscope.example") as client:
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/health", headers={"Host": "a.lab.example"}).status_code == 200
        # The list replaces the defaults (127.0.0.1 stays: the server's own address).
        assert client.get("/api/health", headers={"Host": "localhost"}).status_code == 400


def test_a_star_allows_every_host():
    with TestClient(create_app(Settings(allowed_hosts=["*"])), base_url="http://any.name") as c:
        assert c.get("/api/health").status_code == 200


def test_the_address_served_on_is_allowed_too():
    """``optiscope serve --host 192.0.2.7`` answers http://192.0.2.7 (an IP literal only its
    own origin sends); a wildcard address adds nothing."""
    with TestClient(create_app(Settings(host="192.0.2.7")), base_url="http://192.0.2.7") as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/api/health", headers={"Host": "evil.example"}).status_code == 400
    with TestClient(create_app(Settings(host="0.0.0.0")), base_url="http://0.0.0.0") as c:
        assert c.get("/api/health").status_code == 400


@pytest.mark.parametrize(
    "hosts",
    [[], ["evil*"], ["*evil.example"], ["a.*.example"], ["127.0.0.1:8000"], ["[::1]:8000"], [""]],
)
def test_malformed_host_patterns_are_rejected_at_startup(hosts):
    with pytest.raises(ValidationError, match="allowed_hosts"):
        Settings(allowed_hosts=hosts)


# --- no file outside the served folders --------------------------------------------------------

TRAVERSALS = [
    "/../../etc/passwd",
    "/../../../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/..%5c..%5c..%5cetc%5cpasswd",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/../app/settings.py",
    "/%2e%2e/app/settings.py",
    "/css/../../app/settings.py",
    "/js/%2e%2e/%2e%2e/app/settings.py",
    "/static/../app/settings.py",
    "/static/%2e%2e/%2e%2e/app/settings.py",
    "/../pyproject.toml",
    "/css/..%2f..%2fpyproject.toml",
    "/vendor/../../app/settings.py",
    "/vendor/swagger-ui/../../etc/passwd",
    "/vendor/swagger-ui/../core.py",
    "/vendor/swagger-ui/%2e%2e/core.py",
    "/vendor/swagger-ui/..%2fcore.py",
    "/vendor/swagger-ui/%2e%2e%2f%2e%2e%2ffastapi%2f__init__.py",
    "/vendor/swagger-ui//etc/passwd",
    "/vendor/swagger-ui/%2fetc%2fpasswd",
    "/index.html%00.txt",
    "/%00",
    "/vendor/swagger-ui/swagger-ui.css%00",
]
# What any of those files would show.
LEAKS = (b"root:", b"class Settings", b"[project]", b"def FastAPIOffline", b"__version__")


def test_no_raw_path_reaches_a_file_outside_the_served_folders(serve):
    url = serve()
    # The folders themselves are served...
    assert raw_get(url, "/css/app.css")[0] == 200
    assert raw_get(url, "/vendor/swagger-ui/swagger-ui.css")[0] == 200
    # ... and nothing around them.
    for target in TRAVERSALS:
        status, body = raw_get(url, target)
        assert status in (400, 404), (target, status)
        assert not [leak for leak in LEAKS if leak in body], target
