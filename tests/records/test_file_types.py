"""Upload rules: the type comes from the content; bombs, damaged files, DTDs and binary text
are refused. Pure tests: every sample is built here, in memory or in tmp_path; no database."""

from __future__ import annotations

import contextlib
import io
import re
import struct
import time
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from reportlab.pdfgen import canvas

from records.file_types import (
    CHUNK,
    DISPLAY_NAME_MAX,
    MAX_PIXELS,
    MAX_TIFF_PAGES,
    DetectedType,
    RejectedFile,
    inspect_upload,
    safe_display_name,
)

MB = 1024 * 1024
LIMIT = 5 * MB


# --- samples -------------------------------------------------------------------------------


def pillow_image(fmt: str, size: tuple[int, int] = (40, 30), **params: object) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt, **params)
    return buf.getvalue()


def crafted_png(width: int, height: int) -> bytes:
    """A real, valid 1-bit PNG of any size: rows of zeros compress ~1000:1, so a 900-megapixel
    bomb weighs about 100 KB and is built row by row without ever holding its pixels."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def corrupt_idat(png: bytes) -> bytes:
    """One pixel byte flipped: the header is intact, only the chunk checksum can tell."""
    data = bytearray(png)
    data[data.index(b"IDAT") + 8] ^= 0xFF
    return bytes(data)


def crafted_tiff(pages: list[tuple[int, int]]) -> bytes:
    """An uncompressed 1-bit little-endian TIFF whose pages (IFDs) claim the given sizes; all
    pages share one small strip, so only the headers are honest (they are all we read)."""
    strip = b"\x00" * 64
    out = bytearray(b"II*\x00" + struct.pack("<I", 8 + len(strip)) + strip)
    for index, (width, height) in enumerate(pages):
        entries = [
            (256, 4, width),  # ImageWidth, LONG
            (257, 4, height),  # ImageLength
            (258, 3, 1),  # BitsPerSample, SHORT
            (259, 3, 1),  # Compression: none
            (262, 3, 1),  # Photometric: black is zero
            (273, 4, 8),  # StripOffsets
            (277, 3, 1),  # SamplesPerPixel
            (278, 4, height),  # RowsPerStrip
            (279, 4, len(strip)),  # StripByteCounts
        ]
        ifd_size = 2 + 12 * len(entries) + 4
        next_ifd = len(out) + ifd_size if index < len(pages) - 1 else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        out += struct.pack("<I", next_ifd)
    return bytes(out)


def pdf_bytes() -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.drawString(72, 720, "Compte rendu de consultation")
    pdf.save()
    return buf.getvalue()


CDA = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="CDA.xsl"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <title>Compte rendu d'hospitalisation — fièvre à 39 °C</title>
  <component><nonXMLBody><text>{body}</text></nonXMLBody></component>
</ClinicalDocument>
"""


def cda(body: str = "Patient apyrétique.") -> bytes:
    return CDA.format(body=body).encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol9;</title></ClinicalDocument>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>
