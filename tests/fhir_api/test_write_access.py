"""Who may add a document through the FHIR API: the door's rules of the upload page, the
token's (issue 19, items 2 and 5; « Bad input »). Three users: the patient, the practitioner
with consent (whose token works), and a third practitioner whose own valid token is refused
with the same 404 as an unknown patient, changing nothing but the trail's recorded refusal."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from oauth2_provider.models import AccessToken

from access_control.models import Block, ClosureReason, Consent, RecordClosure
from accounts.models import Profession
from audit.models import AuditEvent, Outcome
from records.models import Document
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.database_state import changed_tables, database_snapshot, session_keys
from tests.fhir_api.factories import application
from tests.fhir_api.factories_write import (
    access_token,
    category,
    document_reference,
    post_json,
    transaction,
)
from tests.records.factories import PDF, patient_with_login
from tests.storage_backends import stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.csrf_raw]
PATH = "/fhir/DocumentReference"
NOT_FOUND = (
    "Aucun patient portant cet identifiant dont vous puissiez compléter le dossier (subject : "
    '{"reference": "Patient/<id>"}, l\'identifiant trouvé par POST /fhir/Patient/_search).'
)


@pytest.fixture
def world():
    patient, patient_client = patient_with_login()
    profile = PractitionerProfileFactory()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    return patient, patient_client, profile


def unchanged_answer(client: Client, body, token: str | None, *, ignore_client=None, path=PATH):
    """POST; the answer, after checking that no row and no file changed (the trail aside)."""
    keys = session_keys(ignore_client) if ignore_client is not None else set()
    before, files = database_snapshot(keys), stored_files()
    response = post_json(client, path, body, token)
    assert changed_tables(before, database_snapshot(keys)) == set()
    assert stored_files() == files
    outcome = json.loads(response.content)
    return response.status_code, outcome["issue"][0]["code"], outcome["issue"][0]["diagnostics"]


@pytest.mark.parametrize(("path", "build"), [(PATH, document_reference), ("/fhir/", transaction)])
def test_a_third_practitioners_token_is_refused_and_changes_nothing(world, path, build):
    patient, _client, _profile = world
    third = PractitionerProfileFactory()
    app = application("Logiciel du tiers")
    token = access_token(third.user, app)
    answer = unchanged_answer(Client(), build(patient.pk), token, path=path)
    assert answer == (404, "not-found", NOT_FOUND)
    assert not Document.objects.exists()
    # The refusal is recorded as on the upload page, with the application.
    event = AuditEvent.objects.get(patient=patient, actor=third.user)
    assert (event.action, event.outcome, event.application) == (
        "upload",
        Outcome.REFUSED,
        app.client_id,
    )
    assert not AuditEvent.objects.filter(patient=patient, outcome=Outcome.ALLOWED).exists()


def test_an_unknown_patient_gets_the_same_answer_as_a_refused_one(world):
    patient, _client, _profile = world
    token = access_token(PractitionerProfileFactory().user)
    refused = unchanged_answer(Client(), document_reference(patient.pk), token)
    unknown = unchanged_answer(Client(), document_reference(uuid.uuid4()), token)
    not_an_id = unchanged_answer(Client(), document_reference("12345"), token)
    assert refused == unknown == not_an_id == (404, "not-found", NOT_FOUND)


def test_the_practitioners_own_patient_page_is_not_a_patient(world):
    """The id of an account that is not a patient's (the practitioner's own) names no one."""
    _patient, _client, profile = world
    token = access_token(profile.user)
    answer = unchanged_answer(Client(), document_reference(profile.user.pk), token)
    assert answer[0] == 404


@pytest.mark.parametrize("rule", ["revoked", "blocked", "closed"])
def test_the_doors_rules_apply_as_on_the_upload_page(world, rule):
    patient, _client, profile = world
    token = access_token(profile.user)
    if rule == "revoked":
        Consent.objects.filter(patient=patient).update(revoked_at=timezone.now())
    elif rule == "blocked":
        Block.objects.create(patient=patient, practitioner=profile.user)
    else:
        RecordClosure.objects.create(
            patient=patient,
            reason=ClosureReason.PATIENT,
            archive_until=timezone.localdate() + timedelta(days=1),
        )
    assert unchanged_answer(Client(), document_reference(patient.pk), token)[0] == 404
    assert AuditEvent.objects.filter(
        patient=patient, actor=profile.user, action="upload", outcome=Outcome.REFUSED
    ).exists()


def test_without_a_token(world):
    patient, _client, _profile = world
    response = post_json(Client(), PATH, document_reference(patient.pk), None)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert unchanged_answer(Client(), document_reference(patient.pk), None) == (
        401,
        "login",
        "Un jeton d'accès valide est requis (en-tête Authorization: Bearer).",
    )
    assert unchanged_answer(Client(), document_reference(patient.pk), "not-a-token")[0] == 401


def test_an_expired_or_revoked_token(world):
    patient, _client, profile = world
    expired = access_token(profile.user, expires_in=timedelta(seconds=-1))
    assert unchanged_answer(Client(), document_reference(patient.pk), expired)[0] == 401
    revoked = access_token(profile.user)
    AccessToken.objects.filter(user=profile.user).delete()  # what revoke_token does
    assert unchanged_answer(Client(), document_reference(patient.pk), revoked)[0] == 401


def test_a_token_without_the_write_scope(world):
    patient, _client, profile = world
    token = access_token(profile.user, scope="user/DocumentReference.read user/Binary.read")
    response = post_json(Client(), PATH, document_reference(patient.pk), token)
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert unchanged_answer(Client(), document_reference(patient.pk), token) == (
        403,
        "forbidden",
        "Ce jeton d'accès ne permet pas cet appel : la portée user/DocumentReference.write est "
        "requise.",
    )


def test_a_token_whose_practitioner_was_deactivated(world):
    patient, _client, profile = world
    token = access_token(profile.user)
    type(profile.user).objects.filter(pk=profile.user.pk).update(is_active=False)
    assert unchanged_answer(Client(), document_reference(patient.pk), token)[0] == 401


def test_a_token_of_a_patient_is_refused(world):
    patient, _client, _profile = world
    token = access_token(patient)
    assert unchanged_answer(Client(), document_reference(patient.pk), token)[0] == 401


def test_a_session_is_not_a_token(world):
    """The practitioner's own web session, CSRF token and all, opens nothing here: the API
    reads the bearer token only (and so needs no CSRF check)."""
    patient, _client, profile = world
    session = logged_in_client(profile.user)
    session.sends_csrf_token = True  # the browser's token too
    assert (
        unchanged_answer(session, document_reference(patient.pk), None, ignore_client=session)[0]
        == 401
    )


def test_the_owner_of_the_token_succeeds_without_any_csrf_token(world):
    """No cookie, no CSRF token (csrf_raw): a bearer token is all a software sends."""
    patient, _client, profile = world
    response = post_json(Client(), PATH, document_reference(patient.pk), access_token(profile.user))
    assert response.status_code == 201
    assert not response.cookies  # no session, no CSRF cookie handed out


@override_settings(FHIR_CALLS_PER_PRACTITIONER=1)
def test_writes_count_in_the_rate_limits(world):
    """A write is a call like the reads: past the practitioner's limit, 429 and nothing stored."""
    patient, _client, profile = world
    token = access_token(profile.user)
    assert post_json(Client(), PATH, document_reference(patient.pk), token).status_code == 201
    status, code, _text = unchanged_answer(Client(), document_reference(patient.pk), token)
    assert (status, code) == (429, "throttled")
    assert Document.objects.count() == 1


