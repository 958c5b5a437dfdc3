"""The creation letter as rendered for a real request: address in the window, code, no NIR."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from django.utils import timezone
from pypdf import PdfReader

from enrollment.codes import hash_code
from enrollment.models import CreationCode
from letters.models import Letter, LetterState
from letters.rendering.content import MONTHS
from letters.rendering.page import ADDRESS_FRAME_MM
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


OPERATOR = {
    "DMP_OPERATOR_NAME": "Agence régionale du DMP",
    "DMP_OPERATOR_ADDRESS": ("Service des inscriptions", "TSA 40123", "69000 LYON"),
    "DMP_OPERATOR_PHONE": "04 99 00 12 34",
    "DMP_OPERATOR_PHONE_HOURS": "du lundi au samedi de 9 h à 17 h",
    "DMP_OPERATOR_EMAIL": "inscriptions@dmp.example",
    "DMP_DPO_CONTACT": "dpo@dmp.example",
    "DMP_LETTER_PLACE": "Lyon",
    "DMP_LETTER_SIGNATORY": ("Le directeur des inscriptions", "Jean Exemple"),
    "DMP_LETTER_RETENTION": "six mois après l'envoi",
    "DMP_SITE_URL": "https://dmp.sante.example",
}


def _render_for_new_request(capture, nir: str) -> str:
    person = make_beneficiary(nir=nir, first_name="Claire", last_name="Martin")
    with capture(execute=True):
        Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    letter = Letter.objects.get(subject_uid=person.uid)
    assert letter.state == LetterState.RENDERED and letter.page_count == 1
    return " ".join(letter_text(letter).split())


def test_the_sender_and_the_urls_come_from_the_settings(django_capture_on_commit_callbacks):
    with override_settings(**OPERATOR):
        text = _render_for_new_request(django_capture_on_commit_callbacks, "185057800608491")
    for expected in (
        "Agence régionale du DMP Service des inscriptions TSA 40123 69000 LYON "
        "Tél. : 04 99 00 12 34 dmp.sante.example",
        "Lyon, le ",
        "Rendez-vous sur https://dmp.sante.example/enrollment/activate/",
        "nouvelle demande sur https://dmp.sante.example/enrollment/ :",
        "Appelez le 04 99 00 12 34, du lundi au samedi de 9 h à 17 h, "
        "ou écrivez à inscriptions@dmp.example.",
        "salutations distinguées. Le directeur des inscriptions Jean Exemple",
        "Responsable du traitement : Agence régionale du DMP, Service des inscriptions, "
        "TSA 40123, 69000 LYON.",
        "Conservation : six mois après l'envoi.",
        "(DPO) : dpo@dmp.example.",
    ):
        assert expected in text, expected
    assert "exemple)" not in text and "Paris, le" not in text


def test_the_development_defaults_say_they_are_examples(django_capture_on_commit_callbacks):
    text = _render_for_new_request(django_capture_on_commit_callbacks, "185057800608491")
    assert text.startswith("Opérateur du DMP (exemple) Service des inscriptions (exemple)")
    assert "Le responsable du service des inscriptions (exemple)" in text
    assert "(durée d'exemple)" in text and "Délégué à la protection des données (exemple)" in text


def test_markup_in_the_registry_name_is_printed_literally(django_capture_on_commit_callbacks):
    person = make_beneficiary(
        nir="185057800608491", first_name='<img src="x"/>', last_name="<font>Dupont</font>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    letter = Letter.objects.get(subject_uid=person.uid)
    assert letter.state == LetterState.RENDERED and letter.page_count == 1
    [name_line] = [line for line in person.address["lines"] if "<" in line]
    assert "<img" in name_line and "<font>" in name_line.lower()
    positions = drawn_lines(letter_pdf(letter))
    x, y = positions[name_line]
    left, top, width, height = ADDRESS_FRAME_MM
    assert left <= x <= left + width and top <= y <= top + height
