"""PDF of the letters posted to the address of a person's Vitale card: the one carrying a
creation (or reactivation) code, and the notice that an account was opened or reactivated.

The package ``letters.rendering``: this module draws the page; ``content`` holds the values,
``body`` the wording, ``fonts`` the embedded fonts.

Pure rendering: plain values in, PDF bytes out; no Django, no database, so that the mail-merge
worker and the benchmark can call it directly. The sender's details and the URLs are given by
the caller (from settings, URLs from ``reverse()``): nothing about the operator is written here.

The page: sender, date, reference and subject left of the window, the address in it, the body
below the first fold (11 pt; only the data-protection notice in small print).

Every value that goes into a reportlab paragraph is escaped (``body``); the header, the address
lines and the reference are drawn with ``drawString``, which prints text as it is.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, KeepInFrame, Paragraph, Spacer

from letters.rendering.body import _CodeBox, body, notice_body
from letters.rendering.content import LetterContent, NoticeContent, Sender, french_date
from letters.rendering.fonts import BOLD, FRENCH, REGULAR, prime

# Window of a right-window DL envelope holding an A4 sheet folded in three (NF Z10-011):
# left, top, width, height in millimetres from the top-left corner of the page.
ADDRESS_FRAME_MM = (110, 55, 85, 33)
ADDRESS_FONT = REGULAR
ADDRESS_MAX_SIZE = 10.0  # points; shrunk only when a long line or 7 lines would not fit
ADDRESS_LEADING = 1.2  # times the font size
ADDRESS_PADDING_MM = 2.0  # the sheet moves a little inside the envelope: keep clear of the edges
PAGE_W, PAGE_H = A4
LEFT, RIGHT = 20 * mm, PAGE_W - 20 * mm
_RENDER_LOCK = threading.Lock()
_COLUMN_WIDTH = (ADDRESS_FRAME_MM[0] - 5) * mm - LEFT  # left of the window, 5 mm clear of it
SUBJECT = ("Objet : code de création de votre", "Dossier Médical Partagé")
REACTIVATION_SUBJECT = ("Objet : code de réactivation de votre", "Dossier Médical Partagé")
OPENING_NOTICE_SUBJECT = ("Objet : ouverture de votre", "Dossier Médical Partagé")
REACTIVATION_NOTICE_SUBJECT = ("Objet : réactivation de votre", "Dossier Médical Partagé")


def _top(mm_from_top: float) -> float:
    """PDF y (origin bottom-left) of a distance measured from the top edge, as on a ruler."""
    return PAGE_H - mm_from_top * mm


def _address_size(lines: tuple[str, ...]) -> float:
    """Largest font size up to ADDRESS_MAX_SIZE at which every line fits the frame, padded."""
    _left, _top_mm, width, height = ADDRESS_FRAME_MM
    inner_w = (width - 2 * ADDRESS_PADDING_MM) * mm
    inner_h = (height - 2 * ADDRESS_PADDING_MM) * mm
    face = getFont(ADDRESS_FONT).face
    widest = max([stringWidth(line, ADDRESS_FONT, 1.0) for line in lines] + [1e-6])
    tall = (face.ascent - face.descent) / 1000 + (len(lines) - 1) * ADDRESS_LEADING
    size = min(ADDRESS_MAX_SIZE, inner_w / widest, inner_h / tall)
    return int(size * 10) / 10  # round down: float error must not push a glyph past the edge


def draw_address(canvas: Canvas, lines: tuple[str, ...]) -> None:
    """Address lines, left-aligned from the top of the window frame, as literal text."""
    left, top, _width, _height = ADDRESS_FRAME_MM
    size = _address_size(lines)
    x = (left + ADDRESS_PADDING_MM) * mm
    y = _top(top + ADDRESS_PADDING_MM) - getFont(ADDRESS_FONT).face.ascent / 1000 * size
    canvas.setFont(ADDRESS_FONT, size)
    for line in lines:
        canvas.drawString(x, y, line)
        y -= size * ADDRESS_LEADING


def _new_canvas(buffer: io.BytesIO, title: str, author: str) -> Canvas:
    # invariant=1: no timestamps or random IDs, so that a letter re-rendered is the same file.
    canvas = Canvas(
        buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=REGULAR
    )  # the initial font too: a base-14 font would be referenced, never embedded
    canvas.setTitle(title)  # metadata is shown by viewers and kept by archives: no personal data
    canvas.setAuthor(author)
    canvas.setCreator("dmp-portal")
    prime(canvas)
    return canvas


@dataclass(frozen=True)
class _Page:
    """What the page around a letter's body shows: the same for every kind of letter."""

    title: str  # the PDF's metadata: fixed words, no personal data
    subject: tuple[str, str]
    sender: Sender
    issued_on: date
    reference: str
    portal_address: str
    address_lines: tuple[str, ...]