"""

RTF = b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Arial;}} Bonjour, \\'e9t\\'e9 \\par}"

TEXT = "Ordonnance : paracétamol 1 g, 3 fois par jour.\r\n\tÀ renouveler si fièvre ≥ 38,5 °C.\n"


def inspect(data: bytes, max_bytes: int = LIMIT) -> DetectedType:
    return inspect_upload(io.BytesIO(data), max_bytes=max_bytes)


def refusal(data: bytes, max_bytes: int = LIMIT) -> str:
    with pytest.raises(RejectedFile) as caught:
        inspect(data, max_bytes)
    assert caught.value.message  # a sentence for the person, whatever the language
    return caught.value.code


# --- accepted types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "media_type", "extension", "is_image", "inline"),
    [
        (pdf_bytes(), "pdf", "application/pdf", ".pdf", False, True),
        (pillow_image("JPEG"), "jpeg", "image/jpeg", ".jpg", True, True),
        (pillow_image("PNG"), "png", "image/png", ".png", True, True),
        (pillow_image("TIFF", compression="tiff_lzw"), "tiff", "image/tiff", ".tif", False, False),
        (TEXT.encode(), "text", "text/plain; charset=utf-8", ".txt", False, False),
        (RTF, "rtf", "application/rtf", ".rtf", False, False),
        (cda(), "cda", "application/xml", ".xml", False, False),
    ],
    ids=["pdf", "jpeg", "png", "tiff", "text", "rtf", "cda"],
)
def test_each_allowed_type_is_detected_from_its_content(
    data, kind, media_type, extension, is_image, inline
):
    assert inspect(data) == DetectedType(kind, media_type, extension, is_image, inline)


def test_a_png_renamed_pdf_is_a_png():
    upload = SimpleUploadedFile("scan.pdf", pillow_image("PNG"), content_type="application/pdf")
    assert inspect_upload(upload, max_bytes=LIMIT).kind == "png"


def test_a_multi_page_tiff_is_accepted():
    assert inspect(crafted_tiff([(16, 16), (16, 16), (32, 2)])).kind == "tiff"


@pytest.mark.parametrize(
    "variant",
    [
        re.sub(rb"<(/?)(\w+)", rb"<\1hl7:\2", cda()).replace(b"xmlns=", b"xmlns:hl7="),
        b"\xef\xbb\xbf" + cda(),
        cda("é" * CHUNK),  # fed to expat in several chunks
    ],
    ids=["prefixed-namespace", "bom", "several-chunks"],
)
def test_cda_variants_are_accepted(variant):
    assert inspect(variant).kind == "cda"


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + TEXT.encode(),
        ("a" * (CHUNK - 1) + "é" + "fin\n").encode(),  # "é" straddles two chunks
        "\f".join(["page 1", "page 2"]).encode(),
    ],
    ids=["bom", "character-across-chunks", "form-feed"],
)
def test_text_variants_are_accepted(data):
    assert inspect(data).kind == "text"


def test_an_image_of_exactly_the_pixel_limit_is_accepted():
    width = 10_000
    assert inspect(crafted_png(width, MAX_PIXELS // width)).kind == "png"


# --- refused -------------------------------------------------------------------------------


def test_an_empty_file_is_refused():
    assert refusal(b"") == "empty"


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("document.pdf", pdf_bytes())
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50 + b"PE\x00\x00",
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56,
        zip_bytes(),
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "Texte en UTF-16".encode("utf-16"),
        b"Bonjour\x00le monde",
    ],
    ids=["exe", "elf", "zip", "gif", "utf-16", "nul-byte"],
)
def test_binary_content_that_is_not_allowed_is_refused(data):
    assert refusal(data) == "unsupported_type"


def test_an_exe_renamed_pdf_is_refused():
    upload = SimpleUploadedFile("ordonnance.pdf", b"MZ\x90\x00" + b"\x00" * 60)
    with pytest.raises(RejectedFile) as caught:
        inspect_upload(upload, max_bytes=LIMIT)
    assert caught.value.code == "unsupported_type"


def test_a_6_mb_file_is_refused_with_a_5_mb_limit(tmp_path):
    path = tmp_path / "big.pdf"
    with path.open("wb") as out:  # written in 1 MB pieces: never 6 MB held in memory
        out.write(b"%PDF-1.7\n")
        for _ in range(6):
            out.write(b"0" * MB)
    with path.open("rb") as upload, pytest.raises(RejectedFile) as caught:
        inspect_upload(upload, max_bytes=LIMIT)
    assert caught.value.code == "too_large"


def test_a_file_of_exactly_the_limit_is_accepted():
    assert inspect(b"x" * LIMIT).kind == "text"
    assert refusal(b"x" * (LIMIT + 1)) == "too_large"


class EndlessZeros:
    """A file that never ends: only a bounded reader can refuse it."""

    def __init__(self) -> None:
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the whole file was requested at once"
        self.position += size
        return b"\x00" * size

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset
        return offset

    def tell(self) -> int:
        return self.position


def test_reading_stops_soon_after_the_limit():
    stream = EndlessZeros()
    with pytest.raises(RejectedFile) as caught:
        inspect_upload(stream, max_bytes=LIMIT)
    assert caught.value.code == "too_large"
    assert stream.position == 0


@pytest.mark.parametrize(("limit", "shown"), [(5 * MB, r"\b5\b"), (5 * MB // 2, r"\b2[.,]5\b")])
def test_the_size_message_gives_the_limit_in_megabytes(limit, shown):
    with pytest.raises(RejectedFile) as caught:
        inspect(b"x" * (limit + 1), max_bytes=limit)
    assert re.search(shown, caught.value.message), caught.value.message


class CountingFile(io.BytesIO):
    """Counts the bytes read in each pass over the file (a pass starts at each rewind): work
    that does not depend on how loaded the machine is."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.passes = [0]

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) == (0, 0):
            self.passes.append(0)
        return super().seek(offset, whence)

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.passes[-1] += len(data)
        return data


