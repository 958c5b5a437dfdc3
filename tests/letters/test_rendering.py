"""The creation-code letter, read back with pypdf: what it says, and where the address lands."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas

from letters.rendering.content import french_date
from letters.rendering.page import (
    ADDRESS_FRAME_MM,
    _render_letter,
    page_count,
    render_creation_letter,
    render_window_test,
)
from tests.letters.factories import make_content, make_sender

MM = 72 / 25.4  # points per millimetre
PAGE_HEIGHT = A4[1]  # 841.89 pt; pypdf's origin is the bottom-left corner
MARKUP = '<font color="red">X</font>&amp;'
IMG = '<img src="x"/>'
# The shape of the payload of CVE-2023-33733: code in a colour attribute.
CVE_PAYLOAD = "<font color=\"[[[getattr(pow, Word('__globals__'))]]]\">exploit</font>"


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def flat_text(pdf: bytes) -> str:
    """All the text of all pages, whitespace collapsed, so wrapping does not matter."""
    return " ".join(" ".join(page.extract_text() for page in read(pdf).pages).split())


def base_font(name: str) -> str:
    """The font's own name, without the "AAAAAA+" tag of an embedded subset."""
    return name.lstrip("/").split("+", 1)[-1]


def drawn_strings(pdf: bytes) -> list[tuple[str, float, float, str, float]]:
    """(text, x, y, font, size) of each string shown on the first page, in points, in the
    order they are drawn."""
    shown = []

    def visitor(text, cm, tm, font_dict, font_size):
        if not text.strip():
            return
        # Position in user space = text matrix x current transformation matrix.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = font_size * tm[3] * cm[3]  # no rotation or skew in these letters
        shown.append((text.strip(), x, y, base_font(font_dict["/BaseFont"]), size))

    read(pdf).pages[0].extract_text(visitor_text=visitor)
    return shown


def assert_address_in_frame(pdf: bytes, lines: tuple[str, ...]) -> None:
    left, top, width, height = ADDRESS_FRAME_MM
    shown = drawn_strings(pdf)
    for line in lines:
        matches = [item for item in shown if item[0] == line.strip()]
        assert matches, f"address line {line!r} not drawn"
        _text, x, y, font, size = matches[0]
        face = getFont(font).face
        end_x = x + stringWidth(line, font, size)
        glyph_top = PAGE_HEIGHT - (y + face.ascent / 1000 * size)  # from the top edge
        glyph_bottom = PAGE_HEIGHT - (y + face.descent / 1000 * size)
        baseline = PAGE_HEIGHT - y
        assert left * MM <= x and end_x <= (left + width) * MM, (line, x / MM, end_x / MM)
        assert top * MM <= baseline <= (top + height) * MM, (line, baseline / MM)
        assert top * MM <= glyph_top and glyph_bottom <= (top + height) * MM, line


def test_letter_says_code_expiry_date_reference_and_steps():
    text = flat_text(render_creation_letter(make_content()))
    for expected in (
        "Objet : code de création de votre Dossier Médical Partagé",
        "Paris, le 28 novembre 2026",
        "Référence : L-7K2QD9XW",
        "Madame, Monsieur,",
        "7K2Q-D9XW-3MNP",
        "Ce code est valable jusqu'au 27 janvier 2027 inclus.",
        "1. Rendez-vous sur https://dmp.example.fr/enrollment/activate/",
        "2. Saisissez votre numéro de sécurité sociale et ce code",
        "3. Choisissez votre mot de passe ; votre identifiant de connexion s'affiche",
        "4. Connectez-vous, puis activez la double authentification sur votre téléphone.",
        "nouvelle demande sur https://dmp.example.fr/enrollment/",
        "Il remplace celui-ci, qui ne fonctionnera plus.",
        "Personne ne vous demandera jamais ce code par téléphone, par courriel ou par SMS. "
        "Ne le communiquez à personne.",
        "Une question ? Appelez le 01 99 00 12 34, appel non surtaxé, du lundi au vendredi de "
        "8 h à 18 h, ou écrivez à contact@example.org.",
        "Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées. "
        "La cheffe du service des inscriptions",
    ):
        assert expected in text, expected
    # Civility, then the code; the closing formula and the signatory after the body.
    assert text.index("Madame, Monsieur,") < text.index("7K2Q-D9XW-3MNP")
    assert text.index("Personne ne vous") < text.index("Veuillez agréer")


