"""Drill: the S3 endpoint goes away while patients upload (issue 18, item 2), on the real S3
server (SeaweedFS, started by scripts/testenv.py with DMP_TEST_STORAGE=s3; skipped otherwise).

gunicorn reaches the bucket through a loopback relay that the drill switches off and on: off,
its port refuses connections and the relayed ones are cut, which is what the portal sees of a
stopped server (the server itself keeps running for the rest of the suite).

Verified: an upload while the endpoint is down gets the form back with the message (not a 500
page), no row, no audit event, no object in the bucket, the cause in the server's log; an upload
cut half-way through its multipart upload the same, with no object (its parts stay as an
unfinished multipart upload, since the abort cannot reach the server either: counted, then
aborted by hand as a bucket lifecycle rule would); once the endpoint is back,
the next upload is stored and every row opens from its object.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.html import escape

from audit.models import Action, AuditEvent
from bench.world import build_pdf
from dmp_portal.object_storage import RangedS3Storage
from dmp_portal.settings.storage import MULTIPART_BYTES
from records.models import Document
from records.upload_errors import StorageUnavailable
from tests.drills.readback import decrypted_size
from tests.drills.report import Drill, wait_until
from tests.drills.serving import Answer, free_port, gunicorn, session_of, upload_page
from tests.records.factories import PDF, patient_with_login
from tests.storage_backends import s3_only

pytestmark = s3_only


class Relay:
    """A TCP relay from a loopback port to the S3 server, which the drill switches off (the
    port refuses connections, those open are cut) and on again (same port). ``cut_after``:
    switch off by itself once that many bytes went towards the server (mid-upload)."""

    def __init__(self, target: int) -> None:
        self.port, self.target = free_port(), target
        self.sent = 0
        self.cut_after: int | None = None
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def on(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def off(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            cut, self._open = self._open, set()
        for sock in [listener, *cut] if listener else cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes accept() and recv() at once
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
                if upstream:
                    self.sent += len(data)
                    if self.cut_after is not None and self.sent >= self.cut_after:
                        self.cut_after = None
                        self.off()
                        return
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def refused(answer: Answer, message: str) -> bool:
    return answer.status == 200 and escape(message) in answer.page


def the_bucket():
    storage = RangedS3Storage(**settings.STORAGES["default"]["OPTIONS"])
    return storage, storage.connection.meta.client, storage.bucket_name


def objects(prefix: str = "records/") -> set[str]:
    _storage, client, bucket = the_bucket()
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for item in listed.get("Contents", [])}


def unfinished_uploads() -> list[dict]:
    _storage, client, bucket = the_bucket()
    return client.list_multipart_uploads(Bucket=bucket, Prefix="records/").get("Uploads", [])


def check_rows() -> int:
    """Every document row opens and decrypts from its object; returns how many."""
    storage = the_bucket()[0]
    for document in Document.objects.select_related("data_key"):
        size = decrypted_size(storage, document)
        assert size == document.size, f"document {document.pk}: {size} != {document.size}"
    return Document.objects.count()


@pytest.mark.django_db(transaction=True)
def test_uploads_when_the_s3_endpoint_is_down_then_cut_mid_upload(tmp_path, redis_broker):
    drill = Drill("storage-unreachable")
    with translation.override("fr"):
        message = StorageUnavailable().message
    # More than two parts: the multipart upload is under way when the relay cuts it.
    large_pdf = build_pdf([b"<</Length 20000000>>stream\n" + b"x" * 20_000_000 + b"\nendstream"])
    patient, client = patient_with_login()
    cookies, token = session_of(client)
    real_port = int(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"].rsplit(":", 1)[1])
    relay = Relay(real_port)
    relay.on()
    try:
        with gunicorn(
            tmp_path,
            workers=1,
            DMP_S3_ENDPOINT_URL=f"http://127.0.0.1:{relay.port}",
            RECORDS_MAX_UPLOAD_MB="30",
        ) as server:

            def upload(title: str, content: bytes) -> Answer:
                return upload_page(server.port, cookies, token, title, content, timeout=120)

            def stored(answer: Answer) -> bool:
                return answer.status == 302 and answer.location.startswith("/records/")

            assert stored(upload("Avant", PDF))
            before = objects()
            events = AuditEvent.objects.filter(action=Action.UPLOAD).count()

            relay.off()
            drill.injected("the S3 endpoint switched off (connections refused); upload of a PDF")
            started = time.monotonic()
            answer = upload("Coupé", PDF)
            took = time.monotonic() - started
            assert refused(answer, message), (answer.status, answer.error, answer.page[:500])
            assert Document.objects.count() == 1
            assert AuditEvent.objects.filter(action=Action.UPLOAD).count() == events
            relay.on()
            assert objects() == before
            drill.verified(
                f"refused on the form (200) after {took:.1f} s with « {message} »; no row, no "
                "event, no object in the bucket"
            )
            assert stored(upload("Revenu", PDF))
            drill.verified("the endpoint back: the next upload is stored (302 to its page)")

            before = objects()
            relay.cut_after = relay.sent + MULTIPART_BYTES + MULTIPART_BYTES // 2
            drill.injected(
                f"the endpoint cut in the middle of a {len(large_pdf) // 1_000_000} MB upload "
                f"(after {MULTIPART_BYTES // 2**20} MiB and a half sent: a multipart upload)"
            )
            answer = upload("Coupé en route", large_pdf)
            assert refused(answer, message), (answer.status, answer.error, answer.page[:500])
            relay.on()
            assert Document.objects.count() == 2
            assert objects() == before
            # boto3 aborts a failed multipart upload, but the abort itself needs the endpoint:
            # cut, the parts sent stay on the server as an unfinished upload, never an object
            # (a bucket lifecycle rule, AbortIncompleteMultipartUpload, clears them: README).
            left = unfinished_uploads()
            assert all(unfinished["Key"] not in objects() for unfinished in left)
            drill.verified(
                f"refused on the form with the same message; no row, no object; unfinished "
                f"multipart uploads left on the server (invisible, no row): {len(left)}"
            )
            _storage, client, bucket = the_bucket()
            for unfinished in left:
                client.abort_multipart_upload(
                    Bucket=bucket, Key=unfinished["Key"], UploadId=unfinished["UploadId"]
                )
            assert unfinished_uploads() == []
            drill.verified(f"aborted by hand once the endpoint was back: {len(left)} upload(s)")
            wait_until(
                lambda: stored(upload("Après la coupure", PDF)), timeout=30, what="an upload stored"
            )
            drill.verified(
                f"the endpoint back: the next upload is stored; {check_rows()} rows "
                "each open and decrypt from their object"
            )
    finally:
        relay.off()
    log = server.log.read_text()
    assert "upload not stored: the storage refused the write (EIO)" in log, log[-2000:]
    drill.verified("the server logged the cause for the operator (EIO, from the S3 client)")
    drill.done()
