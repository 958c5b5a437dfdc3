"""The contact e-mail address: used only once confirmed by its single-use link; a change tells
the replaced address; every sender asks for the verified address."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client

from access_control.notifications import NotificationKind
from access_control.tasks import send_patient_notification, send_physician_emergency_notification
from accounts.models import ContactEmail, ContactEmailChange
from accounts.selectors import verified_email
from accounts.services import issue_activation_link
from audit.models import AuditEvent
from tests.accounts.factories import (
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    give_verified_email,
    logged_in_client,
    page_answer,
)

pytestmark = pytest.mark.django_db
SETTINGS = "/access/settings/"
NOTIFY_ALL = {
    "notify_first_access": "on",
    "notify_emergency": "on",
    "notify_request": "on",
    "notify_new_document": "on",
}


def patient_client():
    patient = UserFactory(kind="patient")
    patient.ensure_data_key()
    return patient, logged_in_client(patient, add_totp(patient))


def give(client, address, capture):
    with capture(execute=True):
        return client.post(SETTINGS, {"contact_email": address, **NOTIFY_ALL})


def confirm_path() -> str:
    match = re.search(
        r"https?://[^/\s]+(/accounts/email/confirm/[\w-]+/)", str(mail.outbox[-1].body)
    )
    assert match, mail.outbox[-1].body
    return match.group(1)


def follow_link(path: str, capture) -> Client:
    """Open the link in a browser that is not signed in, then press the button."""
    browser = Client()
    landing = browser.get(path)
    assert landing["Location"] == "/accounts/email/confirm/confirm/"
    with capture(execute=True):
        done = browser.post(landing["Location"])
    assert done.status_code == 200, done.content.decode()
    return browser


def test_a_new_address_gets_its_confirmation_only_until_confirmed(
    django_capture_on_commit_callbacks,
):
    patient, client = patient_client()
    give(client, "lea@example.fr", django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["lea@example.fr"]]
    assert verified_email(patient) is None
    page = client.get(SETTINGS).content.decode()
    assert 'value="lea@example.fr"' in page and "En attente de confirmation" in page
    assert "Un lien de confirmation a été envoyé" in page
    # Saving the settings again sends no second link.
    resaved = give(client, "lea@example.fr", django_capture_on_commit_callbacks)
    assert (
        "Un lien de confirmation a été envoyé"
        not in client.get(resaved["Location"]).content.decode()
    )
    assert len(mail.outbox) == 1

    # Notifications wait for the confirmation.
    assert send_patient_notification(NotificationKind.EMERGENCY, str(patient.pk)) is False
    assert len(mail.outbox) == 1

    path = confirm_path()
    # Opening the link alone (a mail scanner) confirms nothing.
    Client().get(path)
    assert verified_email(patient) is None
    follow_link(path, django_capture_on_commit_callbacks)
    assert verified_email(patient) == "lea@example.fr"
    assert "Adresse confirmée" in client.get(SETTINGS).content.decode()
    assert send_patient_notification(NotificationKind.EMERGENCY, str(patient.pk)) is True
    assert mail.outbox[-1].to == ["lea@example.fr"]
    event = AuditEvent.objects.get(action="contact-email")
    assert (event.patient, event.reason) == (patient, "confirmed")
    assert "lea" not in str(AuditEvent.objects.values_list())


def test_a_change_tells_the_old_address_once_the_new_one_is_confirmed(
    django_capture_on_commit_callbacks,
):
    patient, client = patient_client()
    give_verified_email(patient, "ancienne@example.fr")
    give(client, "nouvelle@example.fr", django_capture_on_commit_callbacks)
    # Until confirmed, e-mails still go to the confirmed address.
    assert verified_email(patient) == "ancienne@example.fr"
    follow_link(confirm_path(), django_capture_on_commit_callbacks)
    assert verified_email(patient) == "nouvelle@example.fr"
    notice = mail.outbox[-1]
    assert notice.to == ["ancienne@example.fr"]
    assert "appelez" in notice.body


def test_removing_the_address_tells_it_and_stops_every_email(django_capture_on_commit_callbacks):
    patient, client = patient_client()
    give_verified_email(patient, "lea@example.fr")
    give(client, "", django_capture_on_commit_callbacks)
    assert verified_email(patient) is None
    assert [m.to for m in mail.outbox] == [["lea@example.fr"]]
    assert "retirée" in mail.outbox[0].body
    assert AuditEvent.objects.get(action="contact-email").reason == "removed"


def test_used_expired_and_superseded_links_get_one_answer(django_capture_on_commit_callbacks):
    patient, client = patient_client()
    with time_machine.travel("2026-11-02 09:00 +0000", tick=False) as clock:
        give(client, "premiere@example.fr", django_capture_on_commit_callbacks)
        superseded = confirm_path()
        give(client, "deuxieme@example.fr", django_capture_on_commit_callbacks)
        used = confirm_path()
        follow_link(used, django_capture_on_commit_callbacks)
        give(client, "troisieme@example.fr", django_capture_on_commit_callbacks)
        expired = confirm_path()
        clock.shift(72 * 3600 + 1)
        answers = [Client().get(path) for path in (superseded, used, expired)]
    assert {answer.status_code for answer in answers} == {404}
    assert len({page_answer(answer) for answer in answers}) == 1
    assert verified_email(patient) == "deuxieme@example.fr"


def test_a_malformed_address_is_explained_and_changes_nothing(django_capture_on_commit_callbacks):
    patient, client = patient_client()
    response = give(client, "pas-une-adresse", django_capture_on_commit_callbacks)
    assert "adresse électronique valide" in response.content.decode()
    assert not ContactEmailChange.objects.exists()
    assert mail.outbox == []


def test_new_addresses_are_throttled(django_capture_on_commit_callbacks):
    patient, client = patient_client()
    for number in range(5):
        give(client, f"essai{number}@example.fr", django_capture_on_commit_callbacks)
    refused = give(client, "encore@example.fr", django_capture_on_commit_callbacks)
    assert "Trop de tentatives" in refused.content.decode()
    assert len(mail.outbox) == 5
    assert not ContactEmailChange.objects.filter(superseded_at__isnull=True, sent_at=None).exists()


def test_another_patient_cannot_confirm_or_resend_for_someone_else(
    django_capture_on_commit_callbacks,
):
    patient, client = patient_client()
    give(client, "lea@example.fr", django_capture_on_commit_callbacks)
    _other, other_client = patient_client()
    # The confirmation page names no change: without the link, nothing to confirm.
    assert other_client.post("/accounts/email/confirm/confirm/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        other_client.post("/accounts/email/resend/")
    assert len(mail.outbox) == 1
    assert verified_email(patient) is None


def test_resend_sends_a_new_link_and_the_old_one_stops(django_capture_on_commit_callbacks):
    patient, client = patient_client()
    give(client, "lea@example.fr", django_capture_on_commit_callbacks)
    first = confirm_path()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/resend/")
    second = confirm_path()
    assert first != second
    assert Client().get(first).status_code == 404
    follow_link(second, django_capture_on_commit_callbacks)
    assert verified_email(patient) == "lea@example.fr"


def test_a_practitioners_directory_address_is_confirmed_by_the_activation_only():
    profile = PractitionerProfileFactory(
        user=UserFactory(kind="practitioner", is_active=False, email="dr@example.fr")
    )
    physician = profile.user
    patient = UserFactory(kind="patient")
    from_directory_only = verified_email(physician)
    assert from_directory_only is None
    client = Client()
    client.get(f"/accounts/activate/{issue_activation_link(physician)}/")
    client.post(
        "/accounts/activate/set-password/",
        {
            "new_password1": "une longue phrase de printemps",
            "new_password2": "une longue phrase de printemps",
        },
    )
    assert verified_email(physician) == "dr@example.fr"
    assert ContactEmail.objects.get(user=physician).lookup
    # No treating-physician link: nothing sent, whatever the address.
    assert send_physician_emergency_notification(str(patient.pk)) is False
