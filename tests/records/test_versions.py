"""Issue 16, items 1 and 2: a document's versions and its author's controls (hidden from other
practitioners, held back from the patient until an announcement, revealed, withdrawn), through
the pages, with three users each (the author, the patient, a practitioner who is not its author)
and the bad inputs of a new version (wrong type, too large)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from access_control.models import Consent, RecordSettings
from audit.models import Action, AuditEvent, Outcome
from records import tasks
from records.models import Document, DocumentStatus
from tests.access_control.factories import practitioner_with_login
from tests.accounts.factories import add_totp, give_verified_email, next_totp_token
from tests.records.factories import add_document, patient_with_login, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """The patient (with a confirmed address), the author (a practitioner with consent), another
    practitioner with consent who is not the author, and one without consent."""
    patient, patient_client = patient_with_login()
    give_verified_email(patient, "patient@example.fr")
    RecordSettings.objects.update_or_create(patient=patient, defaults={"notify_new_document": True})
    author, author_client = practitioner_with_login()
    other, other_client = practitioner_with_login()
    stranger, stranger_client = practitioner_with_login()
    for profile, client in ((author, author_client), (other, other_client)):
        Consent.objects.create(patient=patient, practitioner=profile.user)
        # Their first access (its notice, about no document, is never sent: not run on commit).
        assert client.get(f"/pro/patients/{patient.pk}/").status_code == 200
    return {
        "patient": patient,
        "patient_client": patient_client,
        "author": author.user,
        "author_client": author_client,
        "other": other.user,
        "other_client": other_client,
        "stranger": stranger.user,
        "stranger_client": stranger_client,
        "callbacks": django_capture_on_commit_callbacks,
    }


def pro_upload(world, title="Résultat de biopsie", **controls):
    """The author's upload through their form (controls: ``held``, ``hidden_by_author``)."""
    with world["callbacks"](execute=True):
        response = world["author_client"].post(
            f"/pro/patients/{world['patient'].pk}/upload/",
            {"title": title, "category": "biologie", "file": pdf_upload(), **controls},
        )
    assert response.status_code == 302, response.content.decode()
    return Document.objects.filter(author=world["author"], status=DocumentStatus.CURRENT).latest(
        "created_at"
    )


def replace(client, document, title="Résultat de biopsie, corrigé", file=None, **extra):
    return client.post(
        f"/records/{document.uid}/replace/",
        {"title": title, "category": "biologie", "file": file or pdf_upload(), **extra},
    )


def stored_files() -> set[str]:
    return (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )


def rows() -> list[tuple]:
    """Every document's row in clear columns (the encrypted ones compare by identity)."""
    columns = ["uid", "status", "replaces_id", "hidden_from_practitioners", "hidden_by_author"]
    columns += ["hidden_from_patient_until", "deleted_at", "file_name", "size", "author_id"]
    return list(Document.objects.order_by("pk").values_list(*columns))


def events(patient, action) -> list[tuple[str, str]]:
    rows = AuditEvent.objects.filter(patient=patient, action=action).order_by("sequence")
    return list(rows.values_list("outcome", "reason"))


# --- Versions ------------------------------------------------------------------------------


def test_the_author_replaces_a_document_and_the_page_lists_its_versions(world):
    first = pro_upload(world, hidden_by_author="on")
    response = replace(world["author_client"], first)
    assert response.status_code == 302
    first.refresh_from_db()
    current = Document.objects.get(patient=world["patient"], status=DocumentStatus.CURRENT)
    assert first.status == DocumentStatus.REPLACED and current.replaces_id == first.pk
    assert response["Location"] == f"/records/{current.uid}/"
    # The new version keeps the author's controls.
    assert current.hidden_by_author and current.title == "Résultat de biopsie, corrigé"
    assert (Outcome.ALLOWED, "author") in events(world["patient"], Action.REPLACE)

    page = world["patient_client"].get(f"/records/{current.uid}/")
    versions = page.context["versions"]
    assert [version.uid for version in versions] == [current.uid, first.uid]
    assert all(version.openable for version in versions)
    assert f'href="/records/{first.uid}/"' in page.content.decode()
    # The earlier version opens and downloads for whoever may read the current one.
    earlier = world["patient_client"].get(f"/records/{first.uid}/")
    assert (
        earlier.status_code == 200 and 'data-testid="earlier-version"' in earlier.content.decode()
    )
    assert world["patient_client"].get(f"/records/{first.uid}/download/").status_code == 200


