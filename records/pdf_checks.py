"""Refuse PDFs that carry active content: a PDF enters a record only if it is a document to read.

The document page does not frame PDFs (their address answers sandboxed, and Chromium runs no
PDF viewer in a sandbox): a PDF is opened once downloaded, in a desktop reader that may run
scripts, start programs and open attachments. So every PDF is parsed with pypdf in strict
mode (a file that does not parse strictly is refused as damaged: lenient readers "repair" such
files, each in its own way, and a repaired file is not the one we inspected), then EVERY object
of the cross-reference tables is inspected, those stored compressed inside object streams
included, whether or not anything refers to them. pypdf decodes ``#xx`` escapes in names, so
``/J#53`` is ``/JS`` here as it is for a reader.

What is refused, and why (the decisions the README lists):
- JavaScript anywhere: the ``/JavaScript`` name tree, any ``/JS`` entry, any JavaScript action
  (form fields' calculate, format, keystroke and validate scripts are such actions);
- actions other than going to a page, a named page move (``/Named``: next, previous, first or
  last page only) or a web link: ``/Launch`` always, ``/SubmitForm``, ``/ImportData``,
  ``/ResetForm``, ``/GoToR`` and ``/GoToE`` (other files), ``/Rendition``, ``/Sound``,
  ``/Movie``, ``/Hide``, ``/SetOCGState``, ``/Trans``, ``/GoTo3DView``, ``/RichMediaExecute``,
  and any action type we do not know;
- links (``/URI``) to anything but a web page (``http://`` or ``https://`` and a host) or
  e-mail addresses (``mailto:``): not ``file:``, a Windows share ``\\\\server\\share`` or
  ``http:\\\\server\\share`` that leaks the reader's credentials, ``javascript:``...;
- automatic actions (``/OpenAction`` and the ``/AA`` entries of the document, pages,
  annotations and form fields run without a click): only "go to a page" is accepted there, not
  even a web link, which would tell a third party when the document is opened;
- embedded files (``/EmbeddedFiles``, file specifications with ``/EF``, embedded file streams,
  ``/FileAttachment`` annotations) and multimedia or 3D annotations (``/RichMedia``, ``/3D``,
  ``/Movie``, ``/Sound``, ``/Screen``), which carry files or scripts of their own;
- XFA forms (``/XFA``). Plain fillable forms without scripts are accepted;
- PDFs that open only with a password (they cannot be inspected); a PDF whose only protection
  is an owner password (printing or copying restrictions) opens without one and is inspected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from django.utils.translation import gettext as _
from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

from records.upload_errors import RejectedFile, Upload
from records.web_links import is_web_or_mail_link

# Actions a click may run: move within the document, or open a web page or an e-mail.
CLICK_ACTIONS = frozenset({"/GoTo", "/Named", "/URI"})
# Actions that run by themselves (/OpenAction, /AA): only a move within the document.
AUTOMATIC_ACTIONS = frozenset({"/GoTo"})
# /Named actions a reader runs as page moves; anything else (a menu item such as Print, or
# an application's own command) is refused.
NAMED_ACTIONS = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
# Every action type of ISO 32000-2 (table 201) we refuse, so that one met outside an action
# entry (an action dict referenced only from another object) is refused too.
REFUSED_ACTIONS = frozenset(
    {
        "/GoToR",
        "/GoToE",
        "/GoToDp",
        "/Launch",
        "/Thread",
        "/Sound",
        "/Movie",
        "/Hide",
        "/SubmitForm",
        "/ResetForm",
        "/ImportData",
        "/SetOCGState",
        "/Rendition",
        "/Trans",
        "/GoTo3DView",
        "/JavaScript",
        "/RichMediaExecute",
    }
)
JAVASCRIPT_KEYS = frozenset({"/JS", "/JavaScript"})
EMBEDDED_KEYS = frozenset({"/EmbeddedFiles", "/EF", "/RichMediaContent"})
EMBEDDING_SUBTYPES = frozenset(
    {"/FileAttachment", "/RichMedia", "/3D", "/Movie", "/Sound", "/Screen"}
)
PYPDF_LOGGER = logging.getLogger("pypdf")
# We decode only object and cross-reference streams, never page content or images: what a
# 5 MB document holds there inflates to a few MB. pypdf's defaults (75 MB per stream, 300 MB of
# work) would let a small compressed bomb cost that much memory per upload; these bound it
# (contextvar-scoped, so other uses of pypdf keep their defaults).
DECODE_MAX = 32 * 1024 * 1024
DECODING_LIMITS = {
    "zlib_maximum_output_length": DECODE_MAX,
    "lzw_maximum_output_length": DECODE_MAX,
    "run_length_maximum_output_length": DECODE_MAX,
    "brotli_maximum_output_length": DECODE_MAX,
    "jbig2_maximum_output_length": DECODE_MAX,
    "array_based_stream_maximum_output_length": DECODE_MAX,
    "stream_decoding_work_maximum_length": 2 * DECODE_MAX,
}
MAX_OBJECTS = 1_000_000  # a 5 MB document has a few thousand; each costs a Python call
# Actions queued for one entry (its action and every /Next after it, an array counting as
# many as it holds): a loop or a 100,000-element /Next array in a hostile file must end soon.
MAX_ACTION_CHAIN = 100
# The references of the actions already checked, with the kind of entry they were checked for.
_Walked = set[tuple[int, int, frozenset[str]]]


class _WarningsOfThisThread(logging.Handler):
    """pypdf's strict mode still "repairs" some faults (an object found away from the offset
    its table gives) and only logs a warning: for us such a file did not parse strictly. Only
    this thread's records count, so a concurrent request cannot fail someone else's upload."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def _collect_pypdf_warnings() -> Iterator[list[str]]:
    handler = _WarningsOfThisThread()
    level = PYPDF_LOGGER.level
    # Whatever LOG_LEVEL the deployment chose, pypdf's warnings must reach the handler.
    PYPDF_LOGGER.setLevel(logging.WARNING)
    PYPDF_LOGGER.addHandler(handler)
    try:
        yield handler.messages
    finally:
        PYPDF_LOGGER.removeHandler(handler)
        PYPDF_LOGGER.setLevel(level)


