"""Every POST of the suite runs with CSRF enforced (tests/conftest.py): proof that it is real.

The suite's ordinary client sends a token the way a browser does. Withhold it, or send a wrong
one, and the same POST is refused with 403 and changes nothing: on the login form, and on a
page that changes a record. Each refusal is paired with the same POST carrying the token, which
succeeds, so that the only difference between the two is the token.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from audit.models import AuditEvent
from records.models import Document
from tests.accounts.factories import PASSWORD, UserFactory
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG_TOKEN = "x" * 32


def test_every_client_of_the_suite_enforces_csrf(client):
    assert client.handler.enforce_csrf_checks is True
    assert Client().handler.enforce_csrf_checks is True
    # Even a test asking for the checks to be skipped does not get it.
    assert Client(enforce_csrf_checks=False).handler.enforce_csrf_checks is True


@pytest.mark.csrf_raw
def test_a_login_post_without_token_is_refused_and_logs_nobody_in():
    user = UserFactory()
    client = Client()
    client.get(LOGIN)  # the page sets the cookie, as in a browser; the form's token is not sent
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_login_post_with_a_wrong_token_is_refused_and_logs_nobody_in():
    user = UserFactory()
    client = Client()
    client.get(LOGIN)
    data = {"username": user.username, "password": PASSWORD}
    refused = client.post(LOGIN, {**data, "csrfmiddlewaretoken": WRONG_TOKEN})
    assert refused.status_code == 403
    refused = client.post(LOGIN, data, headers={"X-CSRFToken": WRONG_TOKEN})
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    # The same post with the browser's token is accepted: only the token made the difference.
    accepted = client.post(LOGIN, data)
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_forged_post_on_a_record_page_is_refused_and_changes_nothing():
    patient, client = patient_with_login()
    document = add_document(patient)
    events = AuditEvent.objects.count()
    hide = f"/records/{document.uid}/hide/"

    client.sends_csrf_token = False  # a page of another site posting with the victim's cookies
    assert client.post(hide).status_code == 403
    assert client.post(hide, headers={"X-CSRFToken": WRONG_TOKEN}).status_code == 403
    assert client.post(hide, {"csrfmiddlewaretoken": WRONG_TOKEN}).status_code == 403
    # A token of the right shape, but not the one of this browser's cookie.
    other_secret = "A" * 32
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != other_secret
    assert client.post(hide, headers={"X-CSRFToken": other_secret}).status_code == 403
    document.refresh_from_db()
    assert document.hidden_from_practitioners is False
    assert AuditEvent.objects.count() == events  # not even the door was reached

    client.sends_csrf_token = True
    assert client.post(hide).status_code == 302
    document.refresh_from_db()
    assert document.hidden_from_practitioners is True


def test_a_post_from_another_origin_is_refused_even_with_the_token():
    patient, client = patient_with_login()
    document = add_document(patient)
    response = client.post(
        f"/records/{document.uid}/delete/", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert Document.objects.get(pk=document.pk).status == "current"