def test_lists_counts_and_search_show_current_versions_only(world):
    first = pro_upload(world, title="Bilan initial")
    replace(world["author_client"], first, title="Bilan corrigé")
    listing = world["patient_client"].get("/records/")
    assert listing.context["page"].paginator.count == 1
    assert [row.title for row in listing.context["page"]] == ["Bilan corrigé"]
    assert (
        world["patient_client"].get("/records/", {"q": "initial"}).context["page"].paginator.count
        == 0
    )
    assert world["patient_client"].get("/summary/").context["summary"].document_count == 1
    pro = world["other_client"].get(f"/pro/patients/{world['patient'].pk}/")
    assert "Bilan initial" not in pro.content.decode() and "Bilan corrigé" in pro.content.decode()


def test_the_patient_replaces_a_document_they_added_but_not_a_practitioners(world):
    own = add_document(world["patient"], title="Mon ordonnance")
    assert replace(world["patient_client"], own, title="Mon ordonnance (2)").status_code == 302
    assert Document.objects.get(pk=own.pk).status == DocumentStatus.REPLACED

    theirs = pro_upload(world)
    before = stored_files()
    assert world["patient_client"].get(f"/records/{theirs.uid}/replace/").status_code == 404
    assert replace(world["patient_client"], theirs).status_code == 404
    assert Document.objects.get(pk=theirs.pk).status == DocumentStatus.CURRENT
    assert stored_files() == before
    assert (Outcome.REFUSED, "not-author") in events(world["patient"], Action.REPLACE)


@pytest.mark.parametrize("who", ["other", "stranger"])
def test_a_practitioner_who_is_not_the_author_gets_404_and_changes_nothing(world, who):
    document = pro_upload(world)
    client = world[f"{who}_client"]
    before = (rows(), stored_files())
    assert client.get(f"/records/{document.uid}/replace/").status_code == 404
    assert replace(client, document).status_code == 404
    for step in ("hold", "reveal", "withdraw", "hide", "show"):
        assert client.post(f"/records/{document.uid}/{step}/").status_code == 404, step
    assert (rows(), stored_files()) == before
    refused = AuditEvent.objects.filter(
        patient=world["patient"], actor=world[who], outcome=Outcome.REFUSED
    )
    assert {Action.REPLACE, Action.HOLD, Action.REVEAL, Action.WITHDRAW, Action.HIDE} <= set(
        refused.values_list("action", flat=True)
    )


@pytest.mark.parametrize(
    "upload, message",
    [
        (
            SimpleUploadedFile("cr.pdf", b"%PDF-\x00\xff" * 40, content_type="application/pdf"),
            "PDF",
        ),
        (SimpleUploadedFile("cr.exe", b"MZ\x90\x00" * 64), "PDF, JPEG, PNG"),
    ],
)
def test_a_new_version_of_the_wrong_type_changes_nothing(world, upload, message):
    document = pro_upload(world)
    before = (rows(), stored_files())
    response = replace(world["author_client"], document, file=upload)
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors and message in " ".join(errors)
    assert (rows(), stored_files()) == before


def test_a_new_version_too_large_changes_nothing(world, settings):
    document = pro_upload(world)
    before = (rows(), stored_files())
    settings.RECORDS_MAX_UPLOAD_BYTES = 2048
    big = SimpleUploadedFile("cr.pdf", b"%PDF-1.7\n" + b"0" * 4096, content_type="application/pdf")
    response = replace(world["author_client"], document, file=big)
    assert response.status_code == 200
    assert "Mo" in " ".join(response.context["form"].errors["file"])
    assert (rows(), stored_files()) == before


