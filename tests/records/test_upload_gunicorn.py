"""A too-large upload sent to the real gunicorn gets the page with the French message, not a
broken connection, whether the client reads while it sends (a browser) or only once it has sent
everything (http.client, scripts); nothing is stored.

gunicorn runs as the image runs it (sync worker) on the test database, with a logged-in
patient's session. The "browser" posts through a raw socket, one thread sending while the other
reads; the "script" is http.client. Measured before the fix (the cut read nothing more): a
script sending 6 MB got BrokenPipeError and no page; a browser got the page.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from records.models import Document
from tests.records.factories import patient_with_login

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
CUT_MESSAGE = re.compile(r"dépasse la taille maximale de 5(\s|\xa0|&nbsp;)Mo")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory, redis_broker, django_db_setup):
    """gunicorn on a free loopback port, on the test database (each test commits its data:
    transactional tests) and its Redis (``redis_broker``: skipped without the real services, a
    failure under CI). One server for the module: it holds no state between requests."""
    db = connection.settings_dict
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        LOG_LEVEL="WARNING",
    )
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "dmp_portal.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "sync"]
            + ["--no-control-socket", "--timeout", "30"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclass
class Answer:
    head: bytes = b""
    body: bytes = b""
    error: str = ""  # what the reading side got instead of the end of the answer
    sent: int = 0
    send_error: str = ""
    raw: bytearray = field(default_factory=bytearray)

    @property
    def status(self) -> int | None:
        match = re.match(rb"HTTP/1\.[01] (\d{3})", self.head)
        return int(match.group(1)) if match else None

    @property
    def page(self) -> str:
        return self.body.decode("utf-8", "replace")


def sequential_post(port: int, path: str, cookies: str, body: bytes) -> Answer:
    """http.client: the whole body is sent before the answer is read (as scripts do)."""
    answer = Answer()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(
            "POST",
            path,
            body,
            {
                "Cookie": cookies,
                "Content-Type": MULTIPART_CONTENT,
                "Accept-Language": "fr",
                "Origin": f"http://127.0.0.1:{port}",
            },
        )
        response = conn.getresponse()
        answer.head = f"HTTP/1.1 {response.status} {response.reason}".encode()
        answer.body = response.read()
    except OSError as error:
        answer.error = type(error).__name__
    finally:
        conn.close()
    return answer


def browser_post(port: int, path: str, cookies: str, body: bytes, *, chunked: bool) -> Answer:
    """POST ``body`` as a browser does: one thread sends, the other reads the answer."""
    answer = Answer()
    headers = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Cookie: {cookies}",
        f"Content-Type: {MULTIPART_CONTENT}",
        "Accept-Language: fr",
        f"Origin: http://127.0.0.1:{port}",
        f"Referer: http://127.0.0.1:{port}{path}",
    ]
    headers.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)

    def send() -> None:
        try:
            sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode("ascii"))
            for start in range(0, len(body), 64 * 1024):
                piece = body[start : start + 64 * 1024]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                answer.sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError as error:
            answer.send_error = type(error).__name__

    sender = threading.Thread(target=send)
    sender.start()
    try:
        while data := sock.recv(65536):
            answer.raw += data
    except OSError as error:
        answer.error = type(error).__name__
    sender.join(timeout=30)
    sock.close()
    head, _, rest = bytes(answer.raw).partition(b"\r\n\r\n")
    answer.head = head
    if b"transfer-encoding: chunked" in head.lower():
        rest = _unchunk(rest)
    answer.body = rest
    return answer


def _unchunk(data: bytes) -> bytes:
    out, position = bytearray(), 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return bytes(out)
        size = int(data[position:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(out)
        out += data[line_end + 2 : line_end + 2 + size]
        position = line_end + 2 + size + 2


def upload_body(token: str, size: int) -> bytes:
    return encode_multipart(
        BOUNDARY,
        {
            "csrfmiddlewaretoken": token,
            "title": "Bilan sanguin de mars",
            "category": "biologie",
            "act_date": "12/03/2026",
            "file": _File("scanner.txt", b"x" * size),
        },
    )


class _File:
    """What ``encode_multipart`` takes for a file field."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name, self.content = name, content

    def read(self) -> bytes:
        return self.content


@pytest.fixture
def patient_session():
    _patient, client = patient_with_login()
    client.get("/records/upload/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    return cookies, token


OVER_THE_LIMIT = {
    "6-mb": 6 * MB,  # announced too much: the rest is read and dropped
    "just-over-5-mb": 5 * MB + 16 * 1024,  # announced within the cap: cut as it passes 5 MB
}


@pytest.mark.parametrize("size", OVER_THE_LIMIT.values(), ids=OVER_THE_LIMIT.keys())
@pytest.mark.parametrize("client", ["browser", "script"])
def test_a_too_large_upload_gets_the_page_with_the_message(gunicorn, patient_session, client, size):
    cookies, token = patient_session
    body = upload_body(token, size)
    if client == "browser":
        answer = browser_post(gunicorn, "/records/upload/", cookies, body, chunked=False)
    else:
        answer = sequential_post(gunicorn, "/records/upload/", cookies, body)
    assert answer.status == 200, (answer.error, answer.head[:200])
    assert CUT_MESSAGE.search(answer.page)
    assert 'value="Bilan sanguin de mars"' in answer.page
    assert not answer.error  # the whole answer, then the server's FIN: no reset
    assert not Document.objects.exists()


def test_far_over_twice_the_limit_a_browser_still_gets_the_page(gunicorn, patient_session):
    # Not read at all: gunicorn writes the answer, then closes its side (FIN) before it stops
    # reading, so a client that reads while it sends has the whole page before the reset.
    cookies, token = patient_session
    answer = browser_post(
        gunicorn, "/records/upload/", cookies, upload_body(token, 11 * MB), chunked=False
    )
    assert answer.status == 200 and CUT_MESSAGE.search(answer.page)
    assert answer.sent < 11 * MB  # the server stopped reading: the rest was never sent
    assert not Document.objects.exists()


def test_a_chunked_body_is_not_parsed_at_all(gunicorn, patient_session):
    # Without Content-Length Django sees an empty body (WSGI): no token, so CSRF refuses, and
    # none of the file is read. Browsers always send a Content-Length with a form.
    cookies, token = patient_session
    answer = browser_post(
        gunicorn, "/records/upload/", cookies, upload_body(token, 6 * MB), chunked=True
    )
    assert answer.status == 403
    assert not Document.objects.exists()
