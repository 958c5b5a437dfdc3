"""Decide from its content, never from its name, whether an uploaded file may enter a record.

Accepted: PDF, JPEG, PNG, TIFF, plain UTF-8 text, RTF and HL7 CDA R2 XML. The type is read
from the first bytes (magic numbers), then each type gets the checks that matter for it: images
are measured from their header without being decoded (an image bomb never reaches memory), a
PDF must parse strictly and carry no active content (``pdf_checks``), RTF must be made of
formatting control words only (``rtf_checks``), XML must be a CDA with no DTD at all (so no
entity is ever expanded), text must be UTF-8 without control characters.

The file is read in chunks of ``CHUNK`` bytes and never held whole in memory; it must be
seekable (Django's uploaded files are) and is left at position 0 for the caller.

Media types: CDA is served as ``application/xml`` (RFC 7303). There is no registered CDA media
type; the DMP's own metadata uses ``text/xml``, and a ``text/*`` type would invite browsers to
render it, which we never want. TIFF counts as neither an image nor inline: Chrome and Firefox
cannot display it, so it is offered as a download only.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn
from xml.parsers import expat

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from records.pdf_checks import check_pdf
from records.rtf_checks import check_rtf
from records.upload_errors import RejectedFile, Upload

if TYPE_CHECKING:  # django-stubs-ext is a development tool, absent from the deployed image
    from django_stubs_ext import StrOrPromise

__all__ = [
    "DetectedType",
    "RejectedFile",
    "download_name",
    "inspect_upload",
    "media_type_name",
    "safe_display_name",
]

CHUNK = 64 * 1024
HEAD_BYTES = 1024  # enough to recognise every accepted type
PDF_TAIL_BYTES = 1024  # %%EOF must appear this close to the end (trailing junk is common)
MAX_PIXELS = 50_000_000  # per image or TIFF page; our own limit, not Pillow's global setting
MAX_TIFF_PAGES = 500  # each page is a header to parse; a hostile file could chain thousands
DISPLAY_NAME_MAX = 100
CDA_ROOT = "urn:hl7-org:v3 ClinicalDocument"  # namespace URI, space, local name (expat's form)

UTF8_BOM = codecs.BOM_UTF8
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
# C0 controls except tab, line feed, form feed and carriage return; DEL; C1 controls.
TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class DetectedType:
    kind: str
    media_type: str
    extension: str  # for the download name: never taken from the uploaded name
    is_image: bool  # may be shown in an <img>
    inline: bool  # may be shown in the browser; text, RTF and XML never (content sniffing, XSS)


PDF = DetectedType("pdf", "application/pdf", ".pdf", is_image=False, inline=True)
JPEG = DetectedType("jpeg", "image/jpeg", ".jpg", is_image=True, inline=True)
PNG = DetectedType("png", "image/png", ".png", is_image=True, inline=True)
TIFF = DetectedType("tiff", "image/tiff", ".tif", is_image=False, inline=False)
TEXT = DetectedType("text", "text/plain; charset=utf-8", ".txt", is_image=False, inline=False)
RTF = DetectedType("rtf", "application/rtf", ".rtf", is_image=False, inline=False)
CDA = DetectedType("cda", "application/xml", ".xml", is_image=False, inline=False)


def inspect_upload(fileobj: Upload, *, max_bytes: int) -> DetectedType:
    """Return the file's type, decided from its content, or raise ``RejectedFile``."""
    try:
        size, head, has_nul = _measure(fileobj, max_bytes)
        return _detect(fileobj, size, head, has_nul)
    finally:
        fileobj.seek(0)


# The accepted types of file, in words (the document page, the admin's list and filter).
MEDIA_TYPE_NAMES: dict[str, StrOrPromise] = {
    PDF.media_type: gettext_lazy("PDF document"),
    JPEG.media_type: gettext_lazy("JPEG image"),
    PNG.media_type: gettext_lazy("PNG image"),
    TIFF.media_type: gettext_lazy("TIFF image"),
    TEXT.media_type: gettext_lazy("Plain text"),
    RTF.media_type: gettext_lazy("RTF document"),
    CDA.media_type: gettext_lazy("HL7 CDA medical document (XML)"),
}
# Path separators and what Windows refuses in a file name: "12/03" must not become a folder.
UNSAFE_IN_FILE_NAME = re.compile(r'[/\\:*?"<>|]')