def _creation_page(content: LetterContent) -> _Page:
    if content.reactivation:
        title, subject = "Code de réactivation de Dossier Médical Partagé", REACTIVATION_SUBJECT
    else:
        title, subject = "Code de création de Dossier Médical Partagé", SUBJECT
    return _Page(
        title,
        subject,
        content.sender,
        content.issued_on,
        content.reference,
        content.portal_address,
        content.address_lines,
    )


def render_creation_letter(content: LetterContent) -> bytes:
    """The letter carrying a creation code, or a reactivation code (``content.reactivation``)."""
    # Scaling the body down to one page costs a second layout pass: pay it only for the rare
    # letter whose long values do not fit as laid out. One letter at a time in a process: the
    # kept paragraphs and the fonts' per-document state are shared (rendering holds the GIL
    # anyway, so threads would not go faster).
    with _RENDER_LOCK:
        return render_fitted(_creation_page(content), lambda: body(content))


def _render_letter(content: LetterContent, shrink: bool) -> bytes:
    """The code letter's PDF, or b"" if the body does not fit on the page without ``shrink``."""
    return _render_page(_creation_page(content), body(content), shrink)


# Bodies known not to fit unscaled, by what they draw (see render_fitted); bounded, cleared
# when full.
_SHRUNK: set[Hashable] = set()
_SHRUNK_MAX = 1024


def render_fitted(page: _Page, make_flow: Callable[[], list[Flowable]]) -> bytes:
    """The page with the body ``make_flow()`` as laid out, or scaled down as a whole when it
    does not fit.

    Trying the body unscaled costs a whole layout and drawing, thrown away when it does not
    fit: a body already found too long (the same words: ``_words``) goes straight to the
    scaled-down pass (a reactivation letter with the usual settings: every one of them). The
    result is the same PDF either way. Call under ``_RENDER_LOCK``.
    """
    flow = make_flow()
    words = _words(flow)
    if words is None or words not in _SHRUNK:
        pdf = _render_page(page, flow, shrink=False)
        if pdf:
            return pdf
        if words is not None:
            if len(_SHRUNK) >= _SHRUNK_MAX:
                _SHRUNK.clear()
            _SHRUNK.add(words)
    return _render_page(page, make_flow(), shrink=True)


def render_notice_letter(content: NoticeContent) -> bytes:
    """The one-page notice that an account was opened or reactivated (no code in it)."""
    if content.reactivation:
        title, subject = "Réactivation de Dossier Médical Partagé", REACTIVATION_NOTICE_SUBJECT
    else:
        title, subject = "Ouverture de Dossier Médical Partagé", OPENING_NOTICE_SUBJECT
    page = _Page(
        title,
        subject,
        content.sender,
        content.issued_on,
        content.reference,
        content.portal_address,
        content.address_lines,
    )
    with _RENDER_LOCK:
        return render_fitted(page, lambda: notice_body(content))


