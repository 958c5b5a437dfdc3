"""Drill: the media storage fills up, then turns read-only, while patients upload (issue 18,
item 2). gunicorn stores documents on a small tmpfs mounted for the drill (root only: CI runs
as root; elsewhere the drill is skipped, and fails under CI=true).

Verified each time: the upload is refused on the page itself (the form with a message saying
what to do, not a 500 page), the server logs the cause for the operator, nothing partial is left
on the storage, every document row opens and decrypts from its file, no file lacks its row; and
once space is freed (or the storage writable again), the next upload goes through.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.utils import translation
from django.utils.html import escape

from audit.models import Action, AuditEvent
from bench.world import build_pdf
from dmp_portal.crypto.files import open_decrypted
from letters.models import Letter
from records.models import Document
from records.upload_errors import StorageUnavailable
from tests.drills.readback import decrypted_size
from tests.drills.report import Drill
from tests.drills.serving import Answer, gunicorn, session_of, upload_page
from tests.filesystems import LEFT_FREE, SIZE, fill, run, tmpfs
from tests.records.factories import PDF, patient_with_login


def refused(answer: Answer, message: str) -> bool:
    return answer.status == 200 and escape(message) in answer.page


def check_storage(folder: Path) -> tuple[int, int]:
    """Every document and letter row opens and decrypts from its file, and every stored file
    belongs to a row: returns (rows checked, files)."""
    storage = FileSystemStorage(location=str(folder))
    rows = 0
    for document in Document.objects.select_related("data_key"):
        size = decrypted_size(storage, document)
        assert size == document.size, f"document {document.pk}: {size} != {document.size}"
        rows += 1
    for letter in Letter.objects.exclude(pdf_name="").select_related("data_key"):
        assert b"".join(open_decrypted(storage, letter.pdf_name, letter.data_key, letter.pdf_aad()))
        rows += 1
    named = {document.file_name for document in Document.objects.all()}
    named |= set(Letter.objects.exclude(pdf_name="").values_list("pdf_name", flat=True))
    files = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()} - {
        "filler"
    }
    assert files == named, f"files without a row: {files - named}; rows without: {named - files}"
    return rows, len(files)


@pytest.mark.django_db(transaction=True)
def test_uploads_when_the_storage_is_full_then_read_only(tmp_path, redis_broker):
    drill = Drill("storage-full")
    large_pdf = build_pdf([b"<</Length 200000>>stream\n" + b"x" * 200_000 + b"\nendstream"])
    with translation.override("fr"):
        message = StorageUnavailable().message
    patient, client = patient_with_login()
    cookies, token = session_of(client)

    with (
        tmpfs(tmp_path / "media") as media,
        gunicorn(tmp_path, workers=1, MEDIA_ROOT=str(media), DMP_STORAGE="local") as server,
    ):

        def upload(title: str, content: bytes) -> Answer:
            return upload_page(server.port, cookies, token, title, content)

        def stored(answer: Answer) -> bool:
            return answer.status == 302 and answer.location.startswith("/records/")

        assert stored(upload("Avant", PDF))
        filler = fill(media, LEFT_FREE)
        drill.injected(
            f"the {SIZE // 1024} KiB tmpfs under MEDIA_ROOT filled, {LEFT_FREE // 1024} KiB "
            f"left; upload of a {len(large_pdf) // 1000} KB PDF"
        )
        uploads_before = AuditEvent.objects.filter(action=Action.UPLOAD).count()
        answer = upload("Plein", large_pdf)
        assert refused(answer, message), (answer.status, answer.error, answer.page[:500])
        assert Document.objects.count() == 1
        assert AuditEvent.objects.filter(action=Action.UPLOAD).count() == uploads_before
        rows, files = check_storage(media)
        drill.verified(
            f"refused on the form (200) with « {message} »; no row, no event; nothing partial "
            f"left ({files} file for {rows} row, each opened and decrypted)"
        )
        filler.unlink()
        assert stored(upload("Après nettoyage", large_pdf))
        drill.verified("space freed: the same upload is stored (302 to its page)")

        run("mount", "-o", "remount,ro", str(media))
        drill.injected("the tmpfs remounted read-only (mount -o remount,ro); upload of a PDF")
        answer = upload("Lecture seule", PDF)
        assert refused(answer, message), (answer.status, answer.error, answer.page[:500])
        assert Document.objects.count() == 2
        rows, files = check_storage(media)
        drill.verified(
            f"refused on the form with the same message; {files} files for {rows} rows, each "
            "opened and decrypted, none without its row"
        )
        run("mount", "-o", "remount,rw", str(media))
        assert stored(upload("Réparé", PDF))
        check_storage(media)
        drill.verified("writable again: the next upload is stored")
    log = server.log.read_text()
    for cause in ("ENOSPC", "EROFS"):
        assert f"upload not stored: the storage refused the write ({cause})" in log, log[-2000:]
    drill.verified("the server logged each cause for the operator (ENOSPC, then EROFS)")
    drill.done()
