"""The practitioner's activation link: single use, expiring, then password and second factor."""

from __future__ import annotations

import html
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.services import issue_activation_link
from accounts.tasks import send_practitioner_invitation
from tests.accounts.factories import PractitionerProfileFactory, UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "une longue phrase de printemps"


def invited_practitioner():
    profile = PractitionerProfileFactory(user=UserFactory(kind="practitioner", is_active=False))
    profile.user.set_unusable_password()
    profile.user.save()
    return profile.user


def activation_path_from_email() -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/activate/[\w-]+/)", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_invitation_link_sets_password_then_forces_second_factor():
    user = invited_practitioner()
    send_practitioner_invitation(user.pk)
    path = activation_path_from_email()
    client = Client()

    landing = client.get(path)
    # The token leaves the address bar at once (no leak through history or Referer).
    assert landing.status_code == 302
    assert landing["Location"] == "/accounts/activate/set-password/"
    form_page = client.get(landing["Location"])
    assert 'name="new_password1"' in form_page.content.decode()

    done = client.post(
        landing["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == "/accounts/2fa/setup/"
    user.refresh_from_db()
    assert user.is_active and user.check_password(NEW_PASSWORD)
    assert client.get("/").status_code == 302  # no second factor yet


def test_activation_link_works_only_once():
    user = invited_practitioner()
    token = issue_activation_link(user)
    client = Client()
    client.post(
        f"/accounts/activate/{token}/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    again = Client().get(f"/accounts/activate/{token}/")
    assert again.status_code == 404
    assert "Ce lien n'est pas valide" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_activation_link_expires():
    user = invited_practitioner()
    with time_machine.travel("2026-11-01 09:00 +0000", tick=False) as clock:
        token = issue_activation_link(user)
        clock.shift(72 * 3600 + 1)
        response = Client().post(
            f"/accounts/activate/{token}/",
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert response.status_code == 404
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()


def test_a_newer_invitation_replaces_the_older_link():
    user = invited_practitioner()
    old = issue_activation_link(user)
    new = issue_activation_link(user)
    assert Client().get(f"/accounts/activate/{old}/").status_code == 404
    assert Client().get(f"/accounts/activate/{new}/").status_code == 302


def test_weak_or_mismatched_password_is_explained_and_changes_nothing():
    user = invited_practitioner()
    token = issue_activation_link(user)
    client = Client()
    client.get(f"/accounts/activate/{token}/")
    short = client.post(
        "/accounts/activate/set-password/", {"new_password1": "court", "new_password2": "court"}
    )
    assert short.status_code == 200
    assert "12" in str(short.context["form"].errors["new_password1"])
    assert "new_password2" not in short.context["form"].errors
    mismatch = client.post(
        "/accounts/activate/set-password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )
    assert mismatch.context["form"].errors["new_password2"]
    named = client.post(
        "/accounts/activate/set-password/",
        {
            "new_password1": f"{user.practitioner_profile.rpps} bonjour",
            "new_password2": f"{user.practitioner_profile.rpps} bonjour",
        },
    )
    named_error = str(named.context["form"].errors["new_password1"])
    assert "identifiant" in named_error and "sécurité sociale" not in named_error
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    # The link is still usable after these mistakes.
    ok = client.post(
        "/accounts/activate/set-password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert ok.status_code == 302


def test_a_practitioners_password_page_says_the_rules_once_and_never_speaks_of_a_nir():
    user = invited_practitioner()
    client = Client()
    client.get(f"/accounts/activate/{issue_activation_link(user)}/")
    text = html.unescape(client.get("/accounts/activate/set-password/").content.decode())
    assert text.count("12 caractères") == 1 and "RPPS" in text
    assert "sécurité sociale" not in text and "naissance" not in text
    assert 'aria-describedby="id_new_password1_hint' in text


def test_unknown_token_gets_404():
    assert Client().get("/accounts/activate/not-a-real-token/").status_code == 404
    assert Client().get("/accounts/activate/set-password/").status_code == 404