def _draw_header(canvas: Canvas, page: _Page) -> None:
    """Sender block top left, then the date and reference: left of the window, so never seen
    through the envelope; drawn as literal text."""
    sender = page.sender
    text = canvas.beginText(LEFT, _top(18))
    text.setFont(BOLD, 11, 14)
    text.textLine(sender.name)
    text.setFont(REGULAR, 10, 12.5)
    for line in sender.address_lines:
        text.textLine(line)
    text.textLine(f"Tél. : {sender.phone}")
    text.textLine(page.portal_address)
    canvas.drawText(text)
    for line, mm_from_top in (
        (f"{sender.place}, le {french_date(page.issued_on)}", 64),
        (f"Référence : {page.reference}", 70),
    ):  # beside the window: shrunk rather than run into it, whatever the place's name
        canvas.setFont(REGULAR, min(10.0, _COLUMN_WIDTH / stringWidth(line, REGULAR, 1.0)))
        canvas.drawString(LEFT, _top(mm_from_top), line)
    subject = canvas.beginText(LEFT, _top(79))  # fixed words, in the column left of the window
    subject.setFont(BOLD, 11, 14)
    for line in page.subject:
        subject.textLine(line)
    canvas.drawText(subject)


# Characters whose codes in the text fonts are the same in every letter: printable ASCII keeps
# its own, and FRENCH is given its codes first (fonts.prime).
_FIXED_CODES = frozenset(map(chr, range(32, 127))) | frozenset(FRENCH) | {"\u00a0"}
# The drawing of the bodies already drawn, by what they draw (``_drawing``): the PDF operators,
# where each code box goes, and the PDF version the drawing asked for (transparency: 1.4).
# Bounded, cleared when full.
_Place = tuple[tuple[float, ...], float, float, float, float]
_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_BODIES: dict[Hashable, tuple[list[str], list[_Place], tuple[int, int]]] = {}
_BODIES_MAX = 64


def _words(flow: list[Flowable]) -> tuple[Hashable, ...] | None:
    """Everything the body ``flow`` draws but the codes (drawn apart, in boxes of fixed
    height), or None for a flowable of another kind. Read from the flowables themselves, so
    that a letter never gets another letter's words."""
    words: list[Hashable] = []
    for flowable in flow:
        if isinstance(flowable, Paragraph):
            words.append((flowable.text, flowable.bulletText or "", flowable.style))
        elif isinstance(flowable, Spacer):
            words.append((flowable.width, flowable.height))
        elif isinstance(flowable, _CodeBox):
            words.append(_CodeBox)
        else:
            return None
    return tuple(words)


def _drawing(flow: list[Flowable]) -> Hashable | None:
    """``_words``, when drawing them writes the same operators in every letter: None when a
    character's code in the font is not fixed (an address drawn before the body may have given
    other characters codes of their own)."""
    words = _words(flow)
    if words is None:
        return None
    for flowable in flow:
        if isinstance(flowable, Paragraph) and not _FIXED_CODES.issuperset(
            flowable.text + (flowable.bulletText or "")
        ):
            return None
    return words


def _render_page(page: _Page, flow: list[Flowable], shrink: bool) -> bytes:
    """The letter's PDF, or b"" if the body does not fit on the page without ``shrink``.

    The code boxes are drawn after the rest of the body; and a body already drawn
    (the same words in every letter of a run but the code) is not laid out and drawn again:
    its operators are copied from the letter that drew it first. The same PDF either way,
    byte for byte.
    """
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, page.title, page.sender.name)
    _draw_header(canvas, page)
    draw_address(canvas, page.address_lines)
    boxes = [flowable for flowable in flow if isinstance(flowable, _CodeBox)]
    for box in boxes:
        box.defer = True
    words = _drawing(flow)
    drawing = None if words is None else (shrink, words)
    kept = _BODIES.get(drawing) if drawing is not None else None
    if kept is not None:
        canvas._code.extend(kept[0])
        # Drawing has one effect on the document besides its operators: the PDF version that
        # transparency asks for (reportlab's ensureMinPdfVersion), applied here as it would be.
        canvas._doc._pdfVersion = max(canvas._doc._pdfVersion, kept[2])
        _draw_boxes(canvas, boxes, kept[1])
    else:
        start, document = len(canvas._code), _document_state(canvas)
        # The body starts below the first fold (99 mm), so the code is folded inside the letter.
        top, bottom = _top(100), 8 * mm
        frame = Frame(LEFT, bottom, RIGHT - LEFT, top - bottom, 0, 0, 0, 0)
        if shrink:  # scaled down as a whole rather than spill onto a second page
            flow = [KeepInFrame(RIGHT - LEFT, top - bottom, flow, mode="shrink")]
        frame.addFromList(flow, canvas)  # removes from the list what it could place
        if flow:
            if shrink:
                raise RuntimeError("the letter's body does not fit on one page, even scaled down")
            return b""
        places = [box.placed_at for box in boxes]
        # Kept only if drawing it added nothing to the document but operators (no font first
        # used in the body, no object): a copy would not add them.
        if drawing is not None and None not in places and _document_state(canvas) == document:
            if len(_BODIES) >= _BODIES_MAX:
                _BODIES.clear()
            version = canvas._doc._pdfVersion
            _BODIES[drawing] = (canvas._code[start:], places, version)  # type: ignore[assignment]
        _draw_boxes(canvas, boxes, places)  # type: ignore[arg-type]
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _document_state(canvas: Canvas) -> tuple[int, int, int]:
    """How many fonts, objects and graphics states (transparency) the document holds: a body
    whose drawing added one of them names a resource its copy would lack."""
    return (
        len(canvas._doc.fontMapping),
        len(canvas._doc.idToObject),
        len(canvas._extgstate._c),
    )