def check_pdf(fileobj: Upload) -> None:
    """Raise ``RejectedFile`` unless the PDF parses strictly and carries no active content."""
    with apply_configuration(None, **DECODING_LIMITS), _collect_pypdf_warnings() as warnings:
        _check(fileobj, warnings)


def _check(fileobj: Upload, warnings: list[str]) -> None:
    fileobj.seek(0)
    try:
        # pypdf asks for a complete IO; it reads, seeks and tells, which an Upload does.
        reader = PdfReader(fileobj, strict=True)  # type: ignore[arg-type]
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            _reject_pdf(
                "pdf_encrypted",
                _(
                    "This PDF is protected by a password, so its content cannot be checked. "
                    "Save the document as a PDF without password protection, then send it again."
                ),
            )
        if len(reader.pages) == 0:  # walks the page tree, strictly
            raise ValueError("no page")
        if len(reader.xref_objStm) + sum(map(len, reader.xref.values())) > MAX_OBJECTS:
            raise ValueError("too many objects")
        walked: _Walked = set()
        for obj in _every_object(reader):
            _inspect(obj, walked)
        if warnings:
            raise ValueError(warnings[0])
    except RejectedFile:
        raise
    except Exception as exc:  # hostile input makes pypdf raise many kinds of errors
        raise RejectedFile("damaged", _("This PDF file is damaged or incomplete.")) from exc


def _every_object(reader: PdfReader) -> Iterator[PdfObject | None]:
    """The trailer and every object the cross-reference tables and streams list."""
    yield reader.trailer
    for generation, table in reader.xref.items():
        for number in table:
            yield reader.get_object(IndirectObject(number, generation, reader))
    for number in reader.xref_objStm:  # objects stored inside (compressed) object streams
        yield reader.get_object(IndirectObject(number, 0, reader))


