"""In production mode (its static manifest, secure cookies, HTTPS), no Django default page:
a process started with production's settings and no reachable database answers a missing page,
an unknown host, a form without its token and a failing request with the portal's pages."""

from __future__ import annotations

import json

from tests.production import production_environ, run_manage

# Run by `manage.py shell -c` in the production process; prints one JSON line per request.
SCRIPT = """
import json
from django.test import Client

host = {"HTTP_HOST": "dmp.example.fr"}
site = Client(raise_request_exception=False, **host)
strict = Client(enforce_csrf_checks=True, raise_request_exception=False, **host)
stranger = Client(raise_request_exception=False, HTTP_HOST="attacker.example")
signed = Client(raise_request_exception=False, **host)
signed.cookies["__Host-sessionid"] = "x" * 32  # its session lives in the unreachable database
answers = {
    "404": site.get("/nowhere/", secure=True),
    "400": stranger.get("/", secure=True),
    "403": strict.post("/accounts/login/", {"username": "a", "password": "b"}, secure=True),
    "500": signed.get("/records/", secure=True),
}
for name, response in answers.items():
    print(json.dumps([name, response.status_code, response.content.decode()]))
"""

TITLES = {
    "404": "Page introuvable",
    "400": "Demande incorrecte",
    "403": "Cette page a expiré",
    "500": "Une erreur est survenue",
}
DJANGO_DEFAULTS = (
    "Bad Request (400)",
    "Forbidden (403)",
    "CSRF verification failed",
    "Page not found at",
    "Server Error (500)",
    "Internal Server Error",
)


def test_production_shows_the_portals_pages_even_without_its_database(tmp_path):
    environ = production_environ(
        STATIC_ROOT=str(tmp_path / "static"),
        # Nothing listens on port 1: every query fails, as in a database outage.
        DATABASE_URL="postgres://dmp:pw@127.0.0.1:1/dmp",
    )
    collected = run_manage(environ, "collectstatic", "--noinput", "-v0", timeout=300)
    assert collected.returncode == 0, collected.stderr

    result = run_manage(environ, "shell", "-c", SCRIPT)
    assert result.returncode == 0, result.stderr
    answers = {
        name: (status, html)
        for name, status, html in (
            json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")
        )
    }
    assert {name: status for name, (status, _html) in answers.items()} == {
        "404": 404,
        "400": 400,
        "403": 403,
        "500": 500,
    }
    for name, (_status, html) in answers.items():
        assert '<html lang="fr">' in html, name
        assert f"<h1>{TITLES[name]}</h1>" in html, name
        assert 'href="/"' in html, f"{name}: no way back"
        # The stylesheet by its hashed name: the production manifest answered.
        assert "/static/css/portal." in html and ".css" in html, name
        assert [text for text in DJANGO_DEFAULTS if text in html] == [], name
    assert "OperationalError" in result.stderr  # the 500 was the database, and it was logged