def test_sender_block_says_who_writes_and_how_to_reach_them():
    text = flat_text(render_creation_letter(make_content()))
    assert text.startswith(
        "Agence du dossier médical Service des inscriptions TSA 12345 75000 PARIS "
        "Tél. : 01 99 00 12 34 dmp.example.fr"
    )


def test_date_and_reference_stay_left_of_the_window():
    content = make_content(sender=make_sender(place="Saint-Rémy-de-Provence-sur-Loire-et-Cher"))
    shown = drawn_strings(render_creation_letter(content))
    for start in ("Saint-Rémy-de-Provence-sur-Loire-et-Cher, le 28 novembre 2026", "Référence"):
        [(text, x, _y, font, size)] = [item for item in shown if item[0].startswith(start)]
        assert x + stringWidth(text, font, size) <= (ADDRESS_FRAME_MM[0] - 5) * MM


def test_data_protection_notice_is_complete():
    text = flat_text(render_creation_letter(make_content()))
    notice = text[text.index("Protection de vos données personnelles.") :]
    for expected in (
        "Responsable du traitement : Agence du dossier médical, Service des inscriptions, "
        "TSA 12345, 75000 PARIS.",
        "Finalité : vous adresser, à votre demande, le code de création",
        "Base légale : mission d'intérêt public (article 6.1.e du RGPD ; articles L. 1111-14",
        "Données : vos nom, prénoms et adresse",
        "aucune donnée de santé",
        "Destinataires : les agents habilités du service des inscriptions et le prestataire qui "
        "imprime et poste ce courrier.",
        "Conservation : un an après l'envoi.",
        "Vos droits : accès, rectification, limitation et opposition",
        "délégué à la protection des données (DPO) : DPO, TSA 12346, 75000 PARIS.",
        "réclamation à la CNIL (www.cnil.fr)",
    ):
        assert expected in notice, expected


def test_every_font_is_embedded_dejavu():
    page = read(render_creation_letter(make_content())).pages[0]
    fonts = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        fonts[base_font(font["/BaseFont"])] = font["/FontDescriptor"].get_object()
    # Regular and bold for the text, mono bold for the code; no other font, none left out.
    assert set(fonts) == {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono-Bold"}
    for descriptor in fonts.values():
        program = descriptor["/FontFile2"].get_object()  # an embedded TrueType program
        assert len(program.get_data()) > 1000


def test_the_body_is_set_at_11_points_or_more_only_the_notice_is_small_print():
    shown = drawn_strings(render_creation_letter(make_content()))
    body = [item for item in shown if PAGE_HEIGHT - item[2] > 100 * MM]  # below the fold
    body.sort(key=lambda item: -item[2])  # top to bottom: the code is drawn after the body
    notice = next(n for n, item in enumerate(body) if item[0].startswith("Protection de vos"))
    assert body[0][0] == "Madame, Monsieur," and notice > 20
    assert [item for item in body[:notice] if item[4] < 11] == []
    assert {item[3] for item in body[:notice]} == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSansMono-Bold",
    }
    assert all(7 <= item[4] < 11 for item in body[notice:])


def test_code_is_large_text_inside_the_fold_and_never_an_image():
    pdf = render_creation_letter(make_content())
    [(_text, _x, y, font, size)] = [s for s in drawn_strings(pdf) if s[0] == "7K2Q-D9XW-3MNP"]
    assert (font, size) == ("DejaVuSansMono-Bold", 24)
    assert PAGE_HEIGHT - y > 99 * MM  # below the first fold: not readable through the envelope
    assert "/XObject" not in read(pdf).pages[0]["/Resources"]  # no QR code, no image at all


def test_no_nir_nor_any_long_number():
    text = flat_text(render_creation_letter(make_content()))
    # A NIR is 13 digits (15 with its key), often printed in groups: none of it, in any form.
    assert not re.search(r"\d(?:[ \xa0]?\d){12,}", text)


def test_first_of_the_month_is_written_1er():
    assert french_date(datetime.date(2026, 12, 1)) == "1er décembre 2026"
    assert french_date(datetime.date(2027, 8, 15)) == "15 août 2027"