# --- Hidden from other practitioners ---------------------------------------------------------


def test_the_authors_hiding_and_the_patients_do_not_undo_each_other(world):
    document = pro_upload(world, hidden_by_author="on")
    other = world["other_client"]
    assert other.get(f"/records/{document.uid}/").status_code == 404
    assert (Outcome.ALLOWED, "author") in events(world["patient"], Action.HIDE)
    # The patient's list says it is hidden from professionals, whoever hid it.
    (row,) = world["patient_client"].get("/records/").context["page"]
    assert row.hidden_from_practitioners
    # The patient hides it and shows it again: the author's choice stands.
    assert world["patient_client"].post(f"/records/{document.uid}/hide/").status_code == 302
    assert world["patient_client"].post(f"/records/{document.uid}/show/").status_code == 302
    assert other.get(f"/records/{document.uid}/").status_code == 404
    # The patient hides it; the author shows it again: the patient's choice stands.
    world["patient_client"].post(f"/records/{document.uid}/hide/")
    assert world["author_client"].post(f"/records/{document.uid}/show/").status_code == 302
    document.refresh_from_db()
    assert document.hidden_from_practitioners and not document.hidden_by_author
    assert other.get(f"/records/{document.uid}/").status_code == 404
    world["patient_client"].post(f"/records/{document.uid}/show/")
    assert other.get(f"/records/{document.uid}/").status_code == 200


def test_an_earlier_version_is_read_as_the_current_one_is(world):
    first = pro_upload(world)
    replace(world["author_client"], first)
    current = Document.objects.get(patient=world["patient"], status=DocumentStatus.CURRENT)
    other = world["other_client"]
    assert other.get(f"/records/{first.uid}/").status_code == 200
    world["author_client"].post(f"/records/{current.uid}/hide/")
    # Hidden now: the earlier version with it.
    assert other.get(f"/records/{current.uid}/").status_code == 404
    assert other.get(f"/records/{first.uid}/download/").status_code == 404
    # Never changed through an earlier version, even by its author.
    assert world["author_client"].post(f"/records/{first.uid}/withdraw/").status_code == 404
    assert (Outcome.REFUSED, "not-current") in events(world["patient"], Action.WITHDRAW)


# --- Held back until an announcement, revealed ------------------------------------------------


def patient_sees(world, title: str) -> dict[str, bool]:
    client = world["patient_client"]
    listing = client.get("/records/")
    summary = client.get("/summary/")
    history = client.get("/access/history/")
    return {
        "list": any(row.title == title for row in listing.context["page"]),
        "count": listing.context["page"].paginator.count > 0,
        "summary": summary.context["summary"].document_count > 0,
        "categories": bool(listing.context["form"].has_documents),
        "history": any(row.document_uid for row in history.context["page"]),
        "title": title in summary.content.decode() + history.content.decode(),
    }


def test_a_held_document_leaves_no_trace_for_the_patient_until_revealed(world):
    document = pro_upload(world, title="Annonce: résultat de biopsie", held="on")
    assert document.hidden_from_patient_until is not None
    assert mail.outbox == []  # no new-document e-mail for a held document
    assert (Outcome.ALLOWED, "author") in events(world["patient"], Action.HOLD)
    world["other_client"].get(f"/records/{document.uid}/")  # a read, recorded
    assert set(patient_sees(world, document.title).values()) == {False}
    assert world["patient_client"].get(f"/records/{document.uid}/").status_code == 404
    assert world["patient_client"].get("/records/", {"category": "biologie"}).context["form"].errors

    with world["callbacks"](execute=True):
        response = world["author_client"].post(f"/records/{document.uid}/reveal/")
    assert response.status_code == 302
    assert set(patient_sees(world, document.title).values()) == {True}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["patient@example.fr"]
    assert document.title not in mail.outbox[0].body + mail.outbox[0].subject
    assert (Outcome.ALLOWED, "author") in events(world["patient"], Action.REVEAL)
    # Revealed twice: one notice.
    with world["callbacks"](execute=True):
        world["author_client"].post(f"/records/{document.uid}/reveal/")
    assert len(mail.outbox) == 1


