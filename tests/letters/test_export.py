"""export_letters and the admin: a batch for the mail house, states, returns, late letters."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from pypdf import PdfReader

from access_control import policy
from access_control.decisions import Decision
from audit.models import AuditEvent
from dmp_portal.crypto.datakeys import destroy_data_key
from enrollment.models import CreationCode
from letters.models import Letter, LetterState
from letters.services import ExportRefused, ReturnRefused, export_batch, mark_returned
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    logged_in_client,
    verified_staff_client,
)
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered(django_capture_on_commit_callbacks):
    """Three people asked for their code; their letters are rendered, waiting for dispatch."""

    def run():
        people = [
            make_beneficiary(postcode=postcode, city=city)
            for postcode, city in (("69001", "Lyon"), ("13001", "Marseille"), ("75015", "Paris"))
        ]
        for index, person in enumerate(people):
            with django_capture_on_commit_callbacks(execute=True):
                Client(REMOTE_ADDR=f"192.0.2.{index + 1}").post(
                    "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
                )
        return people

    return run


def test_export_writes_the_batch_sorted_by_postcode_with_checksums(tmp_path, rendered):
    rendered()
    out = StringIO()
    call_command("export_letters", str(tmp_path), stdout=out)
    folder = Path(out.getvalue().strip())
    assert folder.parent == tmp_path and folder.is_dir()
    with (folder / "manifest.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["postcode"] for row in rows] == ["13001", "69001", "75015"]
    assert [row["locality"] for row in rows] == ["MARSEILLE", "LYON", "PARIS"]
    assert {row["batch"] for row in rows} == {folder.name}
    assert [row["sequence"] for row in rows] == ["1", "2", "3"]
    assert {row["country"] for row in rows} == {"FRANCE"}
    for row in rows:
        pdf = folder / f"{row['letter_reference']}.pdf"
        assert len(PdfReader(pdf).pages) == int(row["page_count"]) == 1
    for checksum in folder.glob("*.sha256"):
        digest, name = checksum.read_text().split()
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    # Three letters, the manifest and the window test: every file has its checksum.
    assert len(list(folder.glob("*.sha256"))) == 5
    assert len(PdfReader(folder / "window-test.pdf").pages) == 1
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.DISPATCHED}


def test_a_second_export_finds_nothing_to_send(tmp_path, rendered):
    rendered()
    call_command("export_letters", str(tmp_path), stdout=StringIO())
    err = StringIO()
    call_command("export_letters", str(tmp_path / "again"), stdout=StringIO(), stderr=err)
    assert "Aucun courrier" in err.getvalue()
    assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())


def test_admin_exports_the_same_batch_as_a_zip(rendered):
    rendered()
    client = verified_staff_client()
    response = client.post("/admin/letters/letter/export/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert sum(name.endswith(".pdf") for name in names) == 4  # three letters, window test
    assert any(name.endswith("/manifest.csv") for name in names)
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.DISPATCHED}


def test_admin_flags_late_letters_and_marks_returns(tmp_path, rendered):
    with time_machine.travel("2026-11-01 10:00 +0100", tick=False) as clock:
        rendered()
        clock.shift(86400 * 11)
        client = verified_staff_client()
        late = client.get("/admin/letters/letter/", {"overdue": "yes"}).content.decode()
    assert late.count("L-") >= 3 and "icon-yes" in late
    call_command("export_letters", str(tmp_path), stdout=StringIO())
    letter = Letter.objects.first()
    client = verified_staff_client()
    client.post(
        "/admin/letters/letter/",
        {"action": "mark_returned_action", "_selected_action": [letter.pk]},
    )
    assert Letter.objects.get(pk=letter.pk).state == LetterState.RETURNED
    page = client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()
    assert letter.reference in page and "%PDF" not in page


def test_the_letters_admin_refuses_anonymous_visitors_and_patients(rendered):
    rendered()
    response = Client().get("/admin/letters/letter/")
    assert response.status_code == 302
    assert Client().post("/admin/letters/letter/export/").status_code == 302
    _patient, client = patient_with_login()
    assert client.post("/admin/letters/letter/export/").status_code == 302
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.RENDERED}


def test_a_shredded_recipient_does_not_stop_the_batch(tmp_path, rendered):
    people = rendered()
    destroy_data_key(people[0].data_key)
    out = StringIO()
    call_command("export_letters", str(tmp_path), stdout=out)
    folder = Path(out.getvalue().strip())
    with (folder / "manifest.csv").open(encoding="utf-8") as handle:
        assert [row["postcode"] for row in csv.DictReader(handle)] == ["13001", "75015"]
    states = dict(Letter.objects.values_list("subject_uid", "state"))
    assert states[people[0].uid] == LetterState.VOID


def export_events():
    return AuditEvent.objects.filter(action="export-letter").select_related("chain")


def test_the_command_records_each_export_on_the_recipients_chain(tmp_path, rendered):
    """Without --operator (the contract's form), each letter is recorded on its person's
    registry chain, naming the operating-system user who ran the command."""
    people = rendered()
    call_command("export_letters", str(tmp_path), stdout=StringIO())
    events = list(export_events())
    assert sorted(event.chain.key for event in events) == sorted(
        f"registry:{person.pk}" for person in people
    )
    for event in events:
        assert event.outcome == "allowed" and event.actor_id is None
        assert event.reason.startswith("command-line:") and len(event.reason) > len("command-line:")


def test_the_command_names_a_staff_operator(tmp_path, rendered):
    people = rendered()
    staff = StaffFactory()
    call_command("export_letters", str(tmp_path), "--operator", staff.username, stdout=StringIO())
    events = list(export_events())
    assert len(events) == len(people)
    assert {(event.actor_id, event.actor_role, event.outcome) for event in events} == {
        (staff.pk, "staff", "allowed")
    }


def test_an_operator_who_is_not_staff_exports_nothing_and_is_recorded(tmp_path, rendered):
    rendered()
    patient = UserFactory()
    with pytest.raises(CommandError, match="ne peut pas exporter|may not export"):
        call_command("export_letters", str(tmp_path), "--operator", patient.username)
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.RENDERED}
    assert not any(tmp_path.iterdir()) or not list(tmp_path.glob("*/manifest.csv"))
    assert {(event.actor_id, event.outcome) for event in export_events()} == {
        (patient.pk, "refused")
    }
    with pytest.raises(CommandError, match="inconnu|Unknown operator"):
        call_command("export_letters", str(tmp_path), "--operator", "personne")
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.RENDERED}


def test_the_admin_export_names_the_staff_member_on_each_chain(rendered):
    people = rendered()
    staff = StaffFactory()
    client = logged_in_client(staff)
    response = client.post("/admin/letters/letter/export/", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    events = list(export_events())
    assert sorted(event.chain.key for event in events) == sorted(
        f"registry:{person.pk}" for person in people
    )
    assert {(event.actor_id, event.client_address) for event in events} == {
        (staff.pk, "198.51.100.7")
    }


def test_staff_without_permission_cannot_export_from_the_admin(rendered):
    rendered()
    client = logged_in_client(StaffFactory(is_superuser=False))
    response = client.post("/admin/letters/letter/export/")
    assert response.status_code in (302, 403)
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.RENDERED}
    assert not export_events().exists()


def test_the_door_is_asked_before_any_letter_is_opened(tmp_path, rendered, monkeypatch):
    """With a door that refuses everything, the export decrypts no letter (not even its postal
    block, to see whether its recipient was shredded) and changes nothing, a shredded
    recipient's letter included; every refusal is recorded."""
    people = rendered()
    destroy_data_key(people[0].data_key)
    staff = StaffFactory()
    opened = []
    postal = Letter._meta.get_field("postal")
    original_open = postal.open
    monkeypatch.setattr(
        postal,
        "open",
        lambda instance, blob: opened.append(instance.pk) or original_open(instance, blob),
    )
    monkeypatch.setattr(policy, "decide", lambda *args, **kwargs: Decision(False, "test"))
    with pytest.raises(ExportRefused):
        export_batch(tmp_path, operator=staff)
    assert opened == []
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.RENDERED}
    assert not list(tmp_path.glob("*/manifest.csv"))
    assert export_events().filter(outcome="refused", actor=staff).count() == len(people)