@pytest.mark.parametrize(
    "lines",
    [
        ("MADAME CLAIRE DUPONT", "12 RUE DES LILAS", "75011 PARIS"),
        ("M DUPONT", "75011 PARIS"),
        ("W" * 38,) * 7,  # the widest capital, seven times: must shrink, never overflow
        ("@" * 38,) * 7,  # wider still in DejaVu Sans
        (MARKUP, IMG, "75011 PARIS"),
    ],
    ids=["usual", "two-lines", "seven-lines-of-W", "seven-lines-of-at", "markup"],
)
def test_every_address_line_lies_inside_the_window_frame(lines):
    assert_address_in_frame(render_creation_letter(make_content(address_lines=lines)), lines)


def test_markup_in_values_is_printed_literally():
    pdf = render_creation_letter(
        make_content(
            reference=f"L-{IMG}",
            address_lines=(MARKUP, IMG, "75011 PARIS"),
            activate_url="https://dmp.example.fr/<b>x</b>&amp;/enrollment/activate/",
            request_url="https://dmp.example.fr/<img/>/",
            sender=make_sender(
                name=MARKUP,
                address_lines=(IMG, "75000 PARIS"),
                phone=MARKUP,
                phone_hours=CVE_PAYLOAD,
                email=IMG,
                dpo_contact=MARKUP,
                signatory=(CVE_PAYLOAD,),
                retention=MARKUP,
            ),
        )
    )
    text = flat_text(pdf)
    # Address; name (header, notice); phone (header, question); DPO; retention.
    assert text.count(MARKUP) == 7
    assert text.count(CVE_PAYLOAD) == 2  # opening hours, signatory
    assert f"Référence : L-{IMG}" in text
    assert f"Appelez le {MARKUP}, {CVE_PAYLOAD}, ou écrivez à {IMG}." in text
    assert f"Responsable du traitement : {MARKUP}, {IMG}, 75000 PARIS." in text
    assert "https://dmp.example.fr/<b>x</b>&amp;/enrollment/activate/" in text
    assert "https://dmp.example.fr/<img/>/" in text
    assert page_count(pdf) == 1


def test_french_characters_survive():
    pdf = render_creation_letter(
        make_content(sender=make_sender(phone_hours="Œuvre « cœur » : é è à ç ù ê î ô"))
    )
    text = flat_text(pdf)
    for char in "éèàç«»":
        assert char in flat_text(render_creation_letter(make_content())), char
    assert "Œuvre « cœur » : é è à ç ù ê î ô" in text


def test_characters_beyond_french_print_too():
    """The font subsets shared by every letter hold French; other letters still print."""
    lines = ("MONSIEUR ŁUKASZ ØSTERGÅRD", "STRAẞE 7 ĐAKOVO", "75011 PARIS")
    pdf = render_creation_letter(make_content(address_lines=lines))
    assert all(line in flat_text(pdf) for line in lines)
    assert_address_in_frame(pdf, lines)
    usual = flat_text(render_creation_letter(make_content()))  # and the next letter is whole
    assert "MADAME CLAIRE DUPONT" in usual and "Ø" not in usual


def test_one_page_even_with_long_values():
    portal = "https://" + "sous-domaine-tres-long." * 6 + "example.fr"
    long = make_content(
        sender=make_sender(
            name="Caisse primaire d'assurance maladie",
            address_lines=("Service des inscriptions",) * 5,
            phone_hours="appelez-nous du lundi au vendredi " * 20,
            dpo_contact="Délégué à la protection des données " * 5,
            signatory=("La cheffe du service des inscriptions",) * 3,
        ),
        activate_url=portal + "/enrollment/activate/",
        request_url=portal + "/enrollment/",
        address_lines=("W" * 38,) * 7,
    )
    assert _render_letter(make_content(), shrink=False)  # the usual letter fits as laid out
    assert _render_letter(long, shrink=False) == b""  # this one needs scaling down
    for content in (make_content(), long):
        pdf = render_creation_letter(content)
        assert len(read(pdf).pages) == 1
        assert page_count(pdf) == 1
    for changes in ({"previous_code_blocked_on": datetime.date(2026, 11, 1)}, {}):
        # A letter replacing a code fits as laid out too: the body stays at 11 points.
        assert _render_letter(make_content(**changes), shrink=False)
    text = flat_text(render_creation_letter(long))
    assert "Ne le communiquez à personne." in text and "(www.cnil.fr)" in text  # nothing cut
    assert_address_in_frame(render_creation_letter(long), long.address_lines)