@pytest.mark.parametrize(
    ("width", "height"),
    [(30_000, 30_000), (8_000, 8_000)],
    ids=["900-mp-over-pillows-limit", "64-mp-under-pillows-limit"],
)
def test_a_decompression_bomb_is_refused_from_its_header_alone(width, height):
    bomb = crafted_png(width, height)  # 900 MP: 112 MB once inflated; 64 MP: 8 MB
    assert len(bomb) < 200_000
    upload = CountingFile(bomb)
    with pytest.raises(RejectedFile) as caught:
        inspect_upload(upload, max_bytes=LIMIT)
    assert caught.value.code == "image_bomb"
    # The size check reads the file once; after that only the header may be read. Decoding
    # the pixels would read the whole compressed data again (about 110 KB and 8 KB here).
    measuring, *checking = upload.passes[1:]
    assert measuring == len(bomb)
    assert max(checking) < 1024


def test_an_image_over_our_limit_but_under_pillows_is_refused():
    # 64 megapixels: under Pillow's default warning threshold (~89 MP), over ours (50 MP).
    assert refusal(crafted_png(8_000, 8_000)) == "image_bomb"


def test_a_tiff_bomb_hidden_on_a_later_page_is_refused():
    assert refusal(crafted_tiff([(16, 16), (16, 16), (20_000, 20_000)])) == "image_bomb"


def test_a_tiff_with_too_many_pages_is_refused():
    assert refusal(crafted_tiff([(1, 1)] * (MAX_TIFF_PAGES + 1))) == "image_bomb"


@pytest.mark.parametrize(
    "data",
    [
        pillow_image("PNG")[:-20],  # IEND cut
        pillow_image("PNG")[:60],  # cut in the header
        corrupt_idat(pillow_image("PNG")),
        pillow_image("JPEG")[:12],
        b"II*\x00" + b"\xff" * 20,
    ],
    ids=["png-truncated", "png-header-cut", "png-corrupt", "jpeg-header-cut", "tiff-garbage"],
)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_damaged_images_are_refused(data):
    assert refusal(data) == "damaged"


@pytest.mark.parametrize(
    "data",
    [
        pdf_bytes().replace(b"%%EOF", b"%%END"),
        pdf_bytes()[: len(pdf_bytes()) // 2],
        b"%PDF-garbage\n%%EOF\n",
    ],
    ids=["no-eof-marker", "truncated", "bad-version"],
)
def test_damaged_pdfs_are_refused(data):
    assert refusal(data) == "damaged"


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_xml_with_a_dtd_is_refused_without_expanding_it(data):
    # The code is the real proof: the DOCTYPE is refused before any entity is declared (had
    # it been parsed, expat's own amplification guard would give "damaged", or a billion
    # "lol"s would take minutes). The CPU time of this process, which a loaded machine does
    # not inflate as it does wall-clock time, is only a generous second check.
    started = time.process_time()
    assert refusal(data) == "xml_entities"
    assert time.process_time() - started < 2


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><note><to>Dr Martin</to></note>',
        b"<ClinicalDocument><title>Sans espace de noms</title></ClinicalDocument>",
        b'<ClinicalDocument xmlns="urn:hl7-org:v2"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<html><body><script>alert(1)</script></body></html>",
    ],
    ids=["other-xml", "no-namespace", "wrong-namespace", "svg", "html"],
)
def test_xml_that_is_not_a_cda_is_refused(data):
    assert refusal(data) == "xml_not_cda"


