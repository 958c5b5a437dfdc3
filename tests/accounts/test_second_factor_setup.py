"""/accounts/2fa/setup/: each visit shows a fresh secret, bound to the session that asked."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP

from accounts.devices import TOTPDevice
from audit.models import Action, AuditEvent
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
SETUP = "/accounts/2fa/setup/"


def password_only(user) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response["Location"] == SETUP
    return client


def shown_secret(client: Client) -> str:
    page = client.get(SETUP)
    assert page.status_code == 200
    return page.context["secret"]


def token_for(base32_secret: str) -> str:
    totp = TOTP(b32decode(base32_secret), 30, 0, 6, 0)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_two_sessions_of_one_account_are_shown_different_secrets():
    user = UserFactory()
    first, second = password_only(user), password_only(user)
    first_secret, second_secret = shown_secret(first), shown_secret(second)
    assert first_secret != second_secret
    # Each visit is a fresh secret too, and the earlier one of that session is gone.
    again = shown_secret(first)
    assert again not in (first_secret, second_secret)
    assert TOTPDevice.objects.filter(user=user, confirmed=False).count() == 2


def test_a_secret_seen_by_another_session_cannot_confirm_nor_later_log_in():
    user = UserFactory()
    early = password_only(user)  # whoever had the password saw a secret first
    early_secret = shown_secret(early)
    owner = password_only(user)
    owner_secret = shown_secret(owner)

    refused = owner.post(SETUP, {"otp_token": token_for(early_secret)})
    assert refused.status_code == 200 and refused.context["form"].errors["otp_token"]
    assert refused.context["secret"] == owner_secret  # the same secret for this session's retry
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    owner_session = owner.cookies[settings.SESSION_COOKIE_NAME].value
    done = owner.post(SETUP, {"otp_token": token_for(owner_secret)})
    assert done.status_code == 200 and len(done.context["codes"]) == settings.BACKUP_CODE_COUNT
    # The second factor ends with a new session id.
    assert owner.cookies[settings.SESSION_COOKIE_NAME].value != owner_session
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.base32_secret == owner_secret

    # The first session's secret opens nothing: not the setup page, not a later login.
    late = early.post(SETUP, {"otp_token": token_for(early_secret)})
    assert late.status_code == 302
    assert TOTPDevice.objects.filter(user=user).count() == 1
    attacker = Client()
    attacker.post(LOGIN, {"username": user.username, "password": PASSWORD})
    login = attacker.post(LOGIN, {"otp_token": token_for(early_secret)})
    assert login.status_code == 200 and login.context["form"].errors["otp_token"]
    assert attacker.get("/").status_code == 302


def test_a_confirmation_in_another_session_of_the_same_secret_is_refused():
    """The secret travels with the page, the pending device with the session: a session that
    never asked for a setup page cannot confirm any secret."""
    user = UserFactory()
    viewer = password_only(user)
    secret = shown_secret(viewer)
    blind = password_only(user)
    refused = blind.post(SETUP, {"otp_token": token_for(secret)})
    assert refused.status_code == 200 and refused.context["form"].errors["otp_token"]
    assert refused.context["secret"] != secret
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_another_user_cannot_confirm_with_someone_elses_secret_and_changes_nothing():
    victim = UserFactory()
    victim_client = password_only(victim)
    secret = shown_secret(victim_client)
    victim_device = TOTPDevice.objects.get(user=victim, confirmed=False)

    stranger = UserFactory()
    stranger_client = password_only(stranger)
    shown_secret(stranger_client)
    refused = stranger_client.post(SETUP, {"otp_token": token_for(secret)})
    assert refused.context["form"].errors["otp_token"]
    assert not TOTPDevice.objects.filter(user=stranger, confirmed=True).exists()
    victim_device.refresh_from_db()
    assert not victim_device.confirmed and victim_device.base32_secret == secret
    done = victim_client.post(SETUP, {"otp_token": token_for(secret)})
    assert done.status_code == 200 and "codes" in done.context


def test_the_first_login_remembers_the_language_once_the_second_factor_is_set_up():
    """An invited practitioner who chose English on the way is written to in English from
    then on, without waiting for a second login."""
    user = UserFactory(kind="practitioner")
    client = password_only(user)
    client.post("/i18n/setlang/", {"language": "en", "next": SETUP})
    user.refresh_from_db()
    assert user.language == ""  # half signed in: nothing written yet
    response = client.post(SETUP, {"otp_token": token_for(shown_secret(client))})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.language == "en"


@pytest.mark.parametrize("kind", ["patient", "practitioner"])
def test_setting_up_an_app_is_recorded_on_the_accounts_chain_and_a_wrong_code_records_none(kind):
    """« Ajout d'une application d'authentification »: in the person's name, on their own
    chain for a patient (their history shows it), on the system chain for anyone else."""
    user = UserFactory(kind=kind)
    client = password_only(user)
    secret = shown_secret(client)
    client.post(SETUP, {"otp_token": "000000" if token_for(secret) != "000000" else "111111"})
    assert not AuditEvent.objects.filter(action=Action.ADD_TOTP).exists()

    done = client.post(SETUP, {"otp_token": token_for(secret)}, REMOTE_ADDR="192.0.2.8")
    assert done.status_code == 200 and "codes" in done.context
    event = AuditEvent.objects.get(action=Action.ADD_TOTP)
    assert (event.actor, event.outcome, event.client_address) == (user, "allowed", "192.0.2.8")
    assert event.patient == (user if kind == "patient" else None)
