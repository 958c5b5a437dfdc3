"""Cut an upload that is too large while it streams in, before a byte of it reaches the disk.

Django parses a multipart body as it reads it, and hands each file's bytes to the upload
handlers of ``FILE_UPLOAD_HANDLERS`` in turn. ``SizeLimitUploadHandler`` comes first: it stops
the parse (``StopUpload``) as soon as the request announces more than ``max_request_bytes()``
(``Content-Length``: Django never reads past it, so it bounds everything that follows), or a
file part announces, or sends, more than ``RECORDS_MAX_UPLOAD_BYTES``. Being first, it stops the
parse before the memory and temporary-file handlers after it create or write anything. The
fields that came before the file (the CSRF token, the title, the category, the date) are kept,
so the form can say what happened and keep what was typed; ``upload_was_cut(request)`` tells it.

What happens to the rest of the body decides whether the person sees that page. A client that
sends the whole body before it reads the answer (http.client, most scripts, some browsers on
some networks) gets a broken connection, not the page, when the server stops reading: measured
on gunicorn's sync worker, tests/records/test_upload_gunicorn.py. So a body announced up to
``max_drained_bytes()`` (twice the limit) is read to its end and thrown away, 16 KB at a time
(Django's ``exhaust``: nothing is kept in memory nor written), and the answer then goes through
to every client. A larger body is not read at all (``connection_reset``): the answer is written,
gunicorn closes its side and stops reading; a browser, which reads while it sends, still shows
the page (measured), a script gets a reset.

The handler holds for every URL, not only the upload form: no multipart body over the limit is
ever kept, wherever it is sent. The non-file part of any request is bounded by Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (settings). In front of the application the reverse proxy
should refuse larger bodies still earlier (README, "Upload limits": gunicorn has no body limit).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# What a form adds to its file: the CSRF token, the title (200 characters, each up to 4 bytes
# in UTF-8), category, date, the part headers with the file's name and the boundaries.
FORM_OVERHEAD_BYTES = 64 * 1024
_CUT_MARK = "_dmp_upload_cut"


def max_request_bytes() -> int:
    """The largest request body whose file can still be within the limit."""
    return settings.RECORDS_MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES


def max_drained_bytes() -> int:
    """The largest body read to its end (and thrown away) after its file was refused, so that
    the answer reaches a client that sends everything before reading; larger ones are cut."""
    return 2 * settings.RECORDS_MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES


def upload_was_cut(request) -> bool:
    """Whether a file of this request was refused for its size while it was being received
    (the request then holds no file at all)."""
    return getattr(request, _CUT_MARK, False)


class SizeLimitUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: refuse before reading what would pass the limit."""

    announced_too_much = False
    drain = True

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        self.announced_too_much = content_length > max_request_bytes()
        self.drain = content_length <= max_drained_bytes()
        return None  # let Django parse: the fields before the file are kept

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        if self.announced_too_much or (content_length or 0) > settings.RECORDS_MAX_UPLOAD_BYTES:
            self._cut()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.RECORDS_MAX_UPLOAD_BYTES:
            self._cut()
        return raw_data  # on to the memory or temporary-file handler

    def file_complete(self, file_size: int) -> None:
        return None  # the handlers after this one build the file

    def _cut(self) -> None:
        if self.request is not None:
            setattr(self.request, _CUT_MARK, True)
        # Without a reset, Django reads the rest of the body and drops it (bounded by
        # Content-Length, see max_drained_bytes); with one, it reads nothing more.
        raise StopUpload(connection_reset=not self.drain)
