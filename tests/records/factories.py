from __future__ import annotations

import io
from datetime import date

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services.keys import ensure_data_key
from dmp_portal.crypto.files import save_encrypted
from records.models import Category, Document
from records.services import upload_document
from tests.accounts.factories import UserFactory, logged_in_client
from tests.records.pdf_specimens import build_pdf

PDF = build_pdf([])  # one page, parses strictly: uploads are parsed (records/pdf_checks.py)


def patient_with_login():
    """A patient and a test client past both factors."""
    patient = UserFactory(kind="patient")
    ensure_data_key(patient)
    return patient, logged_in_client(patient)


def pdf_upload(name: str = "compte-rendu.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def add_document(
    patient,
    *,
    title: str = "Compte rendu d'IRM",
    category: str = "imagerie",
    act_date: date = date(2026, 3, 12),
    author=None,
    content: bytes = PDF,
):
    """The patient's own upload through the service; a practitioner's document is stored
    directly (practitioners write to a record through the consent rules, issue 6)."""
    if author is None or author == patient:
        return upload_document(
            patient,
            patient,
            title=title,
            category=Category.objects.get(code=category),
            act_date=act_date,
            upload=io.BytesIO(content),
        )
    return stored_document(
        patient, author=author, title=title, category=category, act_date=act_date, content=content
    )


def stored_document(patient, *, author, title: str, category: str, act_date, content: bytes):
    """A document written straight to the record and its encrypted file, without the upload
    service's checks of the content (for practitioners' documents, and for synthetic files)."""
    ensure_data_key(patient)
    document = Document(
        patient=patient,
        data_key=patient.data_key,
        author=author,
        title=title,
        category=Category.objects.get(code=category),
        act_date=act_date,
        media_type="application/pdf",
        extension=".pdf",
        size=len(content),
    )
    document.file_name, _size = save_encrypted(
        default_storage,
        f"records/{document.uid}.bin",
        io.BytesIO(content),
        document.data_key,
        document.file_aad(),
    )
    document.save()
    return document
