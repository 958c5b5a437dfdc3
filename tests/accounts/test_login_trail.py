"""Logins in the audit trail (issue 15, item 9): each step, allowed or refused, on the patient's
own chain for a patient (their history shows it), on the system chain otherwise; an identifier
of no account leaves no clue in the answer."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services.authentication import LoginRefused, check_password_step
from audit.models import SYSTEM_CHAIN_KEY, Action, AuditEvent, Outcome
from tests import timing
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    logged_in_client,
    next_totp_token,
)

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def events(**filters):
    return list(
        AuditEvent.objects.filter(**filters)
        .select_related("chain")
        .order_by("pk")
        .values_list("chain__key", "actor_id", "action", "outcome", "reason")
    )


def test_a_patients_login_is_on_their_own_chain_in_their_name():
    patient = UserFactory()
    device = add_totp(patient)
    client = Client(REMOTE_ADDR="192.0.2.8")
    client.post(LOGIN, {"username": patient.username, "password": PASSWORD})
    client.post(LOGIN, {"otp_token": next_totp_token(device)})

    chain = f"patient:{patient.pk}"
    assert events() == [
        (chain, patient.pk, Action.LOGIN_PASSWORD, Outcome.ALLOWED, ""),
        (chain, patient.pk, Action.LOGIN, Outcome.ALLOWED, ""),
    ]
    assert {e.client_address for e in AuditEvent.objects.all()} == {"192.0.2.8"}


def test_refused_steps_of_a_patient_are_on_their_chain_in_no_ones_name():
    patient = UserFactory()
    add_totp(patient)
    client = Client()
    client.post(LOGIN, {"username": patient.username, "password": "wrong password here"})
    client.post(LOGIN, {"username": patient.username, "password": PASSWORD})
    client.post(LOGIN, {"otp_token": "000000"})

    chain = f"patient:{patient.pk}"
    assert events() == [
        (chain, None, Action.LOGIN_PASSWORD, Outcome.REFUSED, "wrong-password"),
        (chain, patient.pk, Action.LOGIN_PASSWORD, Outcome.ALLOWED, ""),
        (chain, None, Action.LOGIN, Outcome.REFUSED, "wrong-code"),
    ]


def test_a_practitioners_logins_are_on_the_system_chain_in_their_name():
    practitioner = PractitionerProfileFactory().user
    device = add_totp(practitioner)
    client = Client()
    client.post(LOGIN, {"username": practitioner.username, "password": "wrong password here"})
    client.post(LOGIN, {"username": practitioner.username, "password": PASSWORD})
    client.post(LOGIN, {"otp_token": next_totp_token(device)})
    client.post("/accounts/logout/")

    pk = practitioner.pk
    assert events() == [
        (SYSTEM_CHAIN_KEY, pk, Action.LOGIN_PASSWORD, Outcome.REFUSED, "wrong-password"),
        (SYSTEM_CHAIN_KEY, pk, Action.LOGIN_PASSWORD, Outcome.ALLOWED, ""),
        (SYSTEM_CHAIN_KEY, pk, Action.LOGIN, Outcome.ALLOWED, ""),
        (SYSTEM_CHAIN_KEY, pk, Action.LOGOUT, Outcome.ALLOWED, ""),
    ]


def _page(response, username: str) -> str:
    # The CSRF token differs from one answer to the next by nature, and the form shows again
    # the identifier that was typed.
    page = response.content.decode().replace(f'value="{username}"', 'value="…"')
    return re.sub(r'value="[^"]{64}"', "", page)


def test_an_unknown_identifier_leaves_no_clue_in_the_answer():
    patient = UserFactory()
    add_totp(patient)
    answers, queries = {}, {}
    for name, username in (("known", patient.username), ("unknown", "nobody-by-that-name")):
        client = Client(REMOTE_ADDR=f"192.0.2.{len(answers) + 1}")
        client.get(LOGIN)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(LOGIN, {"username": username, "password": "wrong password!"})
        answers[name] = (response.status_code, _page(response, username))
        # The same work either way (the hasher runs for an unknown identifier too): the same
        # queries, so the same time within noise.
        queries[name] = [re.sub(r"'[^']*'|\d+", "?", q["sql"]) for q in captured.captured_queries]
    assert answers["known"] == answers["unknown"]
    assert len(queries["known"]) == len(queries["unknown"])
    assert events(chain__key=SYSTEM_CHAIN_KEY) == [
        (SYSTEM_CHAIN_KEY, None, Action.LOGIN_PASSWORD, Outcome.REFUSED, "wrong-password")
    ]
    # Nothing in the trail names the identifier that was typed.
    assert not AuditEvent.objects.filter(reason__icontains="nobody").exists()


def test_a_throttle_is_recorded_when_it_trips_not_at_every_refusal(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    patient = UserFactory()
    client = Client()
    for _ in range(6):
        client.post(LOGIN, {"username": patient.username, "password": "wrong password here"})
    reasons = [reason for *_, reason in events()]
    assert reasons == ["wrong-password", "wrong-password", "throttled"]


def test_the_patient_finds_their_logins_in_their_own_history():
    patient = UserFactory()
    device = add_totp(patient)
    Client().post(LOGIN, {"username": patient.username, "password": "wrong password here"})
    client = Client()
    client.post(LOGIN, {"username": patient.username, "password": PASSWORD})
    client.post(LOGIN, {"otp_token": next_totp_token(device)})

    mine = client.get("/access/history/", {"show": "mine", "action": "login"})
    page = mine.content.decode()
    assert mine.status_code == 200
    assert "Connexion" in page
    assert "Choisissez" not in page  # the filter's choice exists
    others = client.get("/access/history/").content.decode()
    assert "Connexion : étape du mot de passe" in others  # someone typed a wrong password


def test_the_tests_shortcut_records_no_login():
    logged_in_client(UserFactory())
    assert not AuditEvent.objects.exists()


# The password step itself (the service the login page calls), timed: a whole page adds
# milliseconds of noise. A second identifier of no account is the control. See tests/timing.py.
ROUNDS = 40
PASSWORD_STEP_FLOOR = 0.0005


def test_an_unknown_identifier_takes_the_same_time_as_a_wrong_password():
    patient = UserFactory()
    usernames = {
        "unknown": "nobody-by-that-name",
        "unknown again": "nor-by-this-one",
        "known": patient.username,
    }

    def attempt(kind: str) -> None:
        with pytest.raises(LoginRefused):
            check_password_step(
                usernames[kind],
                "wrong password here",
                client_address="192.0.2.1",
                known_browser_markers="",
            )

    def take():
        return timing.measure(
            attempt,
            list(usernames),
            reference="unknown",
            control="unknown again",
            rounds=ROUNDS,
            warm_up=3,
            floor=PASSWORD_STEP_FLOOR,
            before_each=cache.clear,  # no throttle in the way
        )

    timing.assert_same_time(take, "password step")
