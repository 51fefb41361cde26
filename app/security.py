"""What the server tells browsers, and which Host headers it answers.

- Every response carries a Content-Security-Policy of the page's own origin and the usual
  hardening headers (:class:`SecurityHeaders`); a response that sets its own policy (``/docs``,
  for its inline script) keeps it.
- Only trusted Host headers are answered (:func:`trusted_hosts`): a DNS-rebinding page, whose
  requests reach the loopback server under the attacker's host name, gets a 400 and starts no
  run.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "AllowedHost",
    "SecurityHeaders",
    "content_security_policy",
    "inline_script_hashes",
    "trusted_hosts",
]

# Measured in chromium (Plotly.js 4.1, Swagger UI 5.32) by starting from 'self' alone and
# running the page, its 3-D surface, its PNG/CSV/JSON exports and Swagger UI's "Try it out"; a
# violation is a console error there:
# - style-src 'unsafe-inline': Plotly.js injects <style> elements and sets style attributes
#   (dozens of violations without it); so does Swagger UI.
# - img-src data:: Plotly draws contour fills as data: PNG images, the page's favicon is data:,
#   and Swagger UI's CSS draws its icons from data: SVGs.
# - img-src blob:: Plotly's PNG export loads the plot's SVG from a blob: URL into a canvas.
# - Nothing needs 'unsafe-eval': the surface is WebGL without eval, and the CSV/JSON exports'
#   blob: links are downloads, which CSP does not govern. The landscape's picture is painted by
#   a module worker from /js/ (static/js/landscape-worker.js): worker-src falls back to
#   script-src 'self'.
_POLICY = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    "img-src": ("'self'", "data:", "blob:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The policy, with ``script-src`` also allowing the inline scripts of these hashes."""
    policy = dict(_POLICY)
    policy["script-src"] += tuple(f"'{digest}'" for digest in script_hashes)
    return "; ".join(" ".join((name, *sources)) for name, sources in policy.items())


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: str) -> list[str]:
    """``sha256-...`` of each inline ``<script>`` of ``html``, as CSP hashes them."""
    return [
        "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        for body in _INLINE_SCRIPT.findall(html)
    ]


HEADERS = (
    ("content-security-policy", content_security_policy()),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    # Old browsers' form of frame-ancestors 'none': the page is never framed (clickjacking).
    ("x-frame-options", "DENY"),
)


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`HEADERS` to every HTTP response that lacks them (a
    pure one, unlike BaseHTTPMiddleware, leaves event streams and cancellation alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])  # optional in ASGI
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _check_host(pattern: str) -> str:
    """A Host pattern as Starlette's TrustedHostMiddleware matches it: a name or IP literal
    without port, ``*.domain`` or ``*``; IPv6 literals in brackets, as Host headers write them."""
    pattern = pattern.strip().lower()
    try:
        return f"[{ipaddress.IPv6Address(pattern.strip('[]'))}]"
    except ValueError:
        pass
    if not pattern:
        raise ValueError("a host name must not be empty")
    if ":" in pattern:
        raise ValueError(f"{pattern!r}: give the host name without a port")
    wildcard_ok = pattern == "*" or (pattern.startswith("*.") and "*" not in pattern[1:])
    if "*" in pattern and not (wildcard_ok and pattern != "*."):
        raise ValueError(f"{pattern!r}: a wildcard is '*' alone or '*.domain'")
    return pattern


AllowedHost = Annotated[str, AfterValidator(_check_host)]

# Addresses that mean "every interface": no client sends them as its Host.
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def trusted_hosts(allowed: Iterable[str], bind_host: str) -> list[str]:
    """``allowed`` and the address served on (the operator chose it; a rebinding page cannot
    send an IP literal as its Host), unless that is a wildcard address."""
    hosts = list(allowed)
    if bind_host in _ANY_ADDRESS:
        return hosts
    try:
        own = _check_host(bind_host)
    except ValueError:  # not something a Host header can name
        return hosts
    return hosts if own in hosts else [*hosts, own]
