"""The creation letter as rendered for a real request: address in the window, code, no NIR."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from enrollment.codes import hash_code
from enrollment.models import CreationCode
from letters.models import Letter, LetterState
from letters.rendering import ADDRESS_FRAME_MM, MONTHS
from tests.crypto.canaries import forms_of
from tests.enrollment.factories import make_beneficiary
from tests.letters.reading import code_from_letter, letter_pdf, letter_text

pytestmark = pytest.mark.django_db
MM = 72 / 25.4
PAGE_HEIGHT = 841.89


@pytest.fixture
def rendered_letter(django_capture_on_commit_callbacks):
    person = make_beneficiary(
        nir="185057800608491",
        first_name="Jean-Émile",
        last_name="Dupont",
        street="3, rue des Lilas",
    )
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    return person, Letter.objects.get(subject_uid=person.uid)


def drawn_lines(pdf: bytes) -> dict[str, tuple[float, float]]:
    """Each drawn text run and where it starts, in millimetres from the top-left corner."""
    positions: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            positions.setdefault(text.strip(), (x / MM, (PAGE_HEIGHT - y) / MM))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return positions


def test_the_six_address_lines_sit_inside_the_window_frame(rendered_letter):
    person, letter = rendered_letter
    assert letter.state == LetterState.RENDERED and letter.page_count == 1
    positions = drawn_lines(letter_pdf(letter))
    left, top, width, height = ADDRESS_FRAME_MM
    expected = [
        "Jean-Émile DUPONT",
        "Appartement 12",
        "Résidence Les Tilleuls",
        "3 RUE DES LILAS",
        "75015 PARIS",
    ]
    assert person.address["lines"] == expected
    for line in expected:
        x, y = positions[line]
        assert left <= x <= left + width, (line, x)
        assert top <= y <= top + height, (line, y)


def test_the_letter_carries_the_code_and_its_expiry_date_and_no_nir(rendered_letter):
    person, letter = rendered_letter
    text = letter_text(letter)
    code = code_from_letter(letter)
    stored = CreationCode.objects.get(beneficiary=person)
    assert stored.code_hash == hash_code(code)
    expiry = timezone.localdate(stored.expires_at) - timezone.timedelta(days=1)
    day = "1er" if expiry.day == 1 else str(expiry.day)
    assert f"valable jusqu'au {day} {MONTHS[expiry.month - 1]} {expiry.year} inclus" in (
        text.replace("\n", " ")
    )
    for form in ("185057800608491", "1 85 05 78 006 084 91", "1850578006084"):
        assert form not in text.replace("\n", " ")


def test_the_stored_pdf_is_encrypted(rendered_letter):
    _person, letter = rendered_letter
    code = code_from_letter(letter)
    with default_storage.open(letter.pdf_name, "rb") as handle:
        stored = handle.read()
    clear = letter_pdf(letter)
    assert clear.startswith(b"%PDF") and not stored.startswith(b"%PDF")
    # No run of the clear PDF survives in what is stored, nor the code.
    for offset in range(0, len(clear) - 64, 512):
        assert clear[offset : offset + 64] not in stored
    for form in forms_of(code):
        assert form not in stored
