"""What the upload checks answer for a file, for the tests of each format
(tests/records/test_upload_pdf.py, tests/records/test_upload_rtf.py)."""

from __future__ import annotations

import io

from records.file_types import RejectedFile, inspect_upload

# The upload limit the tests inspect with (RECORDS_MAX_UPLOAD_BYTES's default).
LIMIT = 5 * 1024 * 1024


def verdict(data: bytes) -> str:
    """ "accepted", or the code of the refusal (which always comes with a message)."""
    try:
        inspect_upload(io.BytesIO(data), max_bytes=LIMIT)
    except RejectedFile as refused:
        assert refused.message
        return refused.code
    return "accepted"
