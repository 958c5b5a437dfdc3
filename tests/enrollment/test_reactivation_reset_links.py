"""A postal reactivation and the password reset (review G1): a reset link kept from before the
reactivation opens nothing, and an account left without a second factor is sent no link and
opened by none, since whoever holds the mailbox would then set up their own factor."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import PasswordResetLink, User
from accounts.services.password import issue_reset_link
from audit.models import Action, AuditEvent, Outcome
from tests.accounts.factories import add_totp, give_verified_email, logged_in_client, page_answer
from tests.enrollment.factories import NEW_PASSWORD, PASSWORD, make_beneficiary

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
ATTACKER = "203.0.113.66"
THEIRS = {"new_password1": "la phrase de quelqu'un d'autre", "new_password2": ""}
THEIRS["new_password2"] = THEIRS["new_password1"]


@pytest.fixture
def patient_with_mailbox(enrolled):
    person = make_beneficiary()
    user = enrolled(person)
    logged_in_client(user, add_totp(user))
    give_verified_email(user, "lea.martin@example.fr")
    return person, user


def one_answer() -> str:
    """The page of a link that never existed."""
    return page_answer(Client().get(f"{RESET}jamais-emis/"))


def test_a_link_kept_from_before_a_reactivation_gets_the_one_answer_and_changes_nothing(
    patient_with_mailbox, posted_code, open_with
):
    person, user = patient_with_mailbox
    kept = issue_reset_link(user)  # asked by whoever reads the mailbox
    # Opened before the reactivation too: the link's id waits in that browser's session.
    opened = Client(REMOTE_ADDR=ATTACKER)
    assert opened.get(f"{RESET}{kept}/").status_code == 302

    assert (
        open_with(person, posted_code(person), NEW_PASSWORD, address="192.0.2.77").status_code
        == 200
    )
    assert not any(link.is_usable() for link in PasswordResetLink.objects.filter(user=user))

    followed = Client(REMOTE_ADDR=ATTACKER).get(f"{RESET}{kept}/")
    assert followed.status_code == 404
    assert page_answer(followed) == one_answer()
    posted = opened.post(f"{RESET}set-password/", THEIRS)
    assert posted.status_code == 404 and page_answer(posted) == one_answer()

    user = User.objects.get(pk=user.pk)
    assert user.check_password(NEW_PASSWORD)
    # The owner's chain tells that someone tried an old link, in no one's name.
    tries = AuditEvent.objects.filter(patient=user, action=Action.PASSWORD_RESET)
    assert {(event.outcome, event.reason, event.actor_id) for event in tries} == {
        (Outcome.REFUSED, "bad-link", None)
    }
    assert tries.count() == 2
    assert str(kept) not in str(AuditEvent.objects.values_list())
    # The reactivation's sessions ended from the client address that reactivated.
    ended = AuditEvent.objects.get(patient=user, action=Action.END_SESSION)
    assert (ended.actor_id, ended.reason) == (None, "reactivation")
    assert str(ended.client_address).startswith("192.0.2.")


def test_after_a_reactivation_no_link_is_sent_and_none_opens_the_account(
    patient_with_mailbox, posted_code, open_with, django_capture_on_commit_callbacks
):
    person, user = patient_with_mailbox
    open_with(person, posted_code(person), NEW_PASSWORD)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        asked = Client().post(RESET, {"email": "lea.martin@example.fr"})
    with django_capture_on_commit_callbacks(execute=True):
        unknown = Client().post(RESET, {"email": "inconnue@example.fr"})
    assert page_answer(asked) == page_answer(unknown)
    assert not mail.outbox
    assert not PasswordResetLink.objects.filter(user=user).exists()

    # Even a link made by hand (none is sent) opens nothing until a factor is set up.
    token = issue_reset_link(user)
    client = Client()
    first = client.get(f"{RESET}{token}/")
    assert first.status_code == 404 and page_answer(first) == one_answer()
    user = User.objects.get(pk=user.pk)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
