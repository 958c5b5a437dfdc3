"""The patient's record: upload, list with search and filters, document page, download, hide,
delete; every read through the door, every refusal a 404 and an audit event."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from audit.models import AuditEvent
from records.models import Category, Document, DocumentStatus
from records.selectors import DocumentNotFound, document_for
from records.services import upload_document
from tests.accounts.factories import (
    PractitionerProfileFactory,
    logged_in_client,
    verified_staff_client,
)
from tests.records.factories import PDF, add_document, patient_with_login, pdf_upload

pytestmark = pytest.mark.django_db


def events(**filters):
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list("action", "outcome", "reason")
    )


def test_upload_adds_an_encrypted_document_to_the_record():
    patient, client = patient_with_login()
    response = client.post(
        "/records/upload/",
        {
            "title": "Bilan sanguin",
            "category": "biologie",
            "act_date": "12/03/2026",
            "file": pdf_upload(),
        },
    )
    document = Document.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == f"/records/{document.uid}/"
    assert document.title == "Bilan sanguin" and document.author == patient
    assert document.media_type == "application/pdf" and document.size == len(PDF)
    with default_storage.open(document.file_name, "rb") as handle:
        assert b"%PDF" not in handle.read()
    assert "compte-rendu" not in document.file_name
    assert events(patient=patient, action="upload") == [
        ("upload", "allowed", "own-record"),
    ]
    assert AuditEvent.objects.filter(action="upload", document_uid=document.uid).exists()


def test_the_contract_fields_alone_are_enough():
    patient, client = patient_with_login()
    client.post(
        "/records/upload/", {"title": "Ordonnance", "category": "traitements", "file": pdf_upload()}
    )
    assert Document.objects.get(patient=patient).act_date == date.today()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "category": "biologie"}, "title"),
        ({"title": "X", "category": "astrologie"}, "category"),
        ({"title": "X", "category": "biologie", "act_date": "31/02/2026"}, "act_date"),
        ({"title": "X", "category": "biologie", "act_date": "01/01/2999"}, "act_date"),
    ],
)
def test_bad_upload_input_is_explained_and_stores_nothing(data, field):
    patient, client = patient_with_login()
    files_before = (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )
    response = client.post("/records/upload/", {**data, "file": pdf_upload()})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "Il y a un problème" in response.content.decode()
    assert not Document.objects.exists()
    files_after = (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )
    assert files_after == files_before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vide.pdf", b"", "vide"),
        ("programme.pdf", b"MZ\x90\x00" + b"\x00" * 200, "n'est pas accepté"),
        ("../../etc/passwd", b"\x7fELF" + b"\x00" * 200, "n'est pas accepté"),
    ],
)
def test_a_refused_file_is_explained_and_leaves_nothing(name, content, message):
    _patient, client = patient_with_login()
    response = client.post(
        "/records/upload/",
        {"title": "X", "category": "biologie", "file": pdf_upload(name, content)},
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not Document.objects.exists()


def test_a_file_over_the_limit_is_refused():
    _patient, client = patient_with_login()
    big = PDF[:-6] + b" " * (6 * 1024 * 1024) + b"%%EOF\n"
    response = client.post(
        "/records/upload/",
        {"title": "X", "category": "biologie", "file": pdf_upload("gros.pdf", big)},
    )
    assert "5 Mo" in " ".join(response.context["form"].errors["file"])
    assert not Document.objects.exists()


def test_a_path_traversal_name_is_never_used_as_a_path():
    patient, client = patient_with_login()
    client.post(
        "/records/upload/",
        {"title": "X", "category": "biologie", "file": pdf_upload("../../../../tmp/evil.pdf")},
    )
    document = Document.objects.get(patient=patient)
    assert ".." not in document.file_name and "evil" not in document.file_name
    assert document.file_name.startswith("records/")
    assert "/" not in document.display_name and ".." not in document.display_name


def test_the_list_searches_decrypted_titles_and_filters():
    patient, client = patient_with_login()
    add_document(patient, title="IRM du genou", category="imagerie", act_date=date(2026, 1, 5))
    add_document(patient, title="Bilan sanguin", category="biologie", act_date=date(2026, 2, 1))
    add_document(patient, title="Radio du genou", category="imagerie", act_date=date(2026, 3, 1))
    practitioner = PractitionerProfileFactory().user
    add_document(
        patient,
        title="Compte rendu de consultation",
        category="comptes-rendus",
        author=practitioner,
    )

    def titles(**params):
        page = client.get("/records/", params)
        assert page.status_code == 200
        return [row.title for row in page.context["page"].object_list]

    assert titles() == [
        "Compte rendu de consultation",
        "Radio du genou",
        "Bilan sanguin",
        "IRM du genou",
    ]
    assert titles(q="GENOU") == ["Radio du genou", "IRM du genou"]
    assert titles(category="imagerie") == ["Radio du genou", "IRM du genou"]
    assert titles(author="practitioner") == ["Compte rendu de consultation"]
    assert titles(author="patient", date_from="2026-01-20", date_to="2026-02-28") == [
        "Bilan sanguin"
    ]
    bad = client.get("/records/", {"date_from": "hier"})
    assert bad.context["form"].errors["date_from"]
    assert len(bad.context["page"].object_list) == 4


def test_the_list_costs_the_same_queries_with_10_and_500_documents():
    patient, client = patient_with_login()

    def queries_for_page_one() -> int:
        client.get("/records/")
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/records/", {"q": "Document"})
        assert page.status_code == 200
        return len(captured.captured_queries)

    for index in range(10):
        add_document(patient, title=f"Document {index}")
    with_10 = queries_for_page_one()
    for index in range(10, 500):
        add_document(patient, title=f"Document {index}")
    with_500 = queries_for_page_one()
    assert with_10 == with_500
    page = client.get("/records/", {"page": 25})
    assert page.context["page"].paginator.count == 500
    assert len(page.context["page"].object_list) == 20


def test_document_page_inline_view_and_download():
    patient, client = patient_with_login()
    document = add_document(patient)
    page = client.get(f"/records/{document.uid}/")
    assert page.status_code == 200
    assert "Compte rendu d&#x27;IRM" in page.content.decode()
    assert "frame-src 'self'" in page["Content-Security-Policy"]
    inline = client.get(f"/records/{document.uid}/content/")
    assert b"".join(inline.streaming_content) == PDF
    assert inline["Content-Disposition"].startswith("inline")
    download = client.get(f"/records/{document.uid}/download/")
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"] == "no-store"
    assert [e[0] for e in events(patient=patient)][-3:] == ["view", "view", "download"]


def test_another_patient_gets_404_on_document_list_and_download_and_it_is_recorded():
    owner, _client = patient_with_login()
    document = add_document(owner)
    stranger, client = patient_with_login()
    for path in (
        f"/records/{document.uid}/",
        f"/records/{document.uid}/content/",
        f"/records/{document.uid}/download/",
    ):
        assert client.get(path).status_code == 404
    for path in (f"/records/{document.uid}/hide/", f"/records/{document.uid}/delete/"):
        assert client.post(path).status_code == 404
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.CURRENT
    refused = events(patient=owner, actor=stranger)
    assert refused == [
        ("view", "refused", "not-own-record"),
        ("view", "refused", "not-own-record"),
        ("download", "refused", "not-own-record"),
        ("hide", "refused", "not-own-record"),
        ("delete", "refused", "not-own-record"),
    ]
    # The stranger's own list shows nothing of it.
    listing = client.get("/records/")
    assert "IRM" not in listing.content.decode()


def test_a_practitioner_and_staff_are_refused_for_now():
    owner, _client = patient_with_login()
    document = add_document(owner)
    practitioner = PractitionerProfileFactory().user

    client = logged_in_client(practitioner)
    assert client.get(f"/records/{document.uid}/").status_code == 404
    assert client.get("/records/").status_code == 404
    assert events(patient=owner, actor=practitioner) == [("view", "refused", "no-consent")]
    staff = verified_staff_client()
    assert staff.get(f"/records/{document.uid}/download/").status_code == 404


def test_anonymous_visitors_are_sent_to_login():
    response = Client().get("/records/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_hide_and_show_again_then_delete_own_document():
    patient, client = patient_with_login()
    document = add_document(patient)
    client.post(f"/records/{document.uid}/hide/")
    assert Document.objects.get(pk=document.pk).hidden_from_practitioners
    client.post(f"/records/{document.uid}/show/")
    assert not Document.objects.get(pk=document.pk).hidden_from_practitioners
    assert client.get(f"/records/{document.uid}/hide/").status_code == 405
    client.post(f"/records/{document.uid}/delete/")
    document = Document.objects.get(pk=document.pk)
    assert document.status == DocumentStatus.DELETED
    assert default_storage.exists(document.file_name)  # never lost, only removed from view
    assert client.get(f"/records/{document.uid}/").status_code == 404
    assert "IRM" not in client.get("/records/").content.decode()


def test_a_patient_cannot_delete_a_practitioners_document():
    patient, client = patient_with_login()
    practitioner = PractitionerProfileFactory().user
    document = add_document(patient, author=practitioner)
    assert client.post(f"/records/{document.uid}/delete/").status_code == 404
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.CURRENT
    assert events(patient=patient, action="delete") == [("delete", "refused", "not-author")]


def test_a_document_hidden_from_the_patient_until_a_date():
    patient, client = patient_with_login()
    document = add_document(patient, title="Résultat à annoncer")
    Document.objects.filter(pk=document.pk).update(
        hidden_from_patient_until=timezone.now() + timezone.timedelta(days=7)
    )
    assert "annoncer" not in client.get("/records/").content.decode()
    assert client.get(f"/records/{document.uid}/").status_code == 404
    with time_machine.travel(timezone.now() + timezone.timedelta(days=8)):
        assert document_for(patient, document.uid, "view").title == "Résultat à annoncer"
    with pytest.raises(DocumentNotFound):
        document_for(patient, document.uid, "view")


def test_staff_in_the_admin_see_metadata_never_title_or_content():
    patient, _client = patient_with_login()
    document = add_document(patient, title="Diagnostic confidentiel")
    staff = verified_staff_client()
    listing = staff.get("/admin/records/document/")
    assert listing.status_code == 200
    assert str(document.uid) in listing.content.decode()
    page = staff.get(f"/admin/records/document/{document.pk}/change/")
    assert page.status_code == 200
    for response in (listing, page):
        content = response.content.decode()
        assert "Diagnostic confidentiel" not in content and "%PDF" not in content
    assert staff.post(f"/admin/records/document/{document.pk}/delete/").status_code == 403
    assert Document.objects.filter(pk=document.pk).exists()


def test_a_tiff_is_offered_for_download_not_shown_inline():
    patient, client = patient_with_login()
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="TIFF")
    document = add_document(patient, title="Scanner", content=buffer.getvalue())
    assert document.media_type == "image/tiff"
    assert client.get(f"/records/{document.uid}/content/").status_code == 404
    page = client.get(f"/records/{document.uid}/").content.decode()
    assert "/content/" not in page and f"/records/{document.uid}/download/" in page


def test_a_failure_while_storing_leaves_no_partial_file():
    patient, _client = patient_with_login()

    class BrokenUpload(io.BytesIO):
        """Reads fine while being checked, then fails halfway through being stored."""

        reads = 0

        def read(self, size=-1):
            data = super().read(size)
            self.reads += 1
            if self.reads > 6:
                raise OSError("disk unplugged")
            return data

    content = PDF[:-6] + b" " * (3 * 1024 * 1024) + b"%%EOF\n"
    upload = BrokenUpload(content)
    before = (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )
    with pytest.raises(OSError):
        upload_document(
            patient,
            patient,
            title="X",
            category=Category.objects.get(code="autres"),
            act_date=date(2026, 1, 1),
            upload=upload,
        )
    assert not Document.objects.exists()
    after = (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )
    assert after == before


def test_refused_users_get_404_on_the_upload_page_before_any_file_is_read():
    practitioner = PractitionerProfileFactory().user

    client = logged_in_client(practitioner)
    assert client.get("/records/upload/").status_code == 404
    bad_file = client.post(
        "/records/upload/",
        {"title": "X", "category": "biologie", "file": pdf_upload("x.pdf", b"MZ" * 100)},
    )
    assert bad_file.status_code == 404  # refused before the file is even inspected
    assert verified_staff_client().get("/records/upload/").status_code == 404


def test_a_document_not_yet_announced_cannot_be_acted_on_either():
    patient, client = patient_with_login()
    document = add_document(patient)
    Document.objects.filter(pk=document.pk).update(
        hidden_from_patient_until=timezone.now() + timezone.timedelta(days=3)
    )
    assert client.post(f"/records/{document.uid}/hide/").status_code == 404
    assert not Document.objects.get(pk=document.pk).hidden_from_practitioners
