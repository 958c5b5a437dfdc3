"""Reactivation by post: /enrollment/ for a record that exists sends a reactivation letter;
/enrollment/activate/ with its code sets a new password, removes every second factor, ends
every session, keeps the identifier, the record, its data key and documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import AccountSession, User
from accounts.passkeys import PasskeyDevice
from audit.models import Action, AuditEvent, Outcome
from enrollment.models import (
    Beneficiary,
    CodePurpose,
    CreationCode,
    EnrollmentRequest,
    RequestOutcome,
)
from letters.models import Letter, LetterState
from letters.services import request_letter
from records.models import Document
from tests.accounts.factories import add_backup_codes, add_totp, logged_in_client
from tests.accounts.passkey_factories import add_passkey
from tests.enrollment.factories import (
    ACTIVATE_URL,
    NEW_PASSWORD,
    PASSWORD,
    make_beneficiary,
    submit_code,
)
from tests.letters.reading import letter_text
from tests.records.factories import add_document

pytestmark = pytest.mark.django_db


def old_secret_token(secret: bytes) -> str:
    """What the lost authenticator app (its secret kept by the test) shows now."""
    totp = TOTP(secret, 30, 0, 6, 0)
    return f"{totp.token():06d}"


@pytest.fixture
def patient_in_use(enrolled):
    """A patient whose record was opened by post, with an authenticator app, backup codes, a
    document and a browser logged in past both factors."""
    person = make_beneficiary()
    user = enrolled(person)
    device = add_totp(user)
    backup = add_backup_codes(user)
    document = add_document(user)
    browser = logged_in_client(user, device)
    assert browser.get("/records/").status_code == 200
    return person, user, device, backup, document, browser


def test_a_request_for_an_existing_record_posts_a_reactivation_letter(patient_in_use, posted_code):
    person, user, *_rest = patient_in_use
    code = posted_code(person, address="198.51.100.4")
    letter = Letter.objects.filter(subject_uid=person.uid).latest("requested_at")
    assert letter.kind == "reactivation_code"
    text = " ".join(letter_text(letter).split())
    assert "code de réactivation" in text
    assert "Vous n'avez rien demandé" in text and "votre accès actuel continue" in text
    assert settings.DMP_OPERATOR_PHONE in text
    live = CreationCode.objects.filter(beneficiary=person).live().get()
    assert live.purpose == CodePurpose.REACTIVATION
    assert code.replace("-", "") not in live.code_hash  # only the keyed hash is stored
    # The request is on the patient's chain, by nobody identified, among what others did.
    event = AuditEvent.objects.get(patient=user, action=Action.REQUEST_REACTIVATION)
    assert event.actor is None and event.outcome == Outcome.ALLOWED
    assert event.reason == ""


def test_the_account_keeps_working_until_the_code_is_used(patient_in_use, posted_code):
    """A letter asked for by someone else changes nothing by itself."""
    person, user, device, _backup, document, browser = patient_in_use
    posted_code(person, address="203.0.113.66")  # a stranger who knows the number
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
    assert BackupCodeDevice.objects.get(user=user).remaining() == settings.BACKUP_CODE_COUNT
    assert browser.get("/records/").status_code == 200
    assert Document.objects.filter(pk=document.pk).exists()
    login = Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert login["Location"] == "/accounts/login/"  # the code step follows, as before


def test_reactivating_keeps_identifier_record_and_documents_and_removes_every_factor(
    patient_in_use, posted_code, open_with
):
    person, user, device, backup, document, browser = patient_in_use
    old_secret, data_key = device.secret, user.data_key_id
    add_passkey(user)  # a lost phone may hold a passkey too
    code = posted_code(person)

    client = Client()
    assert submit_code(client, person.nir, code.lower()).status_code == 302
    assert 'name="new_password1"' in client.get(ACTIVATE_URL).content.decode()

    done = open_with(person, code, NEW_PASSWORD)
    assert done.status_code == 200
    page = done.content.decode()
    assert f'data-testid="identifier">{user.username}<' in page
    assert done.context["reactivated"] is True

    user = User.objects.get(pk=user.pk)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert user.data_key_id == data_key
    assert Beneficiary.objects.get(pk=person.pk).patient_id == user.pk
    assert Document.objects.filter(pk=document.pk, patient=user).exists()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not BackupCodeDevice.objects.filter(user=user).exists()
    assert not PasskeyDevice.objects.filter(user=user).exists()
    assert CreationCode.objects.filter(beneficiary=person).live().count() == 0

    # The old session is out of the store, and its cookie refused.
    assert not AccountSession.objects.filter(user=user).exists()
    assert browser.get("/records/")["Location"].startswith("/accounts/login/")
    # The old password and the lost app's secret are refused; the new password leads to the
    # setup of a new app, which the old secret cannot confirm either.
    again = Client()
    refused = again.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in again.session
    login = again.post("/accounts/login/", {"username": user.username, "password": NEW_PASSWORD})
    assert login["Location"] == "/accounts/2fa/setup/"
    again.get("/accounts/2fa/setup/")
    again.post("/accounts/login/", {"otp_token": old_secret_token(old_secret)})
    again.post("/accounts/2fa/setup/", {"otp_token": old_secret_token(old_secret)})
    again.post("/accounts/login/", {"otp_token": backup[0]})
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert again.get("/records/")["Location"].startswith("/accounts/")

    event = AuditEvent.objects.get(patient=user, action=Action.REACTIVATE)
    assert event.actor is None and event.outcome == Outcome.ALLOWED


def test_the_reactivation_is_in_the_patients_history(patient_in_use, posted_code, open_with):
    person, user, *_rest = patient_in_use
    open_with(person, posted_code(person), NEW_PASSWORD)
    user.refresh_from_db()
    history = logged_in_client(user).get("/access/history/")  # what others did: the default
    assert history.status_code == 200
    actions = [row.action for row in history.context["page"]]
    assert Action.REACTIVATE in actions and Action.REQUEST_REACTIVATION in actions
    assert actions.index(Action.REACTIVATE) < actions.index(Action.REQUEST_REACTIVATION)


def test_the_password_step_says_it_is_a_reactivation(patient_in_use, posted_code):
    person, user, *_rest = patient_in_use
    client = Client()
    submit_code(client, person.nir, posted_code(person))
    page = client.get(ACTIVATE_URL)
    assert page.context["reactivation"] is True
    # The password rules apply to the existing account (its identifier included).
    weak = f"{person.nir[:13]} et encore"
    response = client.post(ACTIVATE_URL, {"new_password1": weak, "new_password2": weak})
    assert "new_password1" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert TOTPDevice.objects.filter(user=user).exists()


def test_a_closed_or_disabled_account_gets_no_letter(enrolled, django_capture_on_commit_callbacks):
    person = make_beneficiary()
    user = enrolled(person)
    User.objects.filter(pk=user.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    assert not Letter.objects.filter(subject_uid=person.uid, kind="reactivation_code").exists()
    assert EnrollmentRequest.objects.latest("pk").outcome == RequestOutcome.ENROLLED


def test_a_reactivation_letter_does_not_report_codes_from_before_the_opening(posted_code, enrolled):
    """A creation code burned before the record was opened is old news once the record is open:
    the reactivation letter says nothing of it."""
    person = make_beneficiary()
    now = timezone.now()
    CreationCode.objects.create(
        beneficiary=person,
        code_hash="0" * 63 + "1",
        created_at=now - timedelta(days=90),
        expires_at=now - timedelta(days=30),
        burned_at=now - timedelta(days=80),
    )
    enrolled(person)  # its letter told of the burned code; the record is opened
    posted_code(person)
    letter = Letter.objects.get(subject_uid=person.uid, kind="reactivation_code")
    assert "saisies erronées" not in letter_text(letter)


def test_a_creation_letter_rendered_after_the_opening_is_void(
    enrolled, django_capture_on_commit_callbacks
):
    person = make_beneficiary()
    user = enrolled(person)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        late = request_letter("creation_code", person.uid, person.data_key)
    assert Letter.objects.get(pk=late.pk).state == LetterState.VOID
    assert not CreationCode.objects.filter(beneficiary=person).live().exists()
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
