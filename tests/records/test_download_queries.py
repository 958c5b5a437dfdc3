"""The download's work before its first byte (issue 20, item 6): the document's row without the
document page's relations, the door's decision and its audit event committed, nothing read
from the database while the file streams."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access_control.services import grant_consent
from audit.models import Action, AuditEvent
from records import downloads
from records.selectors import DocumentNotFound
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.records.factories import PDF, add_document, patient_with_login

pytestmark = pytest.mark.django_db


def _document_queries(captured: list[dict]) -> list[str]:
    return [q["sql"] for q in captured if 'FROM "records_document"' in q["sql"]]


def test_the_file_s_document_is_read_in_one_query_without_the_page_s_relations():
    patient, _client = patient_with_login()
    document = add_document(patient)
    with CaptureQueriesContext(connection) as ctx:
        opened = downloads.file_document(patient, document.uid, Action.DOWNLOAD)
    captured = list(ctx.captured_queries)
    # BEGIN, the document, the door's (the record's closure), the chain's head, the event, COMMIT.
    assert len(captured) == 6
    [row] = _document_queries(captured)
    # Its patient and data key only: not the category, nor the author and their profile, nor
    # the columns a file does not need (the description, the original name, the checksum).
    assert '"crypto_datakey"' in row and '"accounts_user"' in row
    for unread in ('"records_category"', '"accounts_practitionerprofile"', '"description"'):
        assert unread not in row
    assert '"display_name"' not in row and '"sha256"' not in row
    assert opened.pk == document.pk
    assert AuditEvent.objects.filter(patient=patient).order_by("-id").values_list(
        "action", "outcome", "document_uid"
    )[0] == ("download", "allowed", document.uid)


def test_the_response_reads_no_column_of_the_document_again():
    patient, client = patient_with_login()
    document = add_document(patient, title="Compte rendu d'IRM")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/records/{document.uid}/download/")
        body = b"".join(response.streaming_content)
    # One read of the document: a column left out of the row would be loaded by a second one.
    assert len(_document_queries(ctx.captured_queries)) == 1
    assert body == PDF
    assert response["Content-Disposition"] == 'attachment; filename="Compte rendu d\'IRM.pdf"'
    assert response["Content-Length"] == str(len(PDF))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"


def test_the_same_work_whether_the_document_exists_or_not_for_an_outsider():
    owner, _client = patient_with_login()
    document = add_document(owner)
    stranger, _stranger_client = patient_with_login()
    missing = document.uid.__class__(int=document.uid.int ^ 1)
    counts = []
    for uid in (document.uid, missing, document.uid, missing):  # each chain's head made once
        with CaptureQueriesContext(connection) as ctx, pytest.raises(DocumentNotFound):
            downloads.file_document(stranger, uid, Action.DOWNLOAD)
        counts.append(len(ctx.captured_queries))
    assert counts[2] == counts[3]
    # Every refusal committed, on the chain of the record asked for, or the system's.
    assert AuditEvent.objects.filter(actor=stranger, outcome="refused").count() == 4


def test_a_consented_practitioner_downloads_and_one_without_consent_gets_404():
    patient, _client = patient_with_login()
    document = add_document(patient)
    allowed = PractitionerProfileFactory()
    grant_consent(patient, allowed.rpps)
    download = logged_in_client(allowed.user).get(f"/records/{document.uid}/download/")
    assert b"".join(download.streaming_content) == PDF
    refused = PractitionerProfileFactory().user
    assert logged_in_client(refused).get(f"/records/{document.uid}/download/").status_code == 404
    assert list(
        AuditEvent.objects.filter(patient=patient, action="download")
        .order_by("id")
        .values_list("actor_id", "outcome")
    ) == [(allowed.user.pk, "allowed"), (refused.pk, "refused")]
