"""A letter rendered while the storage is full, then read-only (issue 18, item 2): the write
fails, nothing partial is left, the letter stays to render, and the task's retry stores it
under its own name once the storage takes writes again.

A real filesystem: a 1 MiB tmpfs as the storage (root only, as the storage drill; skipped
elsewhere, failing under CI=true).
"""

from __future__ import annotations

import errno
import os
import uuid

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DataError
from django.test import override_settings

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.files import open_decrypted
from letters.models import Letter, LetterState
from letters.services import RenderedLetter, render
from tests.filesystems import LEFT_FREE, fill, run, tmpfs

pytestmark = pytest.mark.django_db
# Larger than what a full tmpfs leaves (LEFT_FREE): the write begins, then fails half-way.
PDF_BYTES = os.urandom(200_000)


def build_large_letter(letter: Letter) -> RenderedLetter:
    """A builder whose letter is larger than the room left (its content does not matter)."""
    return RenderedLetter(
        pdf=PDF_BYTES, page_count=1, postal={"postcode": "75001", "city": "Paris", "country": ""}
    )


def storages(location) -> dict:
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


def stored_files(folder) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_a_letter_on_a_full_then_read_only_storage_leaves_nothing_and_renders_later(tmp_path):
    letter = Letter.objects.create(
        kind="storage_test", subject_uid=uuid.uuid4(), data_key=create_data_key("patient")
    )
    builders = {**settings.LETTER_BUILDERS, "storage_test": f"{__name__}.build_large_letter"}
    with (
        tmpfs(tmp_path / "media") as media,
        override_settings(STORAGES=storages(media), LETTER_BUILDERS=builders),
    ):
        (media / "letters").mkdir()
        filler = fill(media, LEFT_FREE)
        with pytest.raises(OSError) as full:
            render(letter.pk)
        assert full.value.errno == errno.ENOSPC
        assert stored_files(media) == ["filler"], "nothing partial left"
        letter.refresh_from_db()
        assert letter.state == LetterState.REQUESTED and letter.pdf_name == ""

        filler.unlink()
        run("mount", "-o", "remount,ro", str(media))
        with pytest.raises(OSError) as read_only:
            render(letter.pk)
        assert read_only.value.errno == errno.EROFS
        letter.refresh_from_db()
        assert letter.state == LetterState.REQUESTED

        run("mount", "-o", "remount,rw", str(media))
        assert render(letter.pk) is True  # the task's retry
        letter.refresh_from_db()
        assert letter.state == LetterState.RENDERED
        assert letter.pdf_name == f"letters/{letter.uid}.pdf", "its own name, not a suffixed one"
        assert stored_files(media) == [letter.pdf_name]
        assert (
            b"".join(
                open_decrypted(default_storage, letter.pdf_name, letter.data_key, letter.pdf_aad())
            )
            == PDF_BYTES
        )


def build_unsavable_letter(letter: Letter) -> RenderedLetter:
    """A letter whose row the database refuses once its file is stored: more pages than the
    column holds."""
    return RenderedLetter(pdf=b"%PDF-1.4 small", page_count=70_000, postal={})


def test_a_letter_whose_row_cannot_be_saved_leaves_no_file(tmp_path):
    letter = Letter.objects.create(
        kind="storage_test", subject_uid=uuid.uuid4(), data_key=create_data_key("patient")
    )
    builders = {**settings.LETTER_BUILDERS, "storage_test": f"{__name__}.build_unsavable_letter"}
    with (
        override_settings(STORAGES=storages(tmp_path), LETTER_BUILDERS=builders),
        pytest.raises(DataError),
    ):
        render(letter.pk)
    assert stored_files(tmp_path) == [], "the stored file went with its row"
    letter.refresh_from_db()
    assert letter.state == LetterState.REQUESTED
