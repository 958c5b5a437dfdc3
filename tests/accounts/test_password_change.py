"""Password change: the current password and a fresh second factor; this session survives,
every other one ends; a wrong answer changes nothing; throttled; audited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import AccountSession
from accounts.services.password import issue_reset_link
from audit.models import AuditEvent
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    give_verified_email,
    logged_in_client,
    next_totp_token,
    totp_token,
)

pytestmark = pytest.mark.django_db
CHANGE = "/accounts/password/change/"
NEW_PASSWORD = "une longue phrase de printemps"


def change_form(device, **fields):
    return {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "otp_token": next_totp_token(device),
        **fields,
    }


def field_error(response, field: str) -> str:
    """The error shown under ``field`` (the template gives it the field's id)."""
    match = re.search(
        rf'<p class="field-error" id="id_{field}_error_1">([^<]+)</p>', response.content.decode()
    )
    return match.group(1) if match else ""


@pytest.mark.parametrize("kind", ["patient", "practitioner", "staff"])
def test_a_change_keeps_this_session_and_ends_the_others(kind, django_capture_on_commit_callbacks):
    if kind == "practitioner":
        user = PractitionerProfileFactory().user
    elif kind == "staff":
        user = StaffFactory()
    else:
        user = UserFactory(kind="patient")
    device = add_totp(user)
    give_verified_email(user, "moi@example.fr")
    client = logged_in_client(user, device)
    other = logged_in_client(user, device)

    page = client.get(CHANGE)
    assert page.status_code == 200
    # Linked from the security page, which the header's menu of every kind of account names.
    assert 'href="/accounts/security/"' in page.content.decode()
    assert f'href="{CHANGE}"' in client.get("/accounts/security/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(CHANGE, change_form(device))
    assert done["Location"] == CHANGE
    assert "Votre mot de passe est modifié" in client.get(CHANGE).content.decode()

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The other session is out of the store at once, not only refused at its next request.
    assert AccountSession.objects.filter(user=user).count() == 1
    assert client.get(CHANGE).status_code == 200  # still signed in
    assert other.get(CHANGE)["Location"].startswith("/accounts/login/")  # ended
    event = AuditEvent.objects.get(action="password-change")
    assert event.outcome == "allowed" and event.actor == user
    assert event.chain.key == (f"patient:{user.pk}" if kind == "patient" else "system")
    assert [m.to for m in mail.outbox] == [["moi@example.fr"]]


def test_a_wrong_current_password_changes_nothing_and_says_so_on_its_field():
    user = UserFactory(kind="patient")
    device = add_totp(user)
    client = logged_in_client(user, device)
    other = logged_in_client(user, device)
    token = next_totp_token(device)
    response = client.post(CHANGE, change_form(device, old_password="pas le bon", otp_token=token))
    assert response.status_code == 200
    assert field_error(response, "old_password") == "Ce n&#x27;est pas votre mot de passe actuel."
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert other.get(CHANGE).status_code == 200
    # The code was not spent on a refused change.
    assert client.post(CHANGE, change_form(device, otp_token=token)).status_code == 302
    assert AuditEvent.objects.filter(action="password-change", outcome="refused").count() == 1


def test_a_wrong_code_changes_nothing_and_says_so_on_its_field():
    user = UserFactory(kind="patient")
    device = add_totp(user)
    client = logged_in_client(user, device)
    wrong = totp_token(device, offset_steps=10)
    response = client.post(CHANGE, change_form(device, otp_token=wrong))
    assert response.status_code == 200
    assert "Ce code n&#x27;est pas valide" in field_error(response, "otp_token")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_mismatched_or_weak_new_passwords_are_explained_and_change_nothing():
    user = UserFactory(kind="patient")
    device = add_totp(user)
    client = logged_in_client(user, device)
    mismatch = client.post(CHANGE, change_form(device, new_password2="une autre phrase longue"))
    assert field_error(mismatch, "new_password2")
    weak = client.post(CHANGE, change_form(device, new_password1="court", new_password2="court"))
    assert "12 caractères" in field_error(weak, "new_password1")
    missing = client.post(CHANGE, change_form(device, otp_token=""))
    assert field_error(missing, "otp_token") == "Saisissez le code de sécurité."
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="password-change").exists()


def test_guesses_of_the_current_password_are_throttled():
    user = UserFactory(kind="patient")
    device = add_totp(user)
    client = logged_in_client(user, device)
    for _ in range(5):
        client.post(CHANGE, change_form(device, old_password="pas le bon"))
    throttled = client.post(CHANGE, change_form(device))
    assert "Trop de tentatives" in throttled.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_visitors_and_half_signed_in_people_are_sent_to_the_login():
    user = UserFactory(kind="patient")
    add_totp(user)
    assert Client().get(CHANGE)["Location"].startswith("/accounts/login/")
    anonymous = Client().post(CHANGE, {"old_password": PASSWORD})
    assert anonymous["Location"].startswith("/accounts/login/")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_change_expires_a_reset_link_asked_before(django_capture_on_commit_callbacks):
    """A link asked before the change (perhaps by whoever reads the mailbox) cannot undo it."""
    user = UserFactory(kind="patient")
    device = add_totp(user)
    give_verified_email(user, "moi@example.fr")
    kept = issue_reset_link(user)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in_client(user, device).post(CHANGE, change_form(device))
    followed = Client().get(f"/accounts/password/reset/{kept}/")
    assert followed.status_code == 404
    assert "Ce lien n'est pas valide" in followed.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
