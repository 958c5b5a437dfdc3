"""PDFs built byte by byte for the upload tests: a clean one-page document, and the same with
active content added where a reader would find it. Offsets and cross-reference tables are
computed, so every specimen parses strictly: only its content can get it refused. The plain
one-page PDF is the benchmarks' too (bench/world.py); the specimens that hide objects are here."""

from __future__ import annotations

import zlib

from bench.world import PDF_CONTENT, PDF_PAGE
from bench.world import build_pdf as build_pdf


def build_pdf_with_object_stream(hidden: list[bytes], *, catalog_extra: bytes = b"") -> bytes:
    """A PDF 1.5 whose objects ``hidden`` (numbered from 5) are stored compressed inside an
    object stream, listed by a compressed cross-reference stream: nothing of them shows in
    the file's bytes."""
    plain = [
        b"<</Type/Catalog/Pages 2 0 R%s>>" % catalog_extra,
        b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(PDF_CONTENT) + 1, PDF_CONTENT),
        PDF_PAGE % b"",
    ]
    first_hidden = len(plain) + 1
    header, data = b"", b""
    for index, hidden_body in enumerate(hidden):
        header += b"%d %d " % (first_hidden + index, len(data))
        data += hidden_body + b" "
    packed = zlib.compress(header + data)
    objstm_number = first_hidden + len(hidden)
    objstm = b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>stream\n%s\nendstream" % (
        len(hidden),
        len(header),
        len(packed),
        packed,
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in enumerate([*plain, None], start=1):
        if body is None:
            number, body = objstm_number, objstm
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_number = objstm_number + 1
    offsets[xref_number] = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    for number in range(1, xref_number + 1):
        if number in offsets:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00")
        else:  # inside the object stream, at its index
            rows.append(
                b"\x02"
                + objstm_number.to_bytes(4, "big")
                + (number - first_hidden).to_bytes(2, "big")
            )
    table = zlib.compress(b"".join(rows))
    out += b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 2]/Root 1 0 R/Filter/FlateDecode/Length %d>>" % (
        xref_number,
        xref_number + 1,
        len(table),
    )
    out += b"stream\n%s\nendstream\nendobj\n" % table
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)