@pytest.mark.parametrize(
    ("profession", "category_code"),
    [
        (Profession.PHARMACIEN, "psychiatrie"),
        (Profession.CHIRURGIEN_DENTISTE, "directives-anticipees"),
        (Profession.MEDECIN, "psychiatrie"),
    ],
)
def test_the_profession_rules_answer_as_on_the_upload_page(world, profession, category_code):
    """Whatever the profession matrix says of adding such a document, the API says the same as
    the practitioner's upload page (one code: ``records.services.upload_document``)."""
    patient, _client, _profile = world
    profile = PractitionerProfileFactory(profession=profession)
    Consent.objects.create(patient=patient, practitioner=profile.user)
    browser = logged_in_client(profile.user)
    browser.sends_csrf_token = True  # the upload page's form, as a browser posts it
    web = browser.post(
        f"/pro/patients/{patient.pk}/upload/",
        {
            "title": "Compte rendu",
            "category": category_code,
            "act_date": "12/03/2026",
            "file": SimpleUploadedFile("cr.pdf", PDF, content_type="application/pdf"),
        },
    )
    by_web = Document.objects.filter(author=profile.user).count()
    resource = document_reference(patient.pk, codes={"category": category(category_code)})
    api = post_json(Client(), PATH, resource, access_token(profile.user))
    by_api = Document.objects.filter(author=profile.user).count() - by_web
    assert (web.status_code == 302, by_web) == (api.status_code == 201, by_api)
