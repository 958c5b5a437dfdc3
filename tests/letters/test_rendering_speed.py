"""What makes rendering cheaper (issue 20, item 8) and must not change a letter: the body too
long to fit goes straight to the scaled-down pass, and the page count skips the streams
without a regular expression's lazy scan."""

from __future__ import annotations

import dataclasses
import io
import re

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from letters.rendering import page
from letters.rendering.page import (
    _render_letter,
    body_shape,
    page_count,
    render_creation_letter,
)
from tests.letters.factories import make_content, make_sender

LONG_SENDER = make_sender(phone_hours="appelez-nous du lundi au vendredi " * 20)


def test_a_body_known_too_long_is_drawn_once_and_the_pdf_is_unchanged(monkeypatch):
    first = make_content(sender=LONG_SENDER, creation_code="7K2Q-D9XW-3MNP")
    second = make_content(
        sender=LONG_SENDER,
        creation_code="AAAA-BBBB-CCCC",
        reference="L-OTHER0001",
        address_lines=("MONSIEUR PAUL MARTIN", "3 RUE HAUTE", "69001 LYON"),
    )
    assert _render_letter(second, shrink=False) == b""  # it needs scaling down
    assert body_shape(first) == body_shape(second)  # the code and address do not change it
    page._SHRUNK.clear()
    render_creation_letter(first)  # learns that this shape does not fit
    assert body_shape(first) in page._SHRUNK
    calls: list[bool] = []
    draw = page._render_page
    monkeypatch.setattr(
        page,
        "_render_page",
        lambda page_, flow, shrink: calls.append(shrink) or draw(page_, flow, shrink),
    )
    pdf = render_creation_letter(second)
    assert calls == [True]  # the scaled-down pass only, no wasted first pass
    assert pdf == _render_letter(second, shrink=True)  # the same bytes as before
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1 and "AAAA-BBBB-CCCC" in (
        PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    )


def test_a_body_that_fits_is_still_drawn_once_at_full_size(monkeypatch):
    page._SHRUNK.clear()
    content = make_content()
    calls: list[bool] = []
    draw = page._render_page
    monkeypatch.setattr(
        page,
        "_render_page",
        lambda page_, flow, shrink: calls.append(shrink) or draw(page_, flow, shrink),
    )
    pdf = render_creation_letter(content)
    assert calls == [False] and pdf == _render_letter(content, shrink=False)
    assert body_shape(content) not in page._SHRUNK


def test_the_shape_keeps_what_changes_the_body():
    base = make_content()
    for changes in (
        {"reactivation": True},
        {"expires_on": base.expires_on.replace(day=1)},
        {"sender": LONG_SENDER},
        {"request_url": "https://dmp.example.fr/a-much-longer-address/enrollment/"},
    ):
        assert body_shape(dataclasses.replace(base, **changes)) != body_shape(base)


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
