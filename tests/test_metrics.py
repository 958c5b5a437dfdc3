"""/metrics (issue 18, README "Metrics"): the portal's 404 for everyone but the scraper that
sends the bearer token; what a real request, audit event, failed login, throttle and letter
add to it; and never a path, an id or a person in a label."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from audit.models import AuditEvent
from dmp_portal.health import record_worker_heartbeat
from tests.accounts.factories import PASSWORD, UserFactory
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.metrics_reading import BEARER, TOKEN, scrape, value
from tests.production import production_environ, run_manage
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
LABEL_VALUE = re.compile(r'="([^"]*)"')


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def _templates(response) -> list[str]:
    return [template.name for template in response.templates]


def test_without_the_setting_metrics_is_the_portals_404_even_with_a_bearer(settings):
    settings.METRICS_TOKEN = ""
    unknown = Client().get("/no-such-page")
    for headers in ({}, BEARER, {"Authorization": "Bearer "}):
        response = Client().get("/metrics", headers=headers)
        assert response.status_code == 404
        assert _templates(response) == _templates(unknown)
        assert b"dmp_" not in response.content


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_a_missing_or_wrong_bearer_gets_the_portals_404(token, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 404
    assert _templates(response) == _templates(Client().get("/no-such-page"))
    assert b"dmp_" not in response.content


def test_the_scraper_gets_the_text_format_never_cached_and_no_session(
    token, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = Client().get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert "# TYPE dmp_request_seconds histogram" in response.content.decode()
    assert "# TYPE dmp_audit_events_total counter" in response.content.decode()


def test_a_page_is_timed_under_its_route_name_never_its_path(token):
    patient, client = patient_with_login()
    document = add_document(patient)
    # The same labels before and after: earlier tests of the suite may have counted this route
    # under other methods or status classes.
    before = value(
        scrape(), "dmp_request_seconds_count", view="records:document", method="GET", status="2xx"
    )
    assert client.get(f"/records/{document.uid}/").status_code == 200
    assert client.get(f"/records/{document.uid}/nothing-here/").status_code == 404
    Client().get("/metrics/12345/", headers=BEARER)
    assert Client().get("/static/css/portal.css").status_code == 200
    client.generic("BREW", "/records/")
    text = scrape()
    assert (
        value(
            text, "dmp_request_seconds_count", view="records:document", method="GET", status="2xx"
        )
        == before + 1
    )
    assert value(text, "dmp_request_seconds_count", view="unmatched", status="4xx") >= 2
    assert value(text, "dmp_request_seconds_count", view="records:list", method="other") == 1
    assert value(text, "dmp_request_seconds_count", view="static", status="2xx") >= 1
    assert not UUID.search(text)
    assert str(document.uid) not in text
    # No label value is a path, nor a number (an id): route names, methods, status classes.
    for label in LABEL_VALUE.findall(text):
        assert "/" not in label and not label.isdigit(), label


def test_an_audited_page_view_counts_the_events_the_trail_wrote(token):
    patient, client = patient_with_login()
    document = add_document(patient)
    before = scrape()
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert client.get(f"/records/{document.uid}/").status_code == 200
    written = AuditEvent.objects.filter(pk__gt=last, action="view", outcome="allowed").count()
    assert written >= 1
    after = scrape()
    labels = {"action": "view", "outcome": "allowed"}
    assert value(after, "dmp_audit_events_total", **labels) == (
        value(before, "dmp_audit_events_total", **labels) + written
    )


def test_a_failed_login_counts_exactly_one(token):
    user = UserFactory()
    before = value(scrape(), "dmp_login_failures_total", step="password")
    refused = Client().post("/accounts/login/", {"username": user.username, "password": "no"})
    assert refused.status_code == 200
    assert value(scrape(), "dmp_login_failures_total", step="password") == before + 1
    # A right password is no failure.
    Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert value(scrape(), "dmp_login_failures_total", step="password") == before + 1


def test_a_throttled_form_counts_under_its_throttle(token):
    client = Client()
    before = value(scrape(), "dmp_throttled_total", throttle="enrol-client")
    for _attempt in range(settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR):
        nir = make_nir()
        client.post("/enrollment/", {"nir": nir, "nir_confirmation": nir})
    assert value(scrape(), "dmp_throttled_total", throttle="enrol-client") == before
    nir = make_nir()
    refused = client.post("/enrollment/", {"nir": nir, "nir_confirmation": nir})
    assert refused.status_code == 429
    assert value(scrape(), "dmp_throttled_total", throttle="enrol-client") == before + 1


def test_a_login_throttle_counts_its_trip_and_every_attempt_it_refuses(token):
    user, client = UserFactory(), Client()
    wrong = {"username": user.username, "password": "no"}
    text = scrape()
    failures = value(text, "dmp_login_failures_total", step="password")
    throttled = value(text, "dmp_throttled_total", throttle="password-pair")
    for _guess in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        client.post("/accounts/login/", wrong)
    text = scrape()
    assert (
        value(text, "dmp_login_failures_total", step="password")
        == failures + settings.LOGIN_FAILURES_PER_ACCOUNT
    )
    assert value(text, "dmp_throttled_total", throttle="password-pair") == throttled
    client.post("/accounts/login/", wrong)  # past the limit: the throttle trips
    client.post("/accounts/login/", wrong)  # refused while it holds, before any check
    text = scrape()
    assert value(text, "dmp_throttled_total", throttle="password-pair") == throttled + 2
    # Neither guess was checked: no more wrong passwords than before.
    assert (
        value(text, "dmp_login_failures_total", step="password")
        == failures + settings.LOGIN_FAILURES_PER_ACCOUNT
    )
    assert user.username not in text


def test_a_letter_rendered_counts_and_no_person_shows_in_any_label(
    token, django_capture_on_commit_callbacks
):
    person = make_beneficiary(last_name="Quintavalle", first_name="Eudoxie", city="Pontarlier")
    before = value(scrape(), "dmp_letters_rendered_total", kind="creation_code")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
        )
    assert response.status_code == 200
    text = scrape()
    assert value(text, "dmp_letters_rendered_total", kind="creation_code") == before + 1
    for personal in (person.nir, person.nir[:13], "Quintavalle", "Eudoxie", "Pontarlier"):
        assert personal.casefold() not in text.casefold(), personal


def test_production_refuses_a_short_token_and_reads_one_from_a_file(tmp_path):
    short = run_manage(production_environ(METRICS_TOKEN="too-short"), "check")
    assert short.returncode != 0
    assert "METRICS_TOKEN must be at least 32 characters" in short.stderr
    assert "too-short" not in short.stderr
    token_file = tmp_path / "metrics_token"
    token_file.write_text(TOKEN + "\n")
    environ = production_environ(METRICS_TOKEN_FILE=str(token_file))
    script = f"from django.conf import settings; print(settings.METRICS_TOKEN == {TOKEN!r})"
    read = run_manage(environ, "shell", "-c", script)
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip().splitlines()[-1] == "True"


def test_the_scraper_reaches_metrics_over_plain_http_in_production():
    """Prometheus scrapes gunicorn on the internal network: no redirect to HTTPS (the proxy
    facing the Internet never forwards /metrics: README, Metrics)."""
    script = (
        "from django.test import Client; "
        "print(Client(HTTP_HOST='dmp.example.fr').get('/metrics', "
        f"headers={{'Authorization': 'Bearer {TOKEN}'}}).status_code)"
    )
    result = run_manage(production_environ(METRICS_TOKEN=TOKEN), "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "200"


def test_the_workers_heartbeat_age_is_read_at_scrape_time(token):
    assert "dmp_worker_heartbeat_age_seconds" not in scrape()  # no worker ever beat
    record_worker_heartbeat()
    assert 0 <= value(scrape(), "dmp_worker_heartbeat_age_seconds") < 5
