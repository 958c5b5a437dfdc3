"""/records/export/: the patient's copy of the whole record, a ZIP streamed after the second
factor is asked again: every current document the patient may see as its original file,
index.html and dossier.fhir.json; audited, notified, refused to everyone else."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from access_control.models import Consent, RecordSettings
from access_control.notifications import PREFERENCE_FIELD
from accounts.models import TOTPDevice
from audit.models import AuditEvent
from bench.world import stored_document
from records.models import DocumentStatus
from records.selectors import document_content
from tests.access_control.factories import enrolled_patient, practitioner_with_login
from tests.accounts.factories import (
    add_backup_codes,
    give_verified_email,
    logged_in_client,
    next_totp_token,
)
from tests.accounts.passkey_factories import add_passkey
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db


def code_of(patient) -> str:
    return next_totp_token(TOTPDevice.objects.get(user=patient))


def export_events(**filters):
    return list(
        AuditEvent.objects.filter(action="export", **filters)
        .order_by("id")
        .values_list("outcome", "reason")
    )


def unzip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def world():
    """A patient with an identity, documents of every kind of state, a consent, a history."""
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    shown = {
        "ordonnance": stored_document(
            patient,
            title="Ordonnance / renouvellement",
            act_date=date(2026, 2, 1),
            content=b"%PDF ordonnance " + bytes(range(256)),
            category="traitements",
        ),
        "irm": stored_document(
            patient,
            title="IRM du genou",
            act_date=date(2026, 3, 12),
            content=b"%PDF irm " * 1000,
            author=profile.user,
        ),
        "twin": stored_document(
            patient,
            title="irm du GENOU",
            act_date=date(2026, 3, 12),
            content=b"%PDF the second one",
        ),
    }
    # Hidden from practitioners by the patient: still the patient's to take away.
    shown["twin"].hidden_from_practitioners = True
    shown["twin"].save()
    held = stored_document(
        patient,
        title="Résultat à annoncer",
        act_date=date(2026, 4, 1),
        content=b"%PDF held back",
        author=profile.user,
    )
    held.hidden_from_patient_until = timezone.now() + timedelta(days=10)
    held.save()
    deleted = stored_document(
        patient, title="Effacé", act_date=date(2026, 1, 1), content=b"%PDF deleted-marker-7f3a"
    )
    deleted.status = DocumentStatus.DELETED
    deleted.save()
    replaced = stored_document(
        patient,
        title="Ancienne version",
        act_date=date(2026, 1, 2),
        content=b"%PDF replaced-marker-9c1b",
    )
    replaced.status = DocumentStatus.REPLACED
    replaced.save()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    give_verified_email(patient, "patient@example.fr")
    return {
        "patient": patient,
        "client": client,
        "nir": nir,
        "profile": profile,
        "pro": pro,
        "shown": shown,
        "hidden": [held, deleted, replaced],
    }


def test_the_zip_holds_every_visible_document_byte_for_byte_and_nothing_else(world):
    patient, client = world["patient"], world["client"]
    response = client.post("/records/export/", {"otp_token": code_of(patient)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="dossier-medical-{timezone.localdate():%Y-%m-%d}.zip"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.streaming
    archive = unzip(response)
    names = archive.namelist()
    assert names[-2:] == ["index.html", "dossier.fhir.json"]
    files = [name for name in names if name.startswith("documents/")]
    assert sorted(files) == [
        "documents/imagerie/2026-03-12-IRM du genou.pdf",
        "documents/imagerie/2026-03-12-irm du GENOU-2.pdf",
        "documents/traitements/2026-02-01-Ordonnance - renouvellement.pdf",
    ]
    contents = sorted(archive.read(name) for name in files)
    expected = sorted(_plain(document) for document in world["shown"].values())
    assert contents == expected
    every_byte = b"".join(archive.read(name) for name in names)
    for document in world["hidden"]:
        assert _plain(document) not in every_byte
    assert (
        b"Ancienne version" not in every_byte and "Résultat à annoncer".encode() not in every_byte
    )
    assert archive.testzip() is None


def _plain(document) -> bytes:
    return b"".join(document_content(document))


def test_index_html_reads_offline(world):
    patient, client = world["patient"], world["client"]
    archive = unzip(client.post("/records/export/", {"otp_token": code_of(patient)}))
    page = archive.read("index.html").decode()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "Identité" in page and world["nir"].replace(" ", "")[:5] in page.replace(" ", "")
    assert "Imagerie" in page and "IRM du genou" in page
    assert 'href="documents/imagerie/2026-03-12-IRM%20du%20genou.pdf"' in page
    assert "Consentements" in page and world["profile"].last_name in page
    assert "Historique des accès" in page and "Exporter le dossier" in page
    assert "Résultat à annoncer" not in page and "Effacé" not in page
    for link in re.findall(r'href="([^"]+)"', page):
        assert link.startswith("documents/")


def test_the_bundle_validates_and_its_hashes_and_sizes_match_the_files(world):
    patient, client = world["patient"], world["client"]
    archive = unzip(client.post("/records/export/", {"otp_token": code_of(patient)}))
    data = json.loads(archive.read("dossier.fhir.json"))
    bundle = Bundle.model_validate(data)
    assert bundle.type == "collection"
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds[0] == "Patient" and kinds.count("DocumentReference") == 3
    assert kinds.count("Consent") == 1 and kinds.count("AuditEvent") >= 1
    references = [
        entry for entry in data["entry"] if entry["resource"]["resourceType"] == "DocumentReference"
    ]
    for entry in references:
        attachment = entry["resource"]["content"][0]["attachment"]
        content = archive.read(attachment["url"])
        assert attachment["size"] == len(content)
        assert base64.b64decode(attachment["hash"]) == hashlib.sha1(content).digest()
        assert attachment["contentType"] == "application/pdf"
        assert entry["resource"]["subject"]["reference"] == data["entry"][0]["fullUrl"]
    by_title = {entry["resource"]["description"]: entry["resource"] for entry in references}
    author = by_title["IRM du genou"]["author"][0]
    assert author["identifier"]["value"] == world["profile"].rpps
    assert by_title["irm du GENOU"]["author"][0] == {"reference": data["entry"][0]["fullUrl"]}
    titles = set(by_title)
    assert titles == {"Ordonnance / renouvellement", "IRM du genou", "irm du GENOU"}
    patient_resource = data["entry"][0]["resource"]
    assert patient_resource["identifier"][0]["value"] == world["nir"].replace(" ", "")
    exports = [
        entry["resource"]
        for entry in data["entry"]
        if entry["resource"]["resourceType"] == "AuditEvent"
        and entry["resource"]["subtype"][0]["code"] == "export"
    ]
    assert len(exports) == 1 and exports[0]["outcome"] == "0"


def test_the_export_is_audited_and_notified(world, django_capture_on_commit_callbacks):
    patient, client = world["patient"], world["client"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/records/export/", {"otp_token": code_of(patient)})
    b"".join(response.streaming_content)
    assert export_events(patient=patient) == [("allowed", "own-record")]
    assert [message.to for message in mail.outbox] == [["patient@example.fr"]]
    body = mail.outbox[0].body
    assert "copie" in mail.outbox[0].subject and "/accounts/password/change/" in body
    assert "IRM" not in body


def test_a_backup_code_is_a_second_factor_too(world):
    patient, client = world["patient"], world["client"]
    code = add_backup_codes(patient)[0]
    response = client.post("/records/export/", {"otp_token": code})
    assert response["Content-Type"] == "application/zip"
    assert export_events(patient=patient) == [("allowed", "own-record")]


@pytest.mark.parametrize(
    ("token", "message", "reason"),
    [
        ("", "Saisissez le code de sécurité", "second-factor-missing"),
        ("000000", "Ce code n'est pas valide", "second-factor-failed"),
    ],
)
def test_without_the_right_second_factor_nothing_is_exported(
    world, token, message, reason, django_capture_on_commit_callbacks
):
    patient, client = world["patient"], world["client"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/records/export/", {"otp_token": token})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert message in html.unescape(response.content.decode())
    assert export_events(patient=patient) == [("refused", reason)]
    assert mail.outbox == []


def test_the_page_asks_the_code_and_the_record_links_to_it(world):
    client = world["client"]
    page = client.get("/records/export/").content.decode()
    assert 'action="/records/export/"' in page and 'name="otp_token"' in page
    assert "dossier.fhir.json" in page
    assert 'href="/records/export/"' in client.get("/records/").content.decode()
    assert export_events() == []  # looking at the page exports nothing


def test_a_practitioner_with_consent_and_a_visitor_get_nothing(world):
    """Even with the patient's consent, a practitioner reaches no export: 404 to the page and
    to a POST with their own right code, each refusal recorded, nothing streamed."""
    profile, pro = world["profile"], world["pro"]
    for method in ("get", "post"):
        data = {"otp_token": next_totp_token(TOTPDevice.objects.get(user=profile.user))}
        response = getattr(pro, method)("/records/export/", data)
        assert response.status_code == 404
        assert not response.streaming
    assert export_events(actor=profile.user) == [("refused", "no-such-record")] * 2
    anonymous = Client().post("/records/export/", {"otp_token": "123456"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert export_events(outcome="allowed") == []
    assert export_events(patient=world["patient"]) == []


@pytest.mark.csrf_raw
def test_the_post_needs_its_csrf_token():
    patient, _client = patient_with_login()
    stored_document(patient, title="Bilan", act_date="2026-01-01", content=b"%PDF")
    response = _client.post("/records/export/", {"otp_token": code_of(patient)})
    assert response.status_code == 403
    assert export_events() == []


def test_a_session_opened_with_a_passkey_is_not_asked_a_code(world):
    """As when adding a passkey (accounts/views_security.py): the session proved a
    phishing-resistant factor; the page asks no code and the export needs none."""
    patient = world["patient"]
    device, _authenticator = add_passkey(patient)
    client = logged_in_client(patient, device)
    page = client.get("/records/export/").content.decode()
    assert 'name="otp_token"' not in page and "clé d'accès" in page
    response = client.post("/records/export/", {})
    assert response["Content-Type"] == "application/zip"
    assert "index.html" in unzip(response).namelist()
    assert export_events(patient=patient) == [("allowed", "own-record")]


def test_wrong_codes_are_throttled_like_at_login(world, settings):
    patient, client = world["patient"], world["client"]
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        client.post("/records/export/", {"otp_token": "000000"})
    response = client.post("/records/export/", {"otp_token": code_of(patient)})
    assert "Trop de tentatives" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert ("allowed", "own-record") not in export_events(patient=patient)


def test_the_notice_is_sent_whatever_the_preferences(world, django_capture_on_commit_callbacks):
    """A security notice: the patient who turned every notification off still hears of it."""
    patient, client = world["patient"], world["client"]
    RecordSettings.objects.update_or_create(
        patient=patient,
        defaults={field: False for field in PREFERENCE_FIELD.values()},
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/records/export/", {"otp_token": code_of(patient)})
    assert [message.to for message in mail.outbox] == [["patient@example.fr"]]
