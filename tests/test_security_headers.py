"""Every response carries the security headers; production adds HSTS and secure cookies."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/healthz", "/nowhere/", "/static/css/portal.css"]
)
def test_security_headers_on_every_response(path):
    response = Client().get(path)
    csp = response["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip()
    )
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


class _InlineCode(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on")]
        self.found += [
            f"{tag} {name}=javascript:"
            for name, value in attrs
            if (value or "").strip().lower().startswith("javascript:")
        ]


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/logout/", "/nowhere/"])
def test_pages_have_no_inline_script_or_event_handler(path):
    parser = _InlineCode()
    parser.feed(Client().get(path).content.decode())
    assert parser.found == []


def test_the_inline_code_check_can_fail():
    parser = _InlineCode()
    parser.feed('<p onclick="x()">a</p><script>alert(1)</script><a href="javascript:x">b</a>')
    assert len(parser.found) == 3


def test_production_sets_hsts_secure_cookies_and_https_redirect(tmp_path):
    from tests.test_settings import production_environ, run_manage

    script = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.TRUSTED_PROXY_HOPS, s.DEBUG)"
    )
    result = run_manage(production_environ(), "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "63072000",
        "True",
        "True",
        "True",
        "True",
        "True",
        "Lax",
        "__Host-sessionid",
        "__Host-csrftoken",
        "1",
        "False",
    ]
