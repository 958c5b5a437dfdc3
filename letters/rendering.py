"""PDF of the letter that posts a creation code to the address of a person's Vitale card.

Pure rendering: plain values in, PDF bytes out; no Django, no database, so that the mail-merge
worker and the benchmark can call it directly. Only the PDF base-14 fonts are used (Helvetica,
Courier): nothing to embed, and their WinAnsi encoding covers French (é, è, à, ç, œ, « »).

Reportlab's ``Paragraph`` parses markup, and has run code hidden in it (CVE-2023-33733): every
value that goes into a paragraph is escaped by ``_esc``; the address lines, the reference and the
code are drawn with ``drawString``, which prints text as it is.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, KeepInFrame, Paragraph, Spacer

DEFAULT_SENDER: tuple[str, ...] = (
    "Dossier médical partagé",
    "Service des inscriptions",
    "TSA 12345",
    "75000 PARIS",
)
DEFAULT_CONTACT = (
    "Une question ? 01 23 45 67 89 (appel non surtaxé), du lundi au vendredi de 8 h à 18 h"
)
PLACE = "Paris"  # printed before the date: "Paris, le 28 novembre 2026"

# Window of a right-window DL envelope holding an A4 sheet folded in three (NF Z10-011):
# left, top, width, height in millimetres from the top-left corner of the page.
ADDRESS_FRAME_MM = (110, 55, 85, 33)
ADDRESS_FONT = "Helvetica"
ADDRESS_MAX_SIZE = 10.0  # points; shrunk only when a long line or 7 lines would not fit
ADDRESS_LEADING = 1.2  # times the font size
ADDRESS_PADDING_MM = 2.0  # the sheet moves a little inside the envelope: keep clear of the edges
CODE_FONT, CODE_SIZE = "Courier-Bold", 24.0  # fixed width: each symbol stands apart, 0 vs O

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_CODE_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){2}")  # Crockford, no ILOU
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
PAGE_W, PAGE_H = A4
LEFT, RIGHT = 20 * mm, PAGE_W - 20 * mm
GREY = Color(0.93, 0.93, 0.93)


@dataclass(frozen=True)
class LetterContent:
    reference: str  # non-secret letter reference, e.g. "L-7K2QD9XW"
    issued_on: datetime.date
    address_lines: tuple[str, ...]  # 2 to 7 lines of at most 38 characters, NF Z10-011
    creation_code: str  # "XXXX-XXXX-XXXX"
    expires_on: datetime.date
    portal_url: str  # "https://dmp.example.fr"
    sender_lines: tuple[str, ...] = DEFAULT_SENDER
    contact_line: str = DEFAULT_CONTACT
    # The code this letter replaces was burned by wrong tries on that day...
    previous_code_blocked_on: datetime.date | None = None
    # ...or only slowed down by them, the last one on that day.
    previous_code_tried_on: datetime.date | None = None

    def __post_init__(self) -> None:
        # Fail before printing rather than post a letter with a clipped address or a wrong code.
        if not 2 <= len(self.address_lines) <= 7:
            raise ValueError("an address has 2 to 7 lines")
        values = (*self.address_lines, *self.sender_lines, self.reference, self.contact_line)
        for line in (*values, self.portal_url):
            if _CONTROL_RE.search(line):
                raise ValueError("control characters (line breaks, tabs) are not printable")
        if any(len(line) > 38 for line in self.address_lines):
            raise ValueError("an address line has at most 38 characters")
        if not _CODE_RE.fullmatch(self.creation_code):
            raise ValueError("the creation code is XXXX-XXXX-XXXX in Crockford's base32")
        if self.expires_on < self.issued_on:
            raise ValueError("the code cannot expire before the letter is issued")
        if not re.fullmatch(r"https?://\S+", self.portal_url):
            raise ValueError("the portal URL is an absolute http(s) URL")


def french_date(day: datetime.date) -> str:
    """'1er décembre 2026', '28 novembre 2026': spelled out, whatever the process locale."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def _esc(value: str) -> str:
    return escape(value)  # &, <, > : enough outside attributes, where values never go


