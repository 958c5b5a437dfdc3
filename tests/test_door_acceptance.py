"""Acceptance of issue 12, second half: everything that reads a document, its file, a patient's
identity or a letter goes through the door.

The modules that do are listed, each with its reason, in ``REVIEWED``
(tests/test_door_acceptance_scan.py, which reads the product's source to find them). The tests
here patch the one decision function, ``access_control.policy.decide`` (which both ``authorize``
and ``authorize_staff`` call), to refuse everything, and check that each page and command of
those modules then refuses, as a user would notice it (404, no file, nothing decrypted, no
identity shown, no letter exported), AND that the refusal was recorded in the audit trail with
the door's reason. A reader that decides on its own, or reads before it asks, fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from access_control import policy
from access_control import selectors as access_selectors
from access_control.models import AccessRequest, Consent, EmergencyAccess, RecordClosure
from access_control.tasks import purge_closed_records
from audit.models import Action, AuditEvent, Outcome
from dmp_portal.crypto.models import DataKey
from enrollment.models import Beneficiary
from letters.models import Letter, LetterState
from records.models import Document, DocumentStatus
from tests.access_control.closure_records import close_record, days
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    logged_in_client,
    next_totp_token,
)
from tests.database_state import table_rows
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import PDF, add_document, patient_with_login, pdf_upload

pytestmark = pytest.mark.django_db

REFUSED_BY_TEST = "refused-by-door-test"
LAST_NAME, FIRST_NAME = "Quincampoix", "Zébulon"

# --- A door that refuses everything -----------------------------------------------------------


@contextmanager
def door_refuses_everything():
    """``decide`` refuses every question, with a reason only this test gives, so that each
    refusal found in the trail afterwards was recorded by the door itself."""
    real = policy.decide
    refusal = dataclasses.replace(
        real(AnonymousUser(), None, Action.VIEW), allowed=False, reason=REFUSED_BY_TEST
    )

    def refuse(*args, **kwargs):
        return refusal

    with mock.patch.object(policy, "decide", side_effect=refuse) as decide:
        yield decide


class Trail:
    """The audit events written from now on."""

    def __init__(self) -> None:
        self.last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def new(self):
        return AuditEvent.objects.filter(pk__gt=self.last)

    def assert_refused_by_the_door(self, what: str) -> None:
        refused = self.new().filter(outcome=Outcome.REFUSED, reason=REFUSED_BY_TEST)
        assert refused.exists(), f"{what}: no refusal recorded by the door"
        allowed = list(self.new().filter(outcome=Outcome.ALLOWED).values_list("action", flat=True))
        assert allowed == [], f"{what}: allowed events {allowed} with a door refusing everything"


@pytest.fixture
def world():
    """patient_a (in the registry as Zébulon Quincampoix) with two documents, a practitioner
    they consented to, and verified staff."""
    patient, client = patient_with_login()
    person = make_beneficiary(last_name=LAST_NAME, first_name=FIRST_NAME)
    Beneficiary.objects.filter(pk=person.pk).update(patient=patient)
    pdf = add_document(patient)
    # A file the viewer does not show inline: its content page must still ask the door.
    rtf = add_document(patient, title="Lettre de liaison")
    Document.objects.filter(pk=rtf.pk).update(media_type="application/rtf", extension=".rtf")
    pro = PractitionerProfileFactory().user
    Consent.objects.create(patient=patient, practitioner=pro)
    stranger = PractitionerProfileFactory().user
    return {
        "patient": patient,
        "person": person,
        "client": client,
        "pdf": pdf,
        "rtf": rtf,
        "pro": pro,
        "pro_client": logged_in_client(pro),
        "stranger": stranger,
        "stranger_client": logged_in_client(stranger),
        "staff_client": logged_in_client(StaffFactory()),
    }


def _shows_identity(response) -> bool:
    content = response.content.decode()
    return LAST_NAME in content or FIRST_NAME in content


# --- The patient's record ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "/records/",
        "/records/?q=IRM",  # the record's search decrypts titles
        "/records/{pdf}/",
        "/records/{pdf}/download/",
        "/access/history/",
    ],
)
def test_record_pages_refuse(world, page):
    path = page.format(pdf=world["pdf"].uid)
    trail = Trail()
    with door_refuses_everything():
        response = world["client"].get(path)
    assert response.status_code == 404
    assert b"%PDF" not in response.content and b"Compte rendu" not in response.content
    trail.assert_refused_by_the_door(path)


@pytest.mark.parametrize("document", ["pdf", "rtf"])
def test_content_refuses_and_is_recorded_whatever_the_file_type(world, document):
    """The inline viewer asks the door before reading anything of the document (issue 12:
    ``viewable_inline`` read it first, and a refusal left no trace)."""
    path = f"/records/{world[document].uid}/content/"
    trail = Trail()
    with door_refuses_everything():
        response = world["client"].get(path)
    assert response.status_code == 404
    assert b"%PDF" not in response.content
    trail.assert_refused_by_the_door(path)


def test_content_of_a_document_that_does_not_exist_is_recorded(world):
    """A stranger probing addresses leaves a trace, as on the document page."""
    path = "/records/00000000-0000-4000-8000-000000000000/content/"
    trail = Trail()
    with door_refuses_everything():
        assert world["stranger_client"].get(path).status_code == 404
    trail.assert_refused_by_the_door(path)


@pytest.mark.parametrize("change", ["hide", "show", "delete"])
def test_record_changes_refuse(world, change):
    document = world["pdf"]
    before = table_rows("records_document", "id", document.pk)
    trail = Trail()
    with door_refuses_everything():
        response = world["client"].post(f"/records/{document.uid}/{change}/")
    assert response.status_code == 404
    assert table_rows("records_document", "id", document.pk) == before
    trail.assert_refused_by_the_door(change)


@pytest.mark.parametrize("who", ["patient", "pro"])
def test_uploads_refuse(world, who):
    client = world["client"] if who == "patient" else world["pro_client"]
    path = (
        "/records/upload/" if who == "patient" else f"/pro/patients/{world['patient'].pk}/upload/"
    )
    documents = Document.objects.count()
    trail = Trail()
    with door_refuses_everything():
        form = client.get(path)
        posted = client.post(
            path,
            {
                "title": "Ordonnance",
                "category": "imagerie",
                "act_date": "2026-03-12",
                "file": pdf_upload(),
            },
        )
    assert posted.status_code == 404
    assert Document.objects.count() == documents
    assert form.status_code == 404, "the upload form is shown although the door refuses"
    trail.assert_refused_by_the_door(path)


# --- The practitioner's side ------------------------------------------------------------------


def test_practitioner_record_page_refuses_and_shows_no_identity(world):
    path = f"/pro/patients/{world['patient'].pk}/"
    trail = Trail()
    with door_refuses_everything():
        response = world["pro_client"].get(path)
    assert response.status_code == 404
    assert not _shows_identity(response)
    trail.assert_refused_by_the_door(path)


def test_identity_is_not_read_when_the_door_refuses(world):
    """The identity heading a record page is given by the door, not decided beside it."""
    trail = Trail()
    with door_refuses_everything(), transaction.atomic():
        identity = access_selectors.patient_identity(world["pro"], world["patient"])
    assert identity is None
    trail.assert_refused_by_the_door("patient_identity")


def test_lookup_refuses_and_tells_nothing(world):
    """A practitioner the door refuses learns nothing from the look-up: no way into the record,
    not even its address, and the door recorded the refusal."""
    trail = Trail()
    with door_refuses_everything():
        response = world["pro_client"].post("/pro/", {"nir": world["person"].nir})
    assert response.status_code == 200
    content = response.content.decode()
    assert str(world["patient"].pk) not in content
    assert not _shows_identity(response)
    trail.assert_refused_by_the_door("lookup")


def test_access_request_goes_through_the_door(world):
    path = f"/pro/patients/{world['patient'].pk}/request/"
    trail = Trail()
    with door_refuses_everything():
        world["stranger_client"].post(path)
    assert not AccessRequest.objects.filter(practitioner=world["stranger"]).exists()
    trail.assert_refused_by_the_door("request")


def test_emergency_declaration_goes_through_the_door(world):
    path = f"/pro/patients/{world['patient'].pk}/emergency/"
    device = world["stranger"].totpdevice_set.get()
    trail = Trail()
    with door_refuses_everything():
        world["stranger_client"].post(
            path,
            {"reason": "patient inconscient aux urgences", "otp_token": next_totp_token(device)},
        )
    assert not EmergencyAccess.objects.filter(practitioner=world["stranger"]).exists()
    trail.assert_refused_by_the_door("emergency")


# --- Staff: the registry and the letters ------------------------------------------------------


def test_registry_admin_list_and_page_refuse_to_show_identity(world):
    person = world["person"]
    pages = [
        "/admin/enrollment/beneficiary/",
        f"/admin/enrollment/beneficiary/{person.pk}/change/",
        f"/admin/enrollment/beneficiary/{person.pk}/history/",
    ]
    trail = Trail()
    with door_refuses_everything():
        responses = {page: world["staff_client"].get(page) for page in pages}
    for page, response in responses.items():
        assert not _shows_identity(response), page
    trail.assert_refused_by_the_door("registry admin")


def test_registry_admin_change_refuses(world):
    """Staff change an address (the way to take over a pending enrolment): the person's row
    is left as it was."""
    person = world["person"]
    before = table_rows("enrollment_beneficiary", "id", person.pk)
    trail = Trail()
    with door_refuses_everything():
        world["staff_client"].post(
            f"/admin/enrollment/beneficiary/{person.pk}/change/",
            {
                "last_name": LAST_NAME,
                "first_name": FIRST_NAME,
                "birth_date": "1985-05-14",
                "regime": "general",
                "street": "1 rue du Détournement",
                "postcode": "13001",
                "city": "Marseille",
            },
        )
    assert table_rows("enrollment_beneficiary", "id", person.pk) == before
    trail.assert_refused_by_the_door("registry change")


def test_registry_admin_lookup_by_nir_refuses(world):
    person = world["person"]
    trail = Trail()
    with door_refuses_everything():
        response = world["staff_client"].post(
            "/admin/enrollment/beneficiary/find/", {"nir": person.nir}, follow=True
        )
    assert not _shows_identity(response)
    assert f"/{person.pk}/change/" not in response.content.decode()
    trail.assert_refused_by_the_door("registry look-up")


@pytest.fixture
def rendered_letter(django_capture_on_commit_callbacks):
    person = make_beneficiary(last_name="Letterrier", first_name="Anatole")
    with django_capture_on_commit_callbacks(execute=True):
        Client(REMOTE_ADDR="192.0.2.77").post(
            "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
        )
    letter = Letter.objects.get(subject_uid=person.uid)
    assert letter.state == LetterState.RENDERED
    return letter


def test_export_letters_refuses(tmp_path, rendered_letter):
    trail = Trail()
    # A command may refuse by failing: what counts is what it wrote and recorded.
    with door_refuses_everything(), contextlib.suppress(CommandError):
        call_command("export_letters", str(tmp_path), stdout=io.StringIO())
    # The window test sheet carries nobody's data; no letter, and no manifest line, may leave.
    letters = [path for path in tmp_path.rglob("*.pdf") if path.name != "window-test.pdf"]
    assert letters == []
    for manifest in tmp_path.rglob("manifest.csv"):
        assert len(manifest.read_text(encoding="utf-8").splitlines()) <= 1
    rendered_letter.refresh_from_db()
    assert rendered_letter.state == LetterState.RENDERED
    assert rendered_letter.batch_id is None
    trail.assert_refused_by_the_door("export_letters")


def test_purge_records_refuses(world):
    """A record past its archive period: with the door refusing, neither the command (by id or
    all due) nor the daily task destroys its key or its rows, and each refusal is recorded."""
    patient = world["patient"]
    close_record(patient, archive_until=timezone.localdate() - days(1))
    trail = Trail()
    with door_refuses_everything(), contextlib.suppress(CommandError):
        call_command("purge_records", "--account", str(patient.pk), stdout=io.StringIO())
    with door_refuses_everything(), contextlib.suppress(CommandError):
        call_command("purge_records", stdout=io.StringIO())
    with door_refuses_everything():
        assert purge_closed_records() == 0
    patient.refresh_from_db()
    assert DataKey.objects.get(pk=patient.data_key_id).destroyed_at is None
    assert Document.objects.filter(patient=patient).exists() and patient.is_active
    assert RecordClosure.objects.get(patient=patient).purged_at is None
    trail.assert_refused_by_the_door("purge_records")
    assert trail.new().filter(action=Action.PURGE_RECORD, reason=REFUSED_BY_TEST).count() == 3


def test_admin_letter_export_refuses(world, rendered_letter):
    trail = Trail()
    with door_refuses_everything():
        response = world["staff_client"].post("/admin/letters/letter/export/")
    assert response.get("Content-Type") != "application/zip"
    assert b"%PDF" not in b"".join(getattr(response, "streaming_content", [response.content]))
    rendered_letter.refresh_from_db()
    assert rendered_letter.state == LetterState.RENDERED
    trail.assert_refused_by_the_door("admin letter export")


# --- The door itself: with the real rules, the owner still gets everything --------------------


def test_without_the_patch_the_owner_reads_everything(world):
    """The control: the refusals above come from the patched door, not from a broken world."""
    client = world["client"]
    pdf = world["pdf"]
    assert client.get("/records/").status_code == 200
    assert b"".join(client.get(f"/records/{pdf.uid}/download/").streaming_content) == PDF
    assert client.get(f"/records/{pdf.uid}/content/").status_code == 200
    assert _shows_identity(world["pro_client"].get(f"/pro/patients/{world['patient'].pk}/"))
    found = world["pro_client"].post("/pro/", {"nir": world["person"].nir})
    assert f"/pro/patients/{world['patient'].pk}/" in found.content.decode()
    person = world["person"]
    assert _shows_identity(
        world["staff_client"].get(f"/admin/enrollment/beneficiary/{person.pk}/change/")
    )
    assert Document.objects.get(pk=pdf.pk).status == DocumentStatus.CURRENT