def media_type_name(media_type: str) -> str:
    return str(MEDIA_TYPE_NAMES.get(media_type, media_type))


def download_name(title: str, extension: str) -> str:
    """The name a downloaded file is saved under: its title, made harmless (no path, control or
    reserved character), then the extension of its detected type (never one typed)."""
    return safe_display_name(UNSAFE_IN_FILE_NAME.sub("-", title)) + extension


def safe_display_name(original_name: str) -> str:
    """The original filename reduced to a harmless label: last path component only, no
    control or invisible formatting characters (bidi overrides can disguise ``exe.pdf``), at
    most ``DISPLAY_NAME_MAX`` characters. A label for people, never a storage path."""
    name = unicodedata.normalize("NFC", original_name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = " ".join(name.split())  # every kind of Unicode space becomes one plain space
    name = name.strip(" .")  # no "..", no hidden ".name", no Windows trailing dot
    if not name:
        return "document"
    if len(name) <= DISPLAY_NAME_MAX:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and stem and len(ext) <= 10:  # shorten the stem, keep the extension readable
        return stem[: DISPLAY_NAME_MAX - len(ext) - 1].rstrip(" .") + "." + ext
    return name[:DISPLAY_NAME_MAX].rstrip(" .")


def _measure(fileobj: Upload, max_bytes: int) -> tuple[int, bytes, bool]:
    """Size, first bytes and whether a NUL byte occurs; stops as soon as the limit is passed,
    whatever size the client announced."""
    fileobj.seek(0)
    size, head, has_nul = 0, b"", False
    while chunk := fileobj.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            _reject(
                "too_large",
                _("This file is larger than the maximum size of %(limit)s MB.")
                % {"limit": _megabytes(max_bytes)},
            )
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        has_nul = has_nul or b"\x00" in chunk
    if size == 0:
        _reject("empty", _("This file is empty."))
    return size, head, has_nul


def _detect(fileobj: Upload, size: int, head: bytes, has_nul: bool) -> DetectedType:
    if head.startswith(b"%PDF-"):
        _check_pdf(fileobj, size, head)
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        _check_image(fileobj, "JPEG")
        return JPEG
    if head.startswith(PNG_SIGNATURE):
        _check_image(fileobj, "PNG")
        return PNG
    if head.startswith(TIFF_SIGNATURES):
        _check_image(fileobj, "TIFF")
        return TIFF
    if head.startswith(b"{\\rtf"):
        _check_rtf(fileobj, size, has_nul)
        return RTF
    if has_nul:  # executables, archives, office files, UTF-16: binary, not text
        _reject_unsupported()
    if head.removeprefix(UTF8_BOM).lstrip(b" \t\r\n").startswith(b"<"):
        # Markup (XML, HTML, SVG...) is accepted only as a CDA, never as plain text.
        _check_cda(fileobj)
        return CDA
    _check_text(fileobj)
    return TEXT


def _check_rtf(fileobj: Upload, size: int, has_nul: bool) -> None:
    """RTF is 7-bit text ending with a closing brace, made only of allowed control words
    (``rtf_checks``): embedded objects, the usual way RTF carries malware, are refused."""
    fileobj.seek(max(0, size - 64))
    if not fileobj.read(64).rstrip(b" \t\r\n\x00").endswith(b"}"):
        _reject("damaged", _("This RTF file is damaged or incomplete."))
    fileobj.seek(0)
    in_trailer = False  # WordPad ends its files with a NUL: binary anywhere before is refused
    while chunk := fileobj.read(CHUNK):
        if not chunk.isascii():
            _reject_unsupported()
        if has_nul and (in_trailer or b"\x00" in chunk):
            start = 0 if in_trailer else chunk.index(b"\x00")
            if chunk[start:].strip(b" \t\r\n\x00"):
                _reject_unsupported()
            in_trailer = True
    check_rtf(fileobj)


def _check_pdf(fileobj: Upload, size: int, head: bytes) -> None:
    """The quick structural checks first, then the full parse (``pdf_checks``)."""
    fileobj.seek(max(0, size - PDF_TAIL_BYTES))
    if not re.match(rb"%PDF-\d\.\d", head) or b"%%EOF" not in fileobj.read(PDF_TAIL_BYTES):
        _reject("damaged", _("This PDF file is damaged or incomplete."))
    check_pdf(fileobj)


def _check_image(fileobj: Upload, pillow_format: str) -> None:
    """Measure from the header, then check the structure, without ever decoding pixels.

    ``Image.open`` only reads the header. ``verify()`` checks a PNG's chunks and checksums
    without inflating them (it does nothing for JPEG and TIFF). ``formats=`` stops Pillow from
    trying its other, less exercised decoders on a file that merely starts like one of ours.
    """
    fileobj.seek(0)
    largest = 0
    try:
        # Pillow asks for a complete IO; it reads, seeks and tells, which an Upload does.
        with Image.open(fileobj, formats=[pillow_format]) as img:  # type: ignore[arg-type]
            largest = _largest_frame(img, pillow_format)
            if 0 < largest <= MAX_PIXELS:
                img.seek(0)
                img.verify()
    except Image.DecompressionBombError:  # Pillow's own, higher, limit tripped first
        largest = MAX_PIXELS + 1
    except Exception as exc:  # hostile input makes Pillow raise many kinds of errors
        raise _damaged_image() from exc
    if largest > MAX_PIXELS:
        _reject(
            "image_bomb",
            _(
                "This image is too large (more than %(limit)s million pixels): "
                "reduce it before sending it."
            )
            % {"limit": formats.number_format(MAX_PIXELS // 1_000_000)},
        )
    if largest == 0:
        raise _damaged_image()


def _largest_frame(img: Image.Image, pillow_format: str) -> int:
    if pillow_format != "TIFF":  # PNG (APNG) frames share one canvas; seeking them decodes
        return img.width * img.height
    largest = 0
    for page in range(MAX_TIFF_PAGES + 1):
        try:
            img.seek(page)  # reads the page's header (IFD) only
        except EOFError:
            return largest
        largest = max(largest, img.width * img.height)
    return MAX_PIXELS + 1  # too many pages: refused like a bomb


def _check_cda(fileobj: Upload) -> None:
    """Parse the whole document with expat, refusing any DTD as soon as it starts.

    Without a DTD no entity can be declared, so neither "billion laughs" nor external entities
    (XXE) can happen; the handlers below raise before expat reads a single declaration.
    Refusing every DOCTYPE costs nothing: CDA documents never carry one.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_dtd(*_args: object) -> NoReturn:
        _reject(
            "xml_entities",
            _("XML documents containing a DOCTYPE declaration or entities are not accepted."),
        )

    def check_root(name: str, _attributes: object) -> None:
        parser.StartElementHandler = None  # only the root matters
        if name != CDA_ROOT:
            _reject(
                "xml_not_cda",
                _(
                    "This XML file is not a medical document in the HL7 CDA format. "
                    "Only CDA documents are accepted as XML."
                ),
            )

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.UnparsedEntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd
    parser.StartElementHandler = check_root
    fileobj.seek(0)
    try:
        while chunk := fileobj.read(CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise RejectedFile("damaged", _("This XML document is malformed or incomplete.")) from exc


def _check_text(fileobj: Upload) -> None:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # accepts, and drops, a UTF-8 BOM
    fileobj.seek(0)
    try:
        while chunk := fileobj.read(CHUNK):
            if TEXT_FORBIDDEN.search(decoder.decode(chunk)):
                break
        else:
            decoder.decode(b"", final=True)  # a multi-byte sequence cut at the end
            return
    except UnicodeDecodeError:
        pass
    _reject(
        "text_encoding",
        _("Text files must be encoded in UTF-8 and must not contain control characters."),
    )


def _megabytes(n_bytes: int) -> str:
    """The limit in MB (2**20 bytes, as file managers count), localised: "5", "2,5"."""
    mb = n_bytes / (1024 * 1024)
    if mb == int(mb):
        return formats.number_format(int(mb))
    return formats.number_format(round(mb, 1), decimal_pos=1)


def _reject(code: str, message: str) -> NoReturn:
    raise RejectedFile(code, message)


def _reject_unsupported() -> NoReturn:
    _reject(
        "unsupported_type",
        _(
            "This type of file is not accepted. Accepted formats: PDF, JPEG, PNG, TIFF, "
            "plain text (UTF-8), RTF and HL7 CDA medical documents (XML)."
        ),
    )


def _damaged_image() -> RejectedFile:
    return RejectedFile("damaged", _("This image is damaged or incomplete."))
