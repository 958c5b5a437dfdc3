"""Reading a creation letter back, as the person who receives it would."""

from __future__ import annotations

import io
import re

from django.core.files.storage import default_storage
from pypdf import PdfReader

from dmp_portal.crypto.files import open_decrypted
from letters.models import Letter

CODE_RE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")


def letter_pdf(letter: Letter) -> bytes:
    letter = Letter.objects.select_related("data_key").get(pk=letter.pk)
    return b"".join(
        open_decrypted(default_storage, letter.pdf_name, letter.data_key, letter.pdf_aad())
    )


def letter_text(letter: Letter) -> str:
    reader = PdfReader(io.BytesIO(letter_pdf(letter)))
    return "\n".join(page.extract_text() for page in reader.pages)


def code_from_letter(letter: Letter) -> str:
    match = CODE_RE.search(letter_text(letter))
    assert match, "no creation code printed in the letter"
    return match.group(1)
