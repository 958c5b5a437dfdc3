"""The portal served as it is deployed, for the drills: gunicorn (sync workers, the image's
command) on a free loopback port, on the test database, and a plain HTTP client that tells a
whole answer from a cut one.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests.processes import ROOT, stop_worker, wait_listening

# The portal's own 500 page, in French (templates/500.html): never Django's bare one.
PORTAL_500 = ("Erreur 500", "Une erreur est survenue", "</html>")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def the_test_database_url() -> str:
    """The test database (pytest-django's ``test_`` copy), not the one DATABASE_URL names."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@dataclass
class Server:
    port: int
    log: Path
    process: subprocess.Popen


@contextlib.contextmanager
def gunicorn(folder: Path, *, workers: int = 2, **env: str) -> Iterator[Server]:
    """gunicorn serving the portal until the block ends; ``env`` adds to its environment."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": the_test_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "plain",
        **env,
    }
    log_path = folder / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "dmp_portal.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
            + ["--worker-class", "sync", "--no-control-socket", "--timeout", "30"],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_listening(process, port, log_path, "gunicorn")
        yield Server(port, log_path, process)
    finally:
        stop_worker(process)


@dataclass
class Answer:
    status: int | None = None  # None: no answer (refused, reset, cut)
    body: bytes = b""
    error: str = ""  # the client's exception when the answer is missing or cut
    location: str = ""
    started: float = 0.0
    ended: float = 0.0

    @property
    def page(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def refused(self) -> bool:
        return self.status is None and self.error == "ConnectionRefusedError"

    @property
    def portal_500(self) -> bool:
        return self.status == 500 and all(part in self.page for part in PORTAL_500)


def request(
    port: int,
    method: str,
    path: str,
    *,
    cookies: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on its own connection; a body shorter than announced is an error
    (http.client's IncompleteRead), never a silent partial page."""
    answer = Answer(started=time.monotonic())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = {"Cookie": cookies, "Accept-Language": "fr", "Origin": f"http://127.0.0.1:{port}"}
    if body is not None:
        sent["Content-Type"] = MULTIPART_CONTENT
    try:
        conn.request(method, path, body, {**sent, **(headers or {})})
        response = conn.getresponse()
        answer.body = response.read()
        answer.status = response.status
        answer.location = response.getheader("Location") or ""
    except (OSError, http.client.HTTPException) as error:
        answer.error = type(error).__name__
        answer.status = None
    finally:
        conn.close()
        answer.ended = time.monotonic()
    return answer


class _File:
    """What ``encode_multipart`` takes for a file field."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name, self.content = name, content

    def read(self) -> bytes:
        return self.content


def upload_body(token: str, title: str, name: str, content: bytes) -> bytes:
    """The patient's upload form, filled in."""
    return encode_multipart(
        BOUNDARY,
        {
            "csrfmiddlewaretoken": token,
            "title": title,
            "category": "biologie",
            "act_date": "12/03/2026",
            "file": _File(name, content),
        },
    )


def session_of(client) -> tuple[str, str]:
    """A logged-in test client's cookies, as a header, and its CSRF token (after one GET of
    the upload form, which sets it)."""
    client.get("/records/upload/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    return cookies, token


def upload_page(
    port: int, cookies: str, token: str, title: str, content: bytes, timeout: float = 30
) -> Answer:
    """A PDF sent through the upload page, as the browser of the session ``cookies`` sends it."""
    return request(
        port,
        "POST",
        "/records/upload/",
        cookies=cookies,
        body=upload_body(token, title, "bilan.pdf", content),
        headers={"Referer": f"http://127.0.0.1:{port}/records/upload/"},
        timeout=timeout,
    )
