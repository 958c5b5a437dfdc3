"""The 5 MB limit is enforced while the request body streams in: a larger upload is cut at its
first chunk, nothing is stored, the page says why and keeps the title; a file just under the
limit still goes through. A body up to twice the limit is then read to its end and dropped (so
that a client which sends all before reading gets the page, test_upload_gunicorn.py); a larger
one is not read further (what the server read is counted). CSRF is enforced throughout."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from records.models import Document
from records.uploads import FORM_OVERHEAD_BYTES, max_drained_bytes, max_request_bytes
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
LIMIT = 5 * MB
READ_AT_MOST = 256 * 1024  # the fields, then at most a few 64 KB chunks of the file


class CountingInput:
    """The request body as the server reads it (``wsgi.input``), counting every byte."""

    def __init__(self, body: bytes) -> None:
        self.stream = io.BytesIO(body)
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.consumed += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self.stream.readline(size)
        self.consumed += len(line)
        return line


def csrf_client():
    """A patient's client that must send the CSRF token, as a browser does (token first)."""
    _patient, client = patient_with_login()
    client.handler.enforce_csrf_checks = True
    client.get("/records/upload/")
    return client, client.cookies[settings.CSRF_COOKIE_NAME].value


def stored_files() -> set[str]:
    return (
        set(default_storage.listdir("records")[1]) if default_storage.exists("records") else set()
    )


def post_upload(client, token: str, content: bytes, *, path: str = "/records/upload/"):
    """Post the upload form in the browser's field order; give the response and the body
    bytes the server read."""
    body = encode_multipart(
        BOUNDARY,
        {
            "csrfmiddlewaretoken": token,
            "title": "Bilan sanguin de mars",
            "category": "biologie",
            "act_date": "12/03/2026",
            "file": SimpleUploadedFile("scanner.txt", content, content_type="text/plain"),
        },
    )
    counting = CountingInput(body)
    response = client.generic(
        "POST", path, body, content_type=MULTIPART_CONTENT, **{"wsgi.input": counting}
    )
    return response, counting.consumed, len(body)


class NoSpoolingHandlers:
    """Counts the bytes that the memory and temporary-file handlers (after the limit's) keep."""

    def __init__(self, monkeypatch) -> None:
        self.received = 0
        for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
            original = handler.receive_data_chunk
            monkeypatch.setattr(handler, "receive_data_chunk", self._counting(original))

    def _counting(self, original):
        def receive_data_chunk(handler, raw_data, start):
            passed_on = original(handler, raw_data, start)
            if passed_on is None:  # this handler kept the chunk (a handler passes on the rest)
                self.received += len(raw_data)
            return passed_on

        return receive_data_chunk


def test_a_6_mb_upload_is_cut_at_its_first_chunk_dropped_unkept_and_explained(monkeypatch):
    client, token = csrf_client()
    before = stored_files()
    kept = NoSpoolingHandlers(monkeypatch)
    response, consumed, sent = post_upload(client, token, b"x" * (6 * MB))
    assert sent > 6 * MB
    assert kept.received == 0  # no byte of the file reached memory or a temporary file
    assert consumed == sent  # read to its end and dropped: the answer reaches every client
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["file"]
    assert re.search(r"\b5 M[oB]\b", form.errors["file"][0])
    assert form["title"].value() == "Bilan sanguin de mars"  # what was typed is kept
    assert 'value="Bilan sanguin de mars"' in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files() == before


def test_a_file_just_over_the_limit_in_a_body_under_the_cap_is_cut_as_it_passes_the_limit():
    # The body announces less than the cap (5 MB + form overhead): the handler counts the
    # file's bytes and stops at the first chunk past 5 MB.
    client, token = csrf_client()
    response, consumed, sent = post_upload(client, token, b"x" * (LIMIT + FORM_OVERHEAD_BYTES // 2))
    assert sent <= max_request_bytes()
    assert consumed < LIMIT + READ_AT_MOST
    assert re.search(r"\b5 M[oB]\b", response.context["form"].errors["file"][0])
    assert not Document.objects.exists()


@pytest.mark.parametrize("size", [int(4.9 * MB), LIMIT], ids=["4.9-mb", "exactly-5-mb"])
def test_a_file_up_to_the_limit_still_goes_through(size, monkeypatch):
    client, token = csrf_client()
    kept = NoSpoolingHandlers(monkeypatch)
    response, consumed, sent = post_upload(client, token, b"x" * size)
    assert consumed == sent
    assert kept.received == size  # the counter sees what the handlers keep
    document = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/records/{document.uid}/"
    assert document.size == size and document.title == "Bilan sanguin de mars"


def test_a_body_over_twice_the_limit_is_not_read_past_its_first_chunk(monkeypatch):
    client, token = csrf_client()
    kept = NoSpoolingHandlers(monkeypatch)
    response, consumed, sent = post_upload(client, token, b"x" * (11 * MB))
    assert sent > max_drained_bytes()
    assert consumed < READ_AT_MOST, f"{consumed} bytes read of {sent}"
    assert kept.received == 0
    assert re.search(r"\b5 M[oB]\b", response.context["form"].errors["file"][0])
    assert not Document.objects.exists()


def test_an_oversized_body_is_cut_on_any_address_not_only_the_upload_form():
    client, token = csrf_client()
    response, consumed, _sent = post_upload(client, token, b"x" * (11 * MB), path="/records/")
    assert consumed < READ_AT_MOST
    assert response.status_code in (200, 403, 405)
    assert not Document.objects.exists()


def test_form_fields_over_the_memory_limit_are_refused_before_parsing():
    client, token = csrf_client()
    response = client.post(
        "/records/upload/",
        {"csrfmiddlewaretoken": token, "title": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert response.status_code == 400
    assert not Document.objects.exists()