def test_the_daily_task_reveals_after_the_delay_and_only_then_tells_the_patient(world):
    document = pro_upload(world, held="on")
    with world["callbacks"](execute=True):
        assert tasks.reveal_due_documents() == 0
    assert mail.outbox == []
    days = settings.RECORDS_ANNOUNCEMENT_DAYS
    with time_machine.travel(timezone.now() + timedelta(days=days - 1)):
        with world["callbacks"](execute=True):
            assert tasks.reveal_due_documents() == 0
        document.refresh_from_db()
        assert document.hidden_from_patient()
    assert mail.outbox == []
    later = timezone.now() + timedelta(days=days, hours=1)
    with time_machine.travel(later), world["callbacks"](execute=True):
        assert tasks.reveal_due_documents() == 1
        assert tasks.reveal_due_documents() == 0  # once
    assert world["patient_client"].get(f"/records/{document.uid}/").status_code == 200
    assert len(mail.outbox) == 1
    document.refresh_from_db()
    assert document.hidden_from_patient_until is None
    assert events(world["patient"], Action.REVEAL)[-1] == (
        Outcome.ALLOWED,
        "announcement-delay-over",
    )


def test_a_new_version_of_a_held_document_stays_held(world):
    first = pro_upload(world, held="on")
    replace(world["author_client"], first)
    current = Document.objects.get(patient=world["patient"], status=DocumentStatus.CURRENT)
    assert current.hidden_from_patient_until == first.hidden_from_patient_until
    assert mail.outbox == []
    for uid in (first.uid, current.uid):
        assert world["patient_client"].get(f"/records/{uid}/").status_code == 404
    world["author_client"].post(f"/records/{current.uid}/reveal/")
    for uid in (first.uid, current.uid):
        assert world["patient_client"].get(f"/records/{uid}/").status_code == 200


def test_the_author_postpones_the_reveal_of_a_held_document(world):
    document = pro_upload(world, held="on")
    # Held ten days ago: five days of the delay are left.
    first_deadline = timezone.now() + timedelta(days=settings.RECORDS_ANNOUNCEMENT_DAYS - 10)
    Document.objects.filter(pk=document.pk).update(hidden_from_patient_until=first_deadline)
    assert world["author_client"].post(f"/records/{document.uid}/hold/").status_code == 302
    document.refresh_from_db()
    assert document.hidden_from_patient_until > first_deadline + timedelta(days=9)
    assert world["patient_client"].get(f"/records/{document.uid}/").status_code == 404
    assert (Outcome.ALLOWED, "author") in events(world["patient"], Action.HOLD)


def test_a_document_the_patient_may_see_is_never_held_back_again(world):
    """Shown once, it stays shown: neither it nor the history lines naming it disappear."""
    document = pro_upload(world)
    page = world["author_client"].get(f"/records/{document.uid}/").content.decode()
    assert f"/records/{document.uid}/hold/" not in page
    assert world["author_client"].post(f"/records/{document.uid}/hold/").status_code == 404
    document.refresh_from_db()
    assert document.hidden_from_patient_until is None
    assert world["patient_client"].get(f"/records/{document.uid}/").status_code == 200
    assert (Outcome.REFUSED, "shown-to-patient") in events(world["patient"], Action.HOLD)


# --- Withdrawn -------------------------------------------------------------------------------


