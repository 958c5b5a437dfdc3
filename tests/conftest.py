"""Suite-wide fixtures: real PostgreSQL, real Redis broker and a real Celery worker.

``make test`` runs the suite through ``scripts/testenv.py``, which starts PostgreSQL and Redis
on loopback and sets ``DMP_ENV=test``. Tests that need the broker and worker use the
``celery_worker`` fixture: without the services they are skipped on a developer's machine and
fail under ``CI=true``, so that CI can never pass having skipped them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http.request import HttpHeaders
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils.crypto import get_random_string
from django.utils.encoding import force_bytes

from access_control.models import ProfessionRule
from access_control.profession_defaults import seed_profession_rules
from accounts.models import Profession
from dmp_portal.celery import app
from records.categories import seed_categories
from records.models import Category
from tests.processes import services_missing, start_worker, stop_worker
from tests.storage_backends import botocore_signs_with_the_real_time

DRILLS = Path(__file__).resolve().parent / "drills"


def pytest_addoption(parser):
    parser.addoption(
        "--drills",
        action="store_true",
        help="collect the fault drills of tests/drills/ (make drills); left out otherwise",
    )


def pytest_ignore_collect(collection_path, config):
    # The fault drills kill and restart the services under the suite: `make drills` runs them
    # on their own (with --drills), never `make test` beside the other tests.
    if config.getoption("--drills"):
        return None
    return collection_path == DRILLS or DRILLS in collection_path.parents or None


def pytest_configure(config):
    # Any template that renders an undefined variable fails its test: pytest-django's check,
    # switched on here rather than left to a command-line flag someone could forget.
    os.environ["FAIL_INVALID_TEMPLATE_VARS"] = "true"
    config.addinivalue_line(
        "markers",
        "csrf_raw: the test's clients send no CSRF token of their own accord (tests of CSRF "
        "itself); the checks stay enforced",
    )


# --- Every POST of the suite runs with CSRF enforced ------------------------------------------
# Django's test client skips the CSRF check unless built with ``enforce_csrf_checks=True``: a
# view that forgot its protection, or a form without its token, would pass every test. Here
# every Client enforces the check, and by default sends a token the way a browser does (the
# csrftoken cookie, the same value in the X-CSRFToken header, and an Origin header for this
# site), unless the test set a token itself. A test of CSRF itself builds
# ``Client(enforce_csrf_checks=True)`` or carries the ``csrf_raw`` marker: then nothing is
# added, and a POST without a valid token gets 403 (tests/test_csrf_enforced.py proves it;
# tests/test_csrf_every_route.py proves it on every state-changing page, the admin's included).
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_DJANGO_CLIENT_INIT = Client.__init__
_DJANGO_CLIENT_GENERIC = Client.generic
_RAW_CSRF = {"active": False}  # set for the duration of a test marked csrf_raw


def _enforcing_init(self, enforce_csrf_checks=None, *args, **kwargs):
    _DJANGO_CLIENT_INIT(self, True, *args, **kwargs)
    # Asked for explicitly: the test handles the token itself.
    self.sends_csrf_token = enforce_csrf_checks is not True and not _RAW_CSRF["active"]


def _browser_generic(
    self,
    method,
    path,
    data="",
    content_type="application/octet-stream",
    secure=False,
    *,
    headers=None,
    query_params=None,
    **extra,
):
    if getattr(self, "sends_csrf_token", False) and method.upper() in UNSAFE_METHODS:
        extra = {**extra, **_browser_csrf(self, force_bytes(data), secure, headers, extra)}
    return _DJANGO_CLIENT_GENERIC(
        self,
        method,
        path,
        data,
        content_type,
        secure,
        headers=headers,
        query_params=query_params,
        **extra,
    )


def _browser_csrf(client, body: bytes, secure: bool, headers, extra) -> dict:
    """What a browser adds to a same-site form post: the cookie it holds (set by the page, or a
    new one), the token, and the Origin header. Nothing replaces what the test set itself."""
    sent = {**client.defaults, **HttpHeaders.to_wsgi_names(headers or {}), **extra}
    added = {}
    if "HTTP_ORIGIN" not in sent and "HTTP_REFERER" not in sent:
        host = sent.get("HTTP_HOST") or sent.get("SERVER_NAME") or "testserver"
        added["HTTP_ORIGIN"] = f"{'https' if secure else 'http'}://{host}"
    if settings.CSRF_HEADER_NAME in sent or b"csrfmiddlewaretoken" in body:
        return added
    morsel = client.cookies.get(settings.CSRF_COOKIE_NAME)
    secret = morsel.value if morsel is not None and morsel.value else ""
    if not secret:
        secret = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
    added[settings.CSRF_HEADER_NAME] = secret
    return added


# Deliberate, for the whole suite: every test client posts as a browser does (CSRF enforced).
Client.__init__ = _enforcing_init  # type: ignore[method-assign]
Client.generic = _browser_generic  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter):
    """The figures tests measure (``record_property("measured", text)``, e.g. the 50 MB
    download's peak memory), in a section of their own at the end of the run: CI's log shows
    them on both storage backends, with or without ``-s`` or ``-q``."""
    figures = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "measured"
    ]
    if figures:
        terminalreporter.section("measured figures")
        for figure in figures:
            terminalreporter.write_line(figure)


@pytest.fixture(autouse=True)
def _csrf_mode(request):
    _RAW_CSRF["active"] = request.node.get_closest_marker("csrf_raw") is not None
    yield
    _RAW_CSRF["active"] = False


@pytest.fixture(scope="session", autouse=True)
def _real_services_only():
    if os.environ.get("DMP_ENV") != "test":
        pytest.exit(
            "Run the suite with `make test` (it starts PostgreSQL and Redis), or through "
            "`python scripts/testenv.py -- python -m pytest`.",
            returncode=4,
        )
    engine = settings.DATABASES["default"]["ENGINE"]
    assert engine == "django.db.backends.postgresql", "the suite runs on PostgreSQL only"


@pytest.fixture(scope="session", autouse=True)
def _s3_signatures_on_the_real_clock():
    """On S3, tests that move the clock (time_machine) still reach the server: botocore signs
    with the real time (tests/storage_backends.py says why). Harmless on the local disk."""
    with botocore_signs_with_the_real_time():
        yield


@pytest.fixture(autouse=True)
def _seeded_categories(request):
    """Data seeded by migrations is wiped by the flush after each transactional test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    if not Category.objects.exists():
        seed_categories(Category)
        seed_profession_rules(ProfessionRule, Category, Profession.values)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttling counters live in the cache: no test inherits another's failures."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_inline(request):
    """Unit tests run tasks in their own process; tests using the broker send them to it."""
    uses_broker = {"celery_worker", "redis_broker"} & set(request.fixturenames)
    app.conf.task_always_eager = not uses_broker
    yield
    app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def redis_broker():
    """The real Redis broker started by `make test`; skipped locally, a failure under CI."""
    if not settings.CELERY_BROKER_URL or os.environ.get("DMP_TEST_SERVICES") != "1":
        services_missing("no Redis broker: run the suite with `make test`")
    return settings.CELERY_BROKER_URL


@pytest.fixture(scope="session")
def celery_worker(redis_broker, django_db_setup, django_db_blocker):
    """A real worker process for the whole session (tests using it need committed data)."""
    process = start_worker("test-worker")
    yield process
    stop_worker(process)


@pytest.fixture(scope="session")
def pg_dump() -> str:
    """The pg_dump program, to read the database as a backup would (PATH first: testenv puts
    the server's own version there)."""
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    assert candidates, "pg_dump is needed (Debian package postgresql-client)"
    return str(candidates[-1])
