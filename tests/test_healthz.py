from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_database_and_broker_answer():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_TASK_ALWAYS_EAGER=False)
def test_healthz_reports_an_unreachable_broker():
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "broker": "error"}}


@override_settings(CELERY_BROKER_URL=None, CELERY_TASK_ALWAYS_EAGER=False)
def test_healthz_reports_a_missing_broker_url_as_an_unhealthy_broker():
    # Found by mypy: the URL is optional in the settings, and Redis.from_url(None) raised
    # AttributeError, which turned the health check into a 500.
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"database": "ok", "broker": "error"}}
