"""Password forgotten: a single-use link, valid one hour, to the verified contact address only;
the same answer for any address; the second factor kept; every session ended; audited."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ContactEmailChange, PasswordResetLink, TOTPDevice
from accounts.services.password import issue_reset_link, request_password_reset
from audit.models import AuditEvent
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    give_verified_email,
    logged_in_client,
    page_answer,
)

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
NEW_PASSWORD = "une longue phrase de printemps"
SET_PASSWORD = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


def patient_with_email(address="lea.martin@example.fr"):
    patient = UserFactory(kind="patient")
    device = add_totp(patient)
    give_verified_email(patient, address)
    return patient, device


def ask(client, address, capture):
    with capture(execute=True):
        return client.post(RESET, {"email": address})


def reset_path_from_email() -> str:
    match = re.search(
        r"https?://[^/\s]+(/accounts/password/reset/[\w-]+/)", str(mail.outbox[-1].body)
    )
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_a_reset_sets_a_new_password_keeps_the_second_factor_and_ends_every_session(
    django_capture_on_commit_callbacks,
):
    patient, device = patient_with_email()
    old_session = logged_in_client(patient, device)
    client = Client()

    answer = ask(client, "  Lea.Martin@Example.fr ", django_capture_on_commit_callbacks)
    assert answer.status_code == 200
    assert 'data-testid="reset-answer"' in answer.content.decode()
    assert [m.to for m in mail.outbox] == [["lea.martin@example.fr"]]
    body = mail.outbox[0].body
    assert patient.username in body and "expire dans une heure" in body

    landing = client.get(reset_path_from_email())
    # The token leaves the address bar at once.
    assert landing.status_code == 302
    assert landing["Location"] == "/accounts/password/reset/set-password/"
    assert 'name="new_password1"' in client.get(landing["Location"]).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(landing["Location"], SET_PASSWORD)
    assert done["Location"] == "/accounts/login/"

    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert TOTPDevice.objects.filter(user=patient, confirmed=True).count() == 1
    # The session opened before the reset is over.
    assert old_session.get("/records/")["Location"].startswith("/accounts/login/")
    # The next login still asks for the second factor.
    fresh = Client()
    step = fresh.post("/accounts/login/", {"username": patient.username, "password": NEW_PASSWORD})
    assert step["Location"] == "/accounts/login/"
    assert 'name="otp_token"' in fresh.get("/accounts/login/").content.decode()
    # Audited on the patient's own chain; the reset and the sessions it ended in no one's name
    # (holding the mailbox's link proves no one), from the client address that reset.
    assert list(
        AuditEvent.objects.filter(patient=patient)
        .order_by("pk")
        .values_list("action", "outcome", "actor_id")
    ) == [
        ("password-reset-request", "allowed", None),
        ("password-reset", "allowed", None),
        ("end-session", "allowed", None),  # the session opened before the reset, out of the store
        ("login-password", "allowed", patient.pk),  # the fresh login above, its password step
    ]
    ended = AuditEvent.objects.get(patient=patient, action="end-session")
    assert (ended.reason, str(ended.client_address)) == ("password", "127.0.0.1")
    assert mail.outbox[-1].to == ["lea.martin@example.fr"]
    assert "mot de passe" in mail.outbox[-1].subject.lower()


def test_known_unknown_and_unconfirmed_addresses_get_the_same_page_and_only_the_known_an_email(
    django_capture_on_commit_callbacks,
):
    patient_with_email("connue@example.fr")
    waiting = UserFactory(kind="patient")
    waiting.ensure_data_key()
    ContactEmailChange.objects.create(user=waiting, address="en-attente@example.fr")
    # The directory's address of a practitioner who never activated is not confirmed either.
    PractitionerProfileFactory(user=UserFactory(kind="practitioner", email="pro@example.fr"))

    pages = {
        address: page_answer(ask(Client(), address, django_capture_on_commit_callbacks))
        for address in (
            "connue@example.fr",
            "inconnue@example.fr",
            "en-attente@example.fr",
            "pro@example.fr",
        )
    }
    assert len(set(pages.values())) == 1
    assert [m.to for m in mail.outbox] == [["connue@example.fr"]]
    assert PasswordResetLink.objects.count() == 1


def test_a_known_and_an_unknown_address_do_the_same_work(django_capture_on_commit_callbacks):
    """The request does the same work either way (the e-mail is a task's): a look-up by blind
    index, one audit event (on the system chain for an unknown address), and one task queued
    (so the broker is reached either way in production, where queueing is a network push)."""
    patient_with_email("connue@example.fr")
    counts, queued = {}, {}
    for address in ("connue@example.fr", "inconnue@example.fr"):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            transaction.atomic(),
            CaptureQueriesContext(connection) as queries,
        ):
            request_password_reset(address, client_address=f"192.0.2.{len(counts) + 1}")
        counts[address] = len(queries)
        queued[address] = len(callbacks)
    assert counts["connue@example.fr"] == counts["inconnue@example.fr"]
    assert queued == {"connue@example.fr": 1, "inconnue@example.fr": 1}
    unknown = AuditEvent.objects.get(patient=None, action="password-reset-request")
    assert (unknown.outcome, unknown.reason) == ("refused", "unknown-address")
    assert "inconnue" not in str(AuditEvent.objects.values_list())


def test_reused_expired_superseded_and_made_up_links_get_one_answer():
    patient, _device = patient_with_email()
    with time_machine.travel("2026-11-02 09:00 +0000", tick=False) as clock:
        used = issue_reset_link(patient)
        client = Client()
        client.get(f"{RESET}{used}/")
        client.post(f"{RESET}set-password/", SET_PASSWORD)
        superseded = issue_reset_link(patient)
        issue_reset_link(patient)
        expired = issue_reset_link(patient)
        clock.shift(3600 + 1)
        answers = [
            Client().get(f"{RESET}{token}/")
            for token in (used, superseded, expired, "pas-un-jeton", "set-password")
        ]
        later = Client().post(
            f"{RESET}{expired}/", {"new_password1": "autre phrase", "new_password2": "x"}
        )
    assert {response.status_code for response in [*answers, later]} == {404}
    assert len({page_answer(response) for response in answers}) == 1
    assert "Ce lien n'est pas valide" in answers[0].content.decode()
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)  # the one used link's password only


def test_a_link_changes_only_its_own_account():
    alice, _ = patient_with_email("alice@example.fr")
    bob, _ = patient_with_email("bob@example.fr")
    client = Client()
    client.get(f"{RESET}{issue_reset_link(alice)}/")
    client.post(f"{RESET}set-password/", SET_PASSWORD)
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert bob.check_password(PASSWORD)
    # Alice's link, used, does not open Bob's account either: the same refusal.
    assert Client().get(f"{RESET}set-password/").status_code == 404


def test_a_weak_new_password_is_explained_and_the_link_still_works():
    patient, _ = patient_with_email()
    client = Client()
    client.get(f"{RESET}{issue_reset_link(patient)}/")
    refused = client.post(
        f"{RESET}set-password/", {"new_password1": "court", "new_password2": "court"}
    )
    assert refused.status_code == 200
    assert "12 caractères" in refused.content.decode()
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)
    assert client.post(f"{RESET}set-password/", SET_PASSWORD).status_code == 302


def test_a_malformed_address_is_explained_and_nothing_is_recorded():
    response = Client().post(RESET, {"email": "pas-une-adresse"})
    assert response.status_code == 200
    assert "adresse électronique valide" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_the_page_explains_the_postal_reactivation():
    page = Client().get(RESET).content.decode()
    assert 'href="/enrollment/"' in page
    assert "courrier" in page
    assert 'href="/accounts/password/reset/"' in Client().get("/accounts/login/").content.decode()


def test_requests_are_throttled_alike_for_known_and_unknown_addresses(
    django_capture_on_commit_callbacks,
):
    patient_with_email("connue@example.fr")
    for address in ("connue@example.fr", "inconnue@example.fr"):
        answers = [
            ask(Client(), address, django_capture_on_commit_callbacks).content.decode()
            for _ in range(4)
        ]
        assert all("Trop de tentatives" not in answer for answer in answers[:3])
        assert "Trop de tentatives" in answers[3]
    assert len(mail.outbox) == 3


def test_bad_links_are_throttled_then_even_a_good_one_is_refused():
    patient, _ = patient_with_email()
    for number in range(21):  # the 21st wrong link starts the cool-off
        assert Client().get(f"{RESET}faux-{number}/").status_code == 404
    good = issue_reset_link(patient)
    assert Client().get(f"{RESET}{good}/").status_code == 404
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_a_practitioners_reset_is_recorded_on_the_system_chain(django_capture_on_commit_callbacks):
    practitioner = PractitionerProfileFactory().user
    add_totp(practitioner)
    give_verified_email(practitioner, "dr.durand@example.fr")
    ask(Client(), "dr.durand@example.fr", django_capture_on_commit_callbacks)
    event = AuditEvent.objects.get(action="password-reset-request")
    assert event.patient is None and event.chain.key == "system"
    assert event.reason == f"account:{practitioner.pk}"
    assert [m.to for m in mail.outbox] == [["dr.durand@example.fr"]]


def test_bad_used_and_expired_links_are_audited_and_get_the_one_answer():
    """A made-up link is recorded on the system chain only; a used or expired one of a real
    account on that account's chain too, in no one's name; never the token."""
    patient, _device = patient_with_email()
    practitioner = PractitionerProfileFactory().user
    add_totp(practitioner)
    with time_machine.travel("2026-11-02 09:00 +0000", tick=False) as clock:
        used = issue_reset_link(patient)
        client = Client()
        client.get(f"{RESET}{used}/")
        client.post(f"{RESET}set-password/", SET_PASSWORD)
        expired = issue_reset_link(practitioner)
        clock.shift(3600 + 1)
        answers = [
            Client(REMOTE_ADDR="198.51.100.7").get(f"{RESET}{token}/")
            for token in ("pas-un-jeton", used, expired)
        ]
    assert len({page_answer(response) for response in answers}) == 1
    refused = AuditEvent.objects.filter(action="password-reset", outcome="refused")
    system = refused.filter(patient=None)
    assert list(system.filter(reason="bad-link").values_list("actor_id", flat=True)) == [None] * 3
    assert system.get(reason=f"bad-link account:{practitioner.pk}").actor_id is None
    on_patient = refused.get(patient=patient)
    assert (on_patient.reason, on_patient.actor_id) == ("bad-link", None)
    assert str(on_patient.client_address) == "198.51.100.7"
    trail = str(AuditEvent.objects.values_list())
    assert used not in trail and expired not in trail and "pas-un-jeton" not in trail
    practitioner.refresh_from_db()
    assert practitioner.check_password(PASSWORD)