@pytest.mark.parametrize(
    "data",
    [cda()[:-30], cda().replace(b"</title>", b"</titre>"), cda().replace(b"Patient", b"&nbsp;")],
    ids=["truncated", "mismatched-tag", "undefined-entity"],
)
def test_malformed_cda_is_refused(data):
    assert refusal(data) == "damaged"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("latin-1", errors="replace"),
        b"R\xc3\xa9sum\xc3",  # a multi-byte character cut at the very end
        b"\xef\xbb\xbf\xff\xfe",
        b"couleur \x1b[31mrouge\x1b[0m",
        "retour\x08arrière".encode(),
        "contrôle C1 \x85 ici".encode(),
        ("a" * (2 * CHUNK) + "\x07").encode(),  # far from the start
    ],
    ids=["latin-1", "cut-at-end", "bom-then-garbage", "escape", "backspace", "c1", "late-bell"],
)
def test_text_that_is_not_clean_utf8_is_refused(data):
    assert refusal(data) == "text_encoding"


# --- position ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [pillow_image("PNG"), pdf_bytes(), cda(), TEXT.encode(), b"", BILLION_LAUGHS, b"x" * 11]
)
def test_the_position_is_back_at_zero_whatever_the_outcome(data):
    upload = io.BytesIO(data)
    upload.seek(len(data) // 2)  # the whole file is inspected wherever it was left
    with contextlib.suppress(RejectedFile):
        inspect_upload(upload, max_bytes=10)
    assert upload.tell() == 0
    assert upload.read() == data


def test_an_image_inspection_leaves_the_upload_open_and_readable():
    upload = SimpleUploadedFile("photo.jpg", pillow_image("JPEG"))
    inspect_upload(upload, max_bytes=LIMIT)
    assert not upload.closed
    assert upload.read(3) == b"\xff\xd8\xff"


# --- display name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "label"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("C:\\Users\\Marie\\Documents\\bilan sanguin.pdf", "bilan sanguin.pdf"),
        ("compte\x00 rendu\r\n.pdf", "compte rendu.pdf"),
        ("facture\u202efdp.exe", "facturefdp.exe"),  # right-to-left override removed
        ("  radio\u00a0\tgenou.png  ", "radio genou.png"),
        ("..", "document"),
        ("", "document"),
        (".htaccess", "htaccess"),
        ("Compte-rendu e\u0301te\u0301.pdf", "Compte-rendu été.pdf"),
    ],
)
def test_safe_display_name(original, label):
    assert safe_display_name(original) == label


def test_a_long_display_name_is_shortened_keeping_its_extension():
    label = safe_display_name("r" * 300 + ".pdf")
    assert len(label) == DISPLAY_NAME_MAX
    assert label.endswith("rrr.pdf")
    assert len(safe_display_name("x" * 300)) == DISPLAY_NAME_MAX


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{\\rtf1\\ansi Bonjour}", None),
        (b"{\\rtf1\\ansi Bonjour", "damaged"),
        (b"{\\rtf1 " + b"\x7fELF\x00\x00" + b"}", "unsupported_type"),
        (b"{\\rtf1 {\\object\\objemb {\\objdata 0102}}}", "rtf_control_word"),
        (b"{\\rtf1 caf\xe9}", "unsupported_type"),
    ],
)
def test_rtf_is_plain_7_bit_and_carries_no_embedded_object(content, code):
    upload = io.BytesIO(content)
    if code is None:
        assert inspect_upload(upload, max_bytes=1024).kind == "rtf"
    else:
        with pytest.raises(RejectedFile) as refused:
            inspect_upload(upload, max_bytes=1024)
        assert refused.value.code == code
