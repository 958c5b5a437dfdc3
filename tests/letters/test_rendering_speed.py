"""What makes rendering cheaper (issue 20, item 8) and must not change a letter: the body too
long to fit goes straight to the scaled-down pass, a body already drawn is copied rather than
laid out and drawn again, and the page count skips the streams without a regular
expression's lazy scan."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re

import pytest
from pypdf import PdfReader
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from letters.rendering import page
from letters.rendering.body import body
from letters.rendering.content import NoticeContent
from letters.rendering.fonts import MONO_BOLD, REGULAR
from letters.rendering.page import (
    _render_letter,
    page_count,
    render_creation_letter,
    render_notice_letter,
)
from tests.letters.factories import make_content, make_sender

LONG_SENDER = make_sender(phone_hours="appelez-nous du lundi au vendredi " * 20)


def _words(content) -> object:
    return page._words(body(content))


def _spy(monkeypatch) -> list[bool]:
    """The ``shrink`` of every page drawn from now on."""
    calls: list[bool] = []
    draw = page._render_page

    def spied(page_, flow, shrink):
        calls.append(shrink)
        return draw(page_, flow, shrink)

    monkeypatch.setattr(page, "_render_page", spied)
    return calls


def test_a_body_known_too_long_is_drawn_once_and_the_pdf_is_unchanged(monkeypatch):
    first = make_content(sender=LONG_SENDER, creation_code="7K2Q-D9XW-3MNP")
    second = make_content(
        sender=LONG_SENDER,
        creation_code="AAAA-BBBB-CCCC",
        reference="L-OTHER0001",
        address_lines=("MONSIEUR PAUL MARTIN", "3 RUE HAUTE", "69001 LYON"),
    )
    assert _render_letter(second, shrink=False) == b""  # it needs scaling down
    assert _words(first) == _words(second)  # the code and the address are not in the body
    page._SHRUNK.clear()
    render_creation_letter(first)  # learns that these words do not fit
    assert _words(first) in page._SHRUNK
    calls = _spy(monkeypatch)
    pdf = render_creation_letter(second)
    assert calls == [True]  # the scaled-down pass only, no wasted first pass
    assert pdf == _render_letter(second, shrink=True)  # the same bytes as before
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1 and "AAAA-BBBB-CCCC" in (
        PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    )


def test_a_body_that_fits_is_still_drawn_once_at_full_size(monkeypatch):
    page._SHRUNK.clear()
    content = make_content()
    calls = _spy(monkeypatch)
    pdf = render_creation_letter(content)
    assert calls == [False] and pdf == _render_letter(content, shrink=False)
    assert _words(content) not in page._SHRUNK


def test_the_words_kept_are_every_word_of_the_body():
    base = make_content()
    for changes in (
        {"reactivation": True},
        {"expires_on": base.expires_on.replace(day=1)},
        {"previous_code_tried_on": datetime.date(2026, 11, 1)},
        {"sender": make_sender(email="autre@example.org")},
        {"request_url": "https://dmp.example.fr/a-much-longer-address/enrollment/"},
    ):
        assert _words(dataclasses.replace(base, **changes)) != _words(base)


def _regex_page_count(pdf: bytes) -> int:
    """The former page count (a lazy DOTALL regular expression), the reference."""
    streams = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z0-9])", streams.sub(b"", pdf)))


def test_page_count_agrees_with_the_former_regular_expression():
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    for _index in range(4):
        canvas.drawString(100, 100, "/Type /Page stream\n/Type /Page endstream /Type /Page")
        canvas.showPage()
    canvas.save()
    samples = [
        buffer.getvalue(),
        render_creation_letter(make_content()),
        b"%PDF-1.4 /Type /Page stream\r\n/Type /Page",  # a stream never ended
        b"%PDF-1.4 /Type /Page stream\n/Type /Page endstream /Type /Pages /Type /Page",
    ]
    for pdf in samples:
        assert page_count(pdf) == _regex_page_count(pdf)
    assert page_count(samples[1]) == 1 and page_count(samples[2]) == 2  # never ended: kept


def _notice(content) -> NoticeContent:
    return NoticeContent(
        reference=content.reference,
        issued_on=content.issued_on,
        address_lines=content.address_lines,
        opened_on=content.issued_on,
        reactivation=False,
        portal_address=content.portal_address,
        sender=content.sender,
    )


@pytest.mark.parametrize("kind", ["creation", "blocked", "reactivation", "odd address", "notice"])
def test_a_kept_body_gives_the_same_pdf_as_one_drawn_afresh(kind, monkeypatch):
    first = make_content()
    second = make_content(
        creation_code="AAAA-BBBB-CCCC",
        reference="L-OTHER0001",
        address_lines=("MONSIEUR ŁUKASZ ØSTBY", "3 RUE HAUTE", "69001 LYON"),
    )
    changes = {
        "blocked": {"previous_code_blocked_on": datetime.date(2026, 11, 1)},
        "reactivation": {"reactivation": True},  # scaled down to fit: the code with it
    }.get(kind, {})
    first, second = (dataclasses.replace(c, **changes) for c in (first, second))
    render = render_creation_letter
    if kind == "notice":
        first, second, render = _notice(first), _notice(second), render_notice_letter
    page._BODIES.clear()
    fresh = render(second)  # drawn afresh (and kept)
    page._BODIES.clear()
    render(first)  # another letter of the same shape draws and keeps the body
    assert len(page._BODIES) == 1
    frames: list[int] = []
    monkeypatch.setattr(page.Frame, "addFromList", lambda *args: frames.append(1))
    assert render(second) == fresh  # copied, not drawn: byte for byte the same PDF
    assert frames == []
    text = PdfReader(io.BytesIO(fresh)).pages[0].extract_text()
    assert "ØSTBY" in text and ("AAAA-BBBB-CCCC" in text) != (kind == "notice")


def test_a_body_with_characters_of_its_own_is_not_kept():
    page._BODIES.clear()
    content = make_content(sender=make_sender(phone_hours="du lundi au vendredi, ☎ 8 h - 18 h"))
    render_creation_letter(content)
    assert page._BODIES == {}  # its codes in the font could depend on the address before it


def test_a_body_that_adds_a_font_to_the_document_is_not_kept():
    page._BODIES.clear()
    style = ParagraphStyle("mono", fontName=MONO_BOLD, fontSize=11, leading=14)
    flow = [Paragraph("Only in the body", style)]
    letter_page = page._creation_page(make_content())
    pdf = page._render_page(letter_page, flow, shrink=False)
    assert pdf and page._BODIES == {}  # a copy would name a font the document never got
    page._render_page(letter_page, [Paragraph("In the body", page_body_style())], shrink=False)
    assert len(page._BODIES) == 1  # the header's fonts only: kept


def page_body_style() -> ParagraphStyle:
    return ParagraphStyle("plain", fontName=REGULAR, fontSize=11, leading=14)


def test_a_body_drawn_with_transparency_is_drawn_afresh_in_every_letter():
    # Transparency adds a graphics state to the page's resources: a copied body would name one
    # its PDF lacks. Such a body is not kept, and each letter is the same PDF, resources and all.
    seethrough = ParagraphStyle(
        "seethrough", fontName=REGULAR, fontSize=11, leading=14, textColor=Color(0, 0, 0, 0.5)
    )
    letter_page = page._creation_page(make_content())
    page._BODIES.clear()
    first = page._render_page(letter_page, [Paragraph("À moitié vu", seethrough)], shrink=False)
    second = page._render_page(letter_page, [Paragraph("À moitié vu", seethrough)], shrink=False)
    assert b"/ExtGState" in first
    assert second == first
