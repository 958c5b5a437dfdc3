"""PDFs built byte by byte for the upload tests: a clean one-page document, and the same with
active content added where a reader would find it. Offsets and cross-reference tables are
computed, so every specimen parses strictly: only its content can get it refused."""

from __future__ import annotations

import zlib

PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 3 0 R%s>>"
CONTENT = b"BT /F1 12 Tf 72 720 Td (Compte rendu) Tj ET"


def build_pdf(
    objects: list[bytes], *, catalog_extra: bytes = b"", page_extra: bytes = b""
) -> bytes:
    """A one-page PDF (objects 1 to 4: catalog, pages, content, page) followed by ``objects``
    (numbered from 5), with a classic cross-reference table."""
    content = b"<</Length %d>>stream\n%s\nendstream" % (len(CONTENT) + 1, CONTENT)
    bodies = [
        b"<</Type/Catalog/Pages 2 0 R%s>>" % catalog_extra,
        b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
        content,
        PAGE % page_extra,
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def build_pdf_with_object_stream(hidden: list[bytes], *, catalog_extra: bytes = b"") -> bytes:
    """A PDF 1.5 whose objects ``hidden`` (numbered from 5) are stored compressed inside an
    object stream, listed by a compressed cross-reference stream: nothing of them shows in
    the file's bytes."""
    plain = [
        b"<</Type/Catalog/Pages 2 0 R%s>>" % catalog_extra,
        b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(CONTENT) + 1, CONTENT),
        PAGE % b"",
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