def _top(mm_from_top: float) -> float:
    """PDF y (origin bottom-left) of a distance measured from the top edge, as on a ruler."""
    return PAGE_H - mm_from_top * mm


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13, spaceAfter=5)
    return {
        "body": base,
        "title": ParagraphStyle(
            "title", base, fontName="Helvetica-Bold", fontSize=14, leading=17, spaceAfter=10
        ),
        "heading": ParagraphStyle(
            "heading", base, fontName="Helvetica-Bold", fontSize=11, spaceBefore=6, spaceAfter=4
        ),
        "step": ParagraphStyle("step", base, leftIndent=14, bulletIndent=2, spaceAfter=3),
        "warning": ParagraphStyle(
            "warning",
            base,
            fontName="Helvetica-Bold",
            backColor=GREY,
            borderPadding=5,
            spaceBefore=10,
            spaceAfter=12,
        ),
        "small": ParagraphStyle(
            "small", base, fontSize=7.5, leading=9.5, textColor=Color(*[0.25] * 3)
        ),
    }


_STYLES = _styles()  # built once: paragraphs only read them


class _CodeBox(Flowable):
    """The code on a grey band, drawn as plain text: never markup, never a QR code."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, 38.0

    def draw(self) -> None:
        self.canv.setFillColor(GREY)
        self.canv.roundRect(0, 0, self.width, 38.0, 4, stroke=0, fill=1)
        self.canv.setFillColor(black)
        self.canv.setFont(CODE_FONT, CODE_SIZE)
        self.canv.drawCentredString(self.width / 2, 12.0, self.code)


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


IF_NOT_YOU = (
    "Si ce n'était pas vous, une autre personne connaît peut-être votre numéro de sécurité "
    "sociale et tente de créer votre dossier à votre place : ne communiquez ce nouveau code à "
    "personne, activez votre dossier dès que possible et signalez-le-nous au numéro indiqué "
    "en bas de ce courrier."
)


def _previous_code_notice(content: LetterContent) -> list[Flowable]:
    """What wrong tries did to the previous code, so that its holder learns of an attempt."""
    if content.previous_code_blocked_on is not None:
        what = (
            "Le code de création envoyé dans notre précédent courrier a été bloqué le "
            f"{french_date(content.previous_code_blocked_on)} après plusieurs saisies erronées."
        )
    elif content.previous_code_tried_on is not None:
        what = (
            "Le code de création envoyé dans notre précédent courrier a fait l'objet de "
            "plusieurs saisies erronées, la dernière le "
            f"{french_date(content.previous_code_tried_on)}."
        )
    else:
        return []
    return [
        Paragraph(
            f"{what} Il ne fonctionne plus : utilisez le code ci-dessous. {IF_NOT_YOU}",
            _STYLES["warning"],
        )
    ]


def _body(content: LetterContent) -> list[Flowable]:
    st = _STYLES
    portal = content.portal_url.rstrip("/")
    activate, request = _esc(portal + "/enrollment/activate/"), _esc(portal + "/enrollment/")
    expiry = french_date(content.expires_on)
    steps = (
        f"Rendez-vous sur <b>{activate}</b>",
        "Saisissez votre numéro de sécurité sociale et ce code.",
        "Choisissez votre mot de passe ; votre identifiant de connexion s'affiche : notez-le.",
        "Connectez-vous et activez la double authentification avec une application "
        "sur votre téléphone.",
    )
    controller = _esc(content.sender_lines[0]) if content.sender_lines else "l'expéditeur"
    return [
        Paragraph("Votre code de création de Dossier Médical Partagé", st["title"]),
        Paragraph("Madame, Monsieur,", st["body"]),
        *_previous_code_notice(content),
        Paragraph(
            "Vous avez demandé la création de votre Dossier Médical Partagé (« DMP »). "
            "Voici votre code de création, à usage unique :",
            st["body"],
        ),
        _CodeBox(content.creation_code),
        Spacer(0, 6),
        Paragraph(f"Ce code est valable jusqu'au <b>{expiry}</b> inclus.", st["body"]),
        Paragraph("Pour activer votre dossier", st["heading"]),
        *(Paragraph(text, st["step"], bulletText=f"{n}.") for n, text in enumerate(steps, 1)),
        Paragraph("Code perdu, expiré ou jamais reçu ?", st["heading"]),
        Paragraph(
            f"Faites une nouvelle demande sur <b>{request}</b> : vous recevrez un nouveau code "
            "par courrier. Le nouveau code remplace celui-ci, qui ne fonctionnera plus.",
            st["body"],
        ),
        Paragraph(
            "Personne ne vous demandera jamais ce code par téléphone, par courriel ou par SMS. "
            "Ne le communiquez à personne.",
            st["warning"],
        ),
        Paragraph(_esc(content.contact_line), st["body"]),
        Spacer(0, 10),
        Paragraph(
            f"<b>Protection de vos données.</b> Responsable du traitement : {controller}. "
            "Le traitement mis en œuvre a pour seule finalité de vous envoyer ce code de "
            "création (mission d'intérêt public, articles L. 1111-14 et suivants du code de la "
            "santé publique). Données utilisées : votre identité (nom, prénoms) et votre adresse, "
            "issues des données de référence de votre carte Vitale ; aucune donnée de santé. "
            "Vous disposez d'un droit d'accès et de rectification : écrivez au délégué à la "
            "protection des données (DPO) à l'adresse de l'expéditeur en haut de ce courrier. "
            "Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une "
            "réclamation à la CNIL (www.cnil.fr).",
            st["small"],
        ),
    ]


def _new_canvas(buffer: io.BytesIO, title: str, author: str) -> Canvas:
    # invariant=1: no timestamps or random IDs, so that a letter re-rendered is the same file.
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(title)  # metadata is shown by viewers and kept by archives: no personal data
    canvas.setAuthor(author)
    canvas.setCreator("dmp-portal")
    return canvas


def render_creation_letter(content: LetterContent) -> bytes:
    # Scaling the body down to one page costs a second layout pass (a third of the time):
    # pay it only for the rare letter whose long values do not fit as laid out.
    return _render_letter(content, shrink=False) or _render_letter(content, shrink=True)


def _render_letter(content: LetterContent, shrink: bool) -> bytes:
    """The letter's PDF, or b"" if the body does not fit on the page without ``shrink``."""
    buffer = io.BytesIO()
    author = content.sender_lines[0] if content.sender_lines else "Dossier médical partagé"
    canvas = _new_canvas(buffer, "Code de création de Dossier Médical Partagé", author)

    text = canvas.beginText(LEFT, _top(20))  # sender block, top-left, outside the window
    for n, line in enumerate(content.sender_lines):
        text.setFont("Helvetica-Bold" if n == 0 else "Helvetica", 10 if n == 0 else 9, 12)
        text.textLine(line)
    canvas.drawText(text)

    canvas.setFont("Helvetica", 10)  # left of the window: never visible through the envelope
    canvas.drawString(LEFT, _top(65), f"{PLACE}, le {french_date(content.issued_on)}")
    canvas.drawString(LEFT, _top(71), f"Référence : {content.reference}")
    draw_address(canvas, content.address_lines)

    # The body starts below the first fold (99 mm), so the code is folded inside the letter.
    top, bottom = _top(100), 12 * mm
    frame = Frame(LEFT, bottom, RIGHT - LEFT, top - bottom, 0, 0, 0, 0)
    flow = _body(content)
    if shrink:  # scaled down as a whole rather than spill onto a second page
        flow = [KeepInFrame(RIGHT - LEFT, top - bottom, flow, mode="shrink")]
    frame.addFromList(flow, canvas)  # removes from the list what it could place
    if flow:
        if shrink:
            raise RuntimeError("the letter's body does not fit on one page, even scaled down")
        return b""
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


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
    text.setFont("Helvetica", 10, 14)
    for line in lines:
        text.textLine(line)
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


_STREAM_RE = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_PAGE_RE = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")


def page_count(pdf: bytes) -> int:
    """Number of page objects, without a PDF library (pypdf is a test-only dependency).

    Streams are cut out first, so that text drawn on a page ("/Type /Page" in an uncompressed
    content stream) cannot be counted. Enough for PDFs written by this module, which use no
    object streams; not a general PDF parser.
    """
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    return len(_PAGE_RE.findall(_STREAM_RE.sub(b"", pdf)))