def test_metadata_holds_no_personal_data():
    content = make_content()
    metadata = read(render_creation_letter(content)).metadata
    assert metadata.title == "Code de création de Dossier Médical Partagé"
    assert metadata.author == "Agence du dossier médical"
    everything = " ".join(str(value) for value in metadata.values())
    for secret in (content.creation_code, content.reference, *content.address_lines):
        assert secret not in everything


def test_same_letter_renders_to_the_same_bytes():
    assert render_creation_letter(make_content()) == render_creation_letter(make_content())


@pytest.mark.parametrize(
    "changes",
    [
        {"address_lines": ("ONE LINE",)},
        {"address_lines": ("A",) * 8},
        {"address_lines": ("A" * 39, "75011 PARIS")},
        {"address_lines": ("MADAME DUPONT\n12 RUE", "75011 PARIS")},
        {"creation_code": "7K2QD9XW3MNP"},
        {"creation_code": "7K2Q-D9XW-3MNI"},  # I is not in Crockford's alphabet
        {"creation_code": "7k2q-d9xw-3mnp"},
        {"expires_on": datetime.date(2026, 11, 27)},
        {"activate_url": "javascript:alert(1)"},
        {"request_url": "/enrollment/"},
        {"portal_address": "dmp.example.fr\n"},
    ],
)
def test_invalid_content_is_refused(changes):
    with pytest.raises(ValueError):
        make_content(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "A" * 39},
        {"address_lines": ()},
        {"address_lines": ("A",) * 6},
        {"address_lines": ("A" * 39,)},
        {"signatory": ()},
        {"signatory": ("A",) * 4},
        {"dpo_contact": "DPO\r\n75000 PARIS"},
        {"phone": "01 99\t00"},
    ],
)
def test_invalid_sender_is_refused(changes):
    with pytest.raises(ValueError):
        make_sender(**changes)


def test_content_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_content().creation_code = "AAAA-AAAA-AAAA"


def test_window_test_is_one_page_drawing_the_frame():
    pdf = render_window_test()
    reader = read(pdf)
    assert len(reader.pages) == 1 and page_count(pdf) == 1
    text = flat_text(pdf)
    assert "85 x 33 mm" in text
    assert "110 mm du bord gauche" in text and "55 mm du bord haut" in text
    page = reader.pages[0]
    rectangles = [
        [float(value) for value in operands]
        for operands, operator in ContentStream(page.get_contents(), reader).operations
        if operator == b"re"
    ]
    left, top, width, height = ADDRESS_FRAME_MM
    expected = [left * MM, PAGE_HEIGHT - (top + height) * MM, width * MM, height * MM]
    assert any(rect == pytest.approx(expected, abs=0.01) for rect in rectangles), rectangles
    assert_address_in_frame(pdf, ("W" * 38,) * 7)


def test_page_count_counts_pages_not_text_about_pages():
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)  # text readable in the streams
    for _index in range(3):
        canvas.drawString(100, 100, "/Type /Page /Type /Page")
        canvas.showPage()
    canvas.save()
    pdf = buffer.getvalue()
    assert b"/Type /Page /Type /Page" in pdf
    assert page_count(pdf) == len(read(pdf).pages) == 3
    with pytest.raises(ValueError):
        page_count(b"<html>not a pdf</html>")


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        (
            {"previous_code_blocked_on": datetime.date(2026, 11, 1)},
            "Le code de création envoyé dans notre précédent courrier a été bloqué le 1er "
            "novembre 2026 après plusieurs saisies erronées. Il ne fonctionne plus : utilisez "
            "le code ci-dessous.",
        ),
        (
            {"previous_code_tried_on": datetime.date(2026, 11, 20)},
            "Le code de création envoyé dans notre précédent courrier a fait l'objet de "
            "plusieurs saisies erronées, la dernière le 20 novembre 2026.",
        ),
    ],
)
def test_a_letter_replacing_a_tried_code_tells_its_holder(changes, said):
    pdf = render_creation_letter(make_content(**changes))
    text = flat_text(pdf)
    assert said in text
    assert "Si ce n'était pas vous" in text and "signalez-le-nous" in text
    assert "7K2Q-D9XW-3MNP" in text and "(www.cnil.fr)" in text
    assert page_count(pdf) == 1
    # Before the code: the holder reads it before using the new one.
    assert text.index(said) < text.index("7K2Q-D9XW-3MNP")
    assert "saisies erronées" not in flat_text(render_creation_letter(make_content()))