def _inspect(root: PdfObject | None, walked: _Walked) -> None:
    """Check one object and the direct objects inside it; indirect ones are visited on their
    own turn by ``_every_object``. A stack, not recursion: nesting depth is the file's choice."""
    stack = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, DictionaryObject):  # stream dictionaries included
            _inspect_dictionary(obj, walked)
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def _inspect_dictionary(entries: DictionaryObject, walked: _Walked) -> None:
    kind, subtype = _name(entries, "/Type"), _name(entries, "/Subtype")
    action = _name(entries, "/S")
    if JAVASCRIPT_KEYS.intersection(entries) or action == "/JavaScript":
        _reject_javascript()
    if (
        EMBEDDED_KEYS.intersection(entries)
        or kind == "/EmbeddedFile"
        or subtype in EMBEDDING_SUBTYPES
    ):
        _reject_pdf(
            "pdf_embedded_file",
            _(
                "This PDF contains attached files or embedded multimedia content, which are not "
                "accepted. Send each document on its own, saved as a PDF without attachments."
            ),
        )
    if "/XFA" in entries:
        _reject_pdf(
            "pdf_xfa",
            _(
                "This PDF is a dynamic form (XFA), which is not accepted. Save the document as "
                "a PDF without a form (for example with Print, then Save as PDF), then send it "
                "again."
            ),
        )
    if action in REFUSED_ACTIONS:
        _reject_action()
    if action == "/URI" and not _is_web_link(entries.get("/URI")):
        _reject_action()
    if action == "/Named" and _name(entries, "/N") not in NAMED_ACTIONS:
        _reject_action()
    # /A is a link's or a field's action; in a structure element it holds attributes, which
    # have no /S and so are not taken for actions.
    _check_actions(entries.get("/A"), CLICK_ACTIONS, walked)
    # A destination array in /OpenAction is no action.
    _check_actions(entries.get("/OpenAction"), AUTOMATIC_ACTIONS, walked)
    triggers = _resolve(entries.get("/AA"))
    if isinstance(triggers, DictionaryObject):
        for trigger in triggers.values():
            _check_actions(trigger, AUTOMATIC_ACTIONS, walked)
    elif triggers is not None:
        _reject_action()


def _check_action(action: DictionaryObject, allowed: frozenset[str]) -> None:
    """An action of an entry (a click, an automatic trigger): its type must be allowed there.
    JavaScript is named as such, wherever it is met first."""
    if _name(action, "/S") == "/JavaScript" or JAVASCRIPT_KEYS.intersection(action):
        _reject_javascript()
    if _name(action, "/S") not in allowed:
        _reject_action()


def _check_actions(value: PdfObject | None, allowed: frozenset[str], walked: _Walked) -> None:
    """Check the action held by an action entry and those its ``/Next`` chain (one action or
    an array of them) runs after it. Anything else (a destination) holds no action.

    Work stays in proportion to the file: an action reached through a reference already
    walked for the same kind of entry is not walked again (a chain may loop, and thousands of
    links may share one long chain), and every action queued counts against
    ``MAX_ACTION_CHAIN`` before it is queued, so an array of 100,000 references costs one
    length check, not 100,000 look-ups per step."""
    pending = [value]
    queued = 1
    while pending:
        current = pending.pop()
        if isinstance(current, IndirectObject):
            reference = (current.idnum, current.generation, allowed)
            if reference in walked:
                continue
            walked.add(reference)
            current = current.get_object()
        if not isinstance(current, DictionaryObject) or (
            "/S" not in current and _name(current, "/Type") != "/Action"
        ):
            continue
        _check_action(current, allowed)
        next_entry = current.get("/Next")  # unresolved: its reference is what marks a loop
        resolved = _resolve(next_entry)
        following: Sequence[PdfObject | None]
        if isinstance(resolved, ArrayObject):
            following = resolved  # not copied: its length is checked first
        else:
            following = [] if next_entry is None else [next_entry]
        queued += len(following)
        if queued > MAX_ACTION_CHAIN:
            _reject_action()  # a chain this long is no document's
        pending.extend(following)


def _name(entries: DictionaryObject, key: str) -> PdfObject | None:
    """An entry's value, through an indirect reference (a hostile file may hide a name so)."""
    return _resolve(entries.get(key))


def _resolve(value: PdfObject | None) -> PdfObject | None:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _is_web_link(uri: PdfObject | None) -> bool:
    target = _resolve(uri)
    if isinstance(target, bytes):  # a byte string pypdf could not decode as text
        target = target.decode("latin-1")
    return isinstance(target, str) and is_web_or_mail_link(target)


def _reject_javascript() -> NoReturn:
    _reject_pdf(
        "pdf_javascript",
        _(
            "This PDF contains JavaScript, which is not accepted. Save the document as a PDF "
            "without a form or script (for example with Print, then Save as PDF), then send it "
            "again."
        ),
    )


def _reject_action() -> NoReturn:
    _reject_pdf(
        "pdf_action",
        _(
            "This PDF contains actions that run by themselves, start a program or open other "
            "files, which are not accepted. Save the document as a PDF without a form or "
            "attachment (for example with Print, then Save as PDF), then send it again."
        ),
    )


def _reject_pdf(code: str, message: str) -> NoReturn:
    raise RejectedFile(code, message)