def test_the_author_withdraws_a_document_which_leaves_every_list_and_keeps_its_file(world):
    document = pro_upload(world)
    response = world["author_client"].post(f"/records/{document.uid}/withdraw/")
    assert response["Location"] == f"/pro/patients/{world['patient'].pk}/"
    document.refresh_from_db()
    assert document.status == DocumentStatus.DELETED
    assert default_storage.exists(document.file_name)  # kept, never lost
    assert world["patient_client"].get("/records/").context["page"].paginator.count == 0
    for client in ("patient_client", "author_client", "other_client"):
        assert world[client].get(f"/records/{document.uid}/").status_code == 404, client
    assert (Outcome.ALLOWED, "author") in events(world["patient"], Action.WITHDRAW)


# --- CSRF ------------------------------------------------------------------------------------


def test_each_change_needs_the_csrf_token(world):
    document = pro_upload(world)
    client = Client(enforce_csrf_checks=True)
    client.cookies = world["author_client"].cookies
    before = rows()
    for step in ("hold", "reveal", "withdraw", "hide", "show"):
        assert client.post(f"/records/{document.uid}/{step}/").status_code == 403, step
    assert replace(client, document).status_code == 403
    assert rows() == before


def test_the_pages_of_a_practitioner_offer_the_controls_to_the_author_only(world):
    document = pro_upload(world)
    own = world["author_client"].get(f"/records/{document.uid}/").content.decode()
    for step in ("replace", "hide", "withdraw"):
        assert f"/records/{document.uid}/{step}/" in own, step
    theirs = world["other_client"].get(f"/records/{document.uid}/").content.decode()
    assert f"/records/{document.uid}/replace/" not in theirs
    assert "/withdraw/" not in theirs and "/hold/" not in theirs
    # The patient's page: no author control on a practitioner's document.
    patients = world["patient_client"].get(f"/records/{document.uid}/").content.decode()
    assert "/replace/" not in patients and "/withdraw/" not in patients


# --- Held, then withdrawn; the export; a closed account -------------------------------------


def history_of(world) -> str:
    return world["patient_client"].get("/access/history/").content.decode()


def test_a_document_withdrawn_while_held_is_never_revealed_nor_traced(world):
    """Its author withdrew it before the announcement: once its delay is over, the daily task
    still reveals nothing, and the patient's history never shows a line about it."""
    document = pro_upload(world, held="on")
    world["author_client"].post(f"/records/{document.uid}/withdraw/")
    mail.outbox.clear()
    # Its delay is over (moved back rather than the clock forward, which would end the sessions).
    over = timezone.now() - timedelta(minutes=1)
    Document.objects.filter(pk=document.pk).update(hidden_from_patient_until=over)
    with world["callbacks"](execute=True):
        assert tasks.reveal_due_documents() == 0
    history = history_of(world)
    # No line names it (its upload, hold and withdrawal would each read « Document supprimé »).
    assert "<em>Document supprimé</em>" not in history
    assert mail.outbox == []
    assert not events(world["patient"], Action.REVEAL)


def test_the_export_holds_no_line_about_a_held_document(world):
    document = pro_upload(world, title="Résultat à annoncer", held="on")
    device = add_totp(world["patient"])
    response = world["patient_client"].post(
        "/records/export/", {"otp_token": next_totp_token(device)}
    )
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        index = archive.read("index.html").decode()
        bundle = archive.read("dossier.fhir.json").decode()
    # The upload and the hold are on the chain, but neither the page nor the Bundle names them.
    assert events(world["patient"], Action.HOLD)
    assert "Document pas encore disponible" not in index and "Retenu" not in index
    assert str(document.uid) not in bundle and "hold" not in bundle


def test_a_deceased_patient_is_told_nothing_when_a_held_document_is_revealed(world):
    pro_upload(world, held="on")
    type(world["patient"]).objects.filter(pk=world["patient"].pk).update(is_active=False)
    later = timezone.now() + timedelta(days=settings.RECORDS_ANNOUNCEMENT_DAYS + 1)
    with time_machine.travel(later, tick=False), world["callbacks"](execute=True):
        assert tasks.reveal_due_documents() == 1
    assert mail.outbox == []
