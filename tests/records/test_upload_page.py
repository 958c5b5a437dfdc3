"""Through the upload page: a PDF with a script or an RTF with an object is refused with its
reason next to the file field, the title stays, and neither a row nor a file is stored."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from records.models import Document
from tests.records.factories import patient_with_login
from tests.records.pdf_specimens import build_pdf

pytestmark = pytest.mark.django_db

SCRIPTED_PDF = build_pdf(
    [b"<</S/JavaScript/JS(app.launchURL\\('https://attacker.example/'\\))>>"],
    catalog_extra=b"/OpenAction 5 0 R",
)
RTF_WITH_OBJECT = rb"{\rtf1 Bonjour{\*\objclass Package}{\OBJDATA 0105000002000000}}"


def stored_files() -> set[str]:
    return (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [
        ("compte-rendu.pdf", SCRIPTED_PDF, "JavaScript"),
        ("lettre.rtf", RTF_WITH_OBJECT, "\\*\\objclass"),
    ],
    ids=["pdf-with-a-script", "rtf-with-an-object"],
)
def test_active_content_is_refused_on_the_page_and_nothing_is_stored(name, content, found):
    _patient, client = patient_with_login()
    before = stored_files()
    response = client.post(
        "/records/upload/",
        {
            "title": "Courrier du cardiologue",
            "category": "biologie",
            "file": SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["file"] and found in form.errors["file"][0]
    assert form["title"].value() == "Courrier du cardiologue"
    assert not Document.objects.exists()
    assert stored_files() == before
