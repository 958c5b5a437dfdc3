"""Every response carries the security headers; production adds HSTS and secure cookies."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    logged_in_client,
    password_only_client,
)
from tests.production import production_environ, run_manage

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
    def __init__(self) -> None:
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


# --- No page of a signed-in person is kept by the browser or a proxy --------------------------


def _no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and "private" in directives


def _patient():
    return UserFactory()


def _practitioner():
    return PractitionerProfileFactory().user


def _staff():
    return StaffFactory()


ROLE_PAGES = {
    _patient: [
        "/summary/",
        "/nowhere/",
        "/records/",
        "/access/",
        "/access/history/",
        "/accounts/logout/",
    ],
    _practitioner: ["/pro/workspace/", "/nowhere/", "/pro/", "/accounts/logout/"],
    _staff: ["/staff/", "/nowhere/", "/admin/", "/admin/enrollment/beneficiary/"],
}


@pytest.mark.parametrize(
    ("make_user", "path"),
    [(make_user, path) for make_user, paths in ROLE_PAGES.items() for path in paths],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_every_page_of_a_signed_in_person_is_no_store(make_user, path):
    client = logged_in_client(make_user())
    response = client.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    assert _no_store(response), (path, response.get("Cache-Control"))
    assert response["Pragma"] == "no-cache"


def test_pages_seen_with_the_password_alone_are_no_store():
    client = password_only_client(UserFactory())
    for path in ("/", "/nowhere/", "/accounts/2fa/setup/"):
        assert _no_store(client.get(path)), path


def test_public_pages_static_files_and_healthz_keep_their_caching():
    anonymous = Client()
    for path in ("/", "/enrollment/eligibility/", "/nowhere/"):
        response = anonymous.get(path)
        assert "no-store" not in response.get("Cache-Control", ""), path
    signed_in = logged_in_client(UserFactory())
    static = signed_in.get("/static/css/portal.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    # The health check was already never cached, and stays so.
    assert "no-store" in Client().get("/healthz")["Cache-Control"]
