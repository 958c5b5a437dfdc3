from __future__ import annotations

import io
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services.keys import ensure_data_key
from bench.world import build_pdf, stored_document
from records.models import Category
from records.services import upload_document
from tests.accounts.factories import UserFactory, logged_in_client

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


def post_upload(client):
    """The upload page's form, filled as a patient fills it (« Bilan sanguin de mars »)."""
    return client.post(
        "/records/upload/",
        {
            "title": "Bilan sanguin de mars",
            "category": "biologie",
            "act_date": "12/03/2026",
            "file": SimpleUploadedFile("bilan.pdf", PDF, content_type="application/pdf"),
        },
    )
