"""Staff send a practitioner a new invitation (issue 15, item 8): password, second factors,
backup codes and sessions reset, audited, and a new single-use link e-mailed."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import AccountSession, PasskeyDevice, User
from audit.models import SYSTEM_CHAIN_KEY, Action, AuditEvent
from tests.accounts.factories import (
    PractitionerProfileFactory,
    UserFactory,
    add_backup_codes,
    give_verified_email,
    logged_in_client,
    verified_staff_client,
)
from tests.accounts.passkey_factories import add_passkey

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "une longue phrase de printemps"


def reinvite_path(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/reinvite/"


def test_staff_reset_a_practitioner_and_send_a_new_link(django_capture_on_commit_callbacks):
    practitioner = PractitionerProfileFactory().user
    practitioner_client = logged_in_client(practitioner)  # also sets up an authenticator app
    add_backup_codes(practitioner)
    add_passkey(practitioner)
    kept_cookie = practitioner_client.cookies[settings.SESSION_COOKIE_NAME].value
    staff = verified_staff_client()

    change_page = staff.get(f"/admin/accounts/user/{practitioner.pk}/change/").content.decode()
    assert reinvite_path(practitioner) in change_page
    confirm = staff.get(reinvite_path(practitioner))
    assert confirm.status_code == 200 and "<form" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = staff.post(reinvite_path(practitioner))

    assert done.status_code == 302
    practitioner.refresh_from_db()
    assert not practitioner.has_usable_password() and not practitioner.is_active
    assert not TOTPDevice.objects.filter(user=practitioner).exists()
    assert not BackupCodeDevice.objects.filter(user=practitioner).exists()
    assert not PasskeyDevice.objects.filter(user=practitioner).exists()
    assert not AccountSession.objects.filter(user=practitioner).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = kept_cookie
    assert replay.get("/pro/workspace/")["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.select_related("chain").get(action=Action.REINVITE)
    assert event.chain.key == SYSTEM_CHAIN_KEY and event.actor_role == "staff"
    assert event.reason == ""
    assert AuditEvent.objects.filter(action=Action.END_SESSION, reason="reinvite").count() == 1

    (message,) = mail.outbox
    assert message.to == [practitioner.email]
    assert message.subject == "Votre accès au portail du dossier médical partagé a été réinitialisé"
    body = " ".join(message.body.split())
    # The service acted (perhaps on a suspicion, not on request): say so, say what was removed,
    # and give the number to call.
    assert "À votre demande" not in body
    assert body.startswith("Bonjour, Le service du portail a réinitialisé votre accès")
    assert "(application d'authentification, codes de secours, clés d'accès)" in body
    assert "Si vous ne vous y attendiez pas" in body and settings.DMP_OPERATOR_PHONE in body
    path = re.search(r"https?://[^/\s]+(/accounts/activate/[\w-]+/)", message.body).group(1)
    client = Client()
    landing = client.get(path)
    done = client.post(
        landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    # A new password, then a new second factor: as at the first invitation.
    assert done["Location"] == "/accounts/2fa/setup/"
    assert Client().get(path).status_code == 404  # single use


def test_no_invitation_for_a_patient_and_none_from_a_practitioner(
    django_capture_on_commit_callbacks,
):
    patient = UserFactory()
    staff = verified_staff_client()
    assert (
        reinvite_path(patient)
        not in staff.get(f"/admin/accounts/user/{patient.pk}/change/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(reinvite_path(patient)).status_code == 404

    victim = PractitionerProfileFactory().user
    outsider = logged_in_client(PractitionerProfileFactory().user)
    with django_capture_on_commit_callbacks(execute=True):
        refused = outsider.post(reinvite_path(victim))
    assert refused.status_code == 302 and "login" in refused["Location"]
    victim.refresh_from_db()
    assert victim.is_active and victim.has_usable_password()
    assert not mail.outbox
    assert not AuditEvent.objects.filter(action=Action.REINVITE).exists()


def test_a_practitioner_cannot_reset_their_own_second_factor():
    """The setup page is for an account without a factor: with one, it sends the person away
    and nothing changes (the password reset keeps the factor; staff re-invite)."""
    practitioner = PractitionerProfileFactory().user
    client = logged_in_client(practitioner)
    devices = list(TOTPDevice.objects.filter(user=practitioner).values_list("pk", "confirmed"))
    assert client.get("/accounts/2fa/setup/").status_code == 302
    assert client.post("/accounts/2fa/setup/", {"otp_token": "123456"}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=practitioner).values_list("pk", "confirmed")) == (
        devices
    )


def test_a_different_verified_address_is_told_without_link_or_code(
    django_capture_on_commit_callbacks,
):
    """The link goes to the directory's address; if that mailbox is not the practitioner's
    own any more, the address they confirmed still learns of the reset."""
    practitioner = PractitionerProfileFactory().user
    give_verified_email(practitioner, "contact.perso@example.org")
    staff = verified_staff_client()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(reinvite_path(practitioner)).status_code == 302

    by_address = {tuple(message.to): message for message in mail.outbox}
    assert set(by_address) == {(practitioner.email,), ("contact.perso@example.org",)}
    notice = by_address[("contact.perso@example.org",)]
    assert notice.subject == "Votre accès au portail du dossier médical partagé a été réinitialisé"
    body = " ".join(notice.body.split())
    assert body.startswith("Bonjour, Le service du portail a réinitialisé votre accès")
    assert (
        f"Si vous n'êtes pas à l'origine de cette demande, appelez le "
        f"{settings.DMP_OPERATOR_PHONE}." in body
    )
    assert "/accounts/activate/" not in body  # no link, no code: only whom to call
    assert not re.search(r"[\w-]{20,}", body)


def test_no_notice_when_the_verified_address_is_the_directorys_or_there_is_none(
    django_capture_on_commit_callbacks,
):
    same = PractitionerProfileFactory().user
    give_verified_email(same, same.email.upper())
    without = PractitionerProfileFactory().user
    staff = verified_staff_client()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reinvite_path(same))
        staff.post(reinvite_path(without))
    assert sorted(tuple(message.to) for message in mail.outbox) == sorted(
        [(same.email,), (without.email,)]
    )
