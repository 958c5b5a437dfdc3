"""In production mode (its static manifest, secure cookies, HTTPS), no Django default page:
a process started with production's settings and no reachable database answers a missing page,
an unknown host, a form without its token, a refused action, too many enrolment requests and a
failing request with the portal's pages."""

from __future__ import annotations

import json
import os

from tests.production import production_environ, run_manage

# Run by `manage.py shell -c` in the production process; prints one JSON line per request.
SCRIPT = """
import json
from django.test import Client, override_settings

host = {"HTTP_HOST": "dmp.example.fr"}
site = Client(raise_request_exception=False, **host)
strict = Client(enforce_csrf_checks=True, raise_request_exception=False, **host)
stranger = Client(raise_request_exception=False, HTTP_HOST="attacker.example")
signed = Client(raise_request_exception=False, **host)
signed.cookies["__Host-sessionid"] = "x" * 32  # its session lives in the unreachable database
enrolment = {"nir": "185057800608491", "nir_confirmation": "185057800608491"}
# The first request counts against the client's limit (1 here) before it reaches the database;
# the second is refused by the throttle (Redis), as a person asking too often would be.
first_enrolment = site.post("/enrollment/", enrolment, secure=True)
answers = {
    "404": site.get("/nowhere/", secure=True),
    "400": stranger.get("/", secure=True),
    "403": strict.post("/accounts/login/", {"username": "a", "password": "b"}, secure=True),
    "429": site.post("/enrollment/", enrolment, secure=True),
    "500": signed.get("/records/", secure=True),
}
# Only the staff's admin raises PermissionDenied, behind a login the database would answer: the
# test URLs raise it, with the portal's handlers (tests/error_urls.py).
with override_settings(ROOT_URLCONF="tests.error_urls"):
    answers["403-refused"] = site.get("/test-errors/forbidden/", secure=True)
print(json.dumps(["first-enrolment", first_enrolment.status_code, ""]))
for name, response in answers.items():
    print(json.dumps([name, response.status_code, response.content.decode()]))
"""

TITLES = {
    "404": "Page introuvable",
    "400": "Demande incorrecte",
    "403": "Cette page a expiré",
    "403-refused": "Accès refusé",
    "429": "Veuillez réessayer plus tard",
    "500": "Une erreur est survenue",
}
# Every page but the expired form's says which error it is.
CODE_LINES = {
    "404": "Erreur 404",
    "400": "Erreur 400",
    "403-refused": "Erreur 403",
    "429": "Erreur 429",
    "500": "Erreur 500",
}
DJANGO_DEFAULTS = (
    "Bad Request (400)",
    "Forbidden (403)",
    "403 Forbidden",
    "CSRF verification failed",
    "Too Many Requests",
    "Page not found at",
    "Server Error (500)",
    "Internal Server Error",
)


def test_production_shows_the_portals_pages_even_without_its_database(tmp_path):
    environ = production_environ(
        STATIC_ROOT=str(tmp_path / "static"),
        # Nothing listens on port 1: every query fails, as in a database outage.
        DATABASE_URL="postgres://dmp:pw@127.0.0.1:1/dmp",
        # The throttles count in the cache: the suite's Redis (scripts/testenv.py).
        CACHE_URL=os.environ["CACHE_URL"],
        ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR="1",
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
        "first-enrolment": 500,  # it reached the database
        "404": 404,
        "400": 400,
        "403": 403,
        "403-refused": 403,
        "429": 429,
        "500": 500,
    }
    del answers["first-enrolment"]
    for name, (_status, html) in answers.items():
        assert '<html lang="fr">' in html, name
        assert f"<h1>{TITLES[name]}</h1>" in html, name
        if name in CODE_LINES:
            assert f'<p class="error-code">{CODE_LINES[name]}</p>' in html, name
        assert 'href="/"' in html, f"{name}: no way back"
        # The stylesheet by its hashed name: the production manifest answered.
        assert "/static/css/portal." in html and ".css" in html, name
        assert [text for text in DJANGO_DEFAULTS if text in html] == [], name
    assert "OperationalError" in result.stderr  # the 500 was the database, and it was logged