def _draw_boxes(canvas: Canvas, boxes: list[_CodeBox], places: list[_Place]) -> None:
    for box, (matrix, x, y, spare, width) in zip(boxes, places, strict=True):
        box.defer, box.width = False, width  # as laid out (a kept body is not laid out again)
        if matrix == _IDENTITY:
            box.drawOn(canvas, x, y, spare)
            continue
        canvas.saveState()  # the body was scaled down to fit: the code with it
        canvas.transform(*matrix)
        box.drawOn(canvas, x, y, spare)
        canvas.restoreState()


def render_window_test() -> bytes:
    """One page with the address frame outlined, to check envelopes and folding."""
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, "Essai de fenêtre d'enveloppe", "dmp-portal")
    left, top, width, height = ADDRESS_FRAME_MM
    canvas.setLineWidth(0.5)
    canvas.rect(left * mm, _top(top + height), width * mm, height * mm)
    for fold in (99, 198):  # folding in three: the frame must sit inside the top third
        canvas.line(5 * mm, _top(fold), 12 * mm, _top(fold))
    draw_address(canvas, ("W" * 38,) * 7)  # the worst case: seven lines of the widest letter
    lines = (
        "Essai de fenêtre d'enveloppe - DL à fenêtre à droite, A4 plié en trois",
        f"Cadre d'adresse : {width} x {height} mm, à {left} mm du bord gauche "
        f"et {top} mm du bord haut de la feuille.",
        "Imprimez à 100 % (sans ajustement à la page), pliez aux repères à gauche et glissez",
        "la feuille dans l'enveloppe : le cadre et tout son contenu doivent être visibles.",
    )
    text = canvas.beginText(LEFT, _top(120))
    text.setFont(REGULAR, 10, 14)
    for line in lines:
        text.textLine(line)
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


_STREAM_START_RE = re.compile(rb"stream\r?\n")
_PAGE_RE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")


def page_count(pdf: bytes) -> int:
    """Number of page objects, without a PDF library (pypdf is a test-only dependency).

    Streams are cut out first, so that text drawn on a page ("/Type /Page" in an uncompressed
    content stream) cannot be counted. Enough for PDFs written by this module, which use no
    object streams; not a general PDF parser.
    """
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    return len(_PAGE_RE.findall(_without_streams(pdf)))


def _without_streams(pdf: bytes) -> bytes:
    """The PDF with every ``stream ... endstream`` cut out, as ``re.sub`` of
    ``stream\\r?\\n.*?endstream`` (DOTALL) would, but with ``bytes.find`` for each stream's
    end: the regular expression's lazy scan took 2 ms per letter over the embedded fonts,
    as long as drawing the page."""
    kept, position = [], 0
    while (start := _STREAM_START_RE.search(pdf, position)) is not None:
        end = pdf.find(b"endstream", start.end())
        if end < 0:  # no stream ends after this one: nothing more to cut
            break
        kept.append(pdf[position : start.start()])
        position = end + len(b"endstream")
    kept.append(pdf[position:])
    return b"".join(kept)