def returned_events():
    return AuditEvent.objects.filter(action="mark-returned").select_related("chain")


def test_marking_a_letter_returned_is_recorded_on_the_persons_chain(tmp_path, rendered):
    """Staff mark a letter returned (its code stops working): the event lands on the person's
    chain, naming the staff member and their address."""
    people = rendered()
    call_command("export_letters", str(tmp_path), stdout=StringIO())
    letter = Letter.objects.get(subject_uid=people[1].uid)
    staff = StaffFactory()
    client = logged_in_client(staff)
    client.post(
        "/admin/letters/letter/",
        {"action": "mark_returned_action", "_selected_action": [letter.pk]},
        REMOTE_ADDR="198.51.100.9",
    )
    assert Letter.objects.get(pk=letter.pk).state == LetterState.RETURNED
    events = list(returned_events())
    assert [
        (event.chain.key, event.actor_id, event.outcome, event.client_address) for event in events
    ] == [(f"registry:{people[1].pk}", staff.pk, "allowed", "198.51.100.9")]


def test_a_third_user_cannot_mark_a_letter_returned(tmp_path, rendered):
    """Staff without the permission, a practitioner and a patient change nothing, through the
    admin or the service; the service's refusals are recorded on the person's chain."""
    people = rendered()
    call_command("export_letters", str(tmp_path), stdout=StringIO())
    letter = Letter.objects.get(subject_uid=people[0].uid)
    codes_before = sorted(CreationCode.objects.values_list("pk", "superseded_at"))
    practitioner = PractitionerProfileFactory().user
    patient = UserFactory()
    for user in (StaffFactory(is_superuser=False), practitioner, patient):
        logged_in_client(user).post(
            "/admin/letters/letter/",
            {"action": "mark_returned_action", "_selected_action": [letter.pk]},
        )
    for user in (practitioner, patient, StaffFactory(is_staff=False)):
        with pytest.raises(ReturnRefused):
            mark_returned(user, [letter.pk])
    assert Letter.objects.get(pk=letter.pk).state == LetterState.DISPATCHED
    assert sorted(CreationCode.objects.values_list("pk", "superseded_at")) == codes_before
    refusals = list(returned_events())
    assert len(refusals) == 3
    assert {(event.chain.key, event.outcome) for event in refusals} == {
        (f"registry:{people[0].pk}", "refused")
    }
