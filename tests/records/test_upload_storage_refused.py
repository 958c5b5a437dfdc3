"""When the storage refuses to write (full, read-only, gone), the upload page says so and what
to do, with the form still filled in: no 500 page, no row, no file (issue 18, item 2). The drill
tests/drills/test_storage_full.py does the same on a real full, then read-only, filesystem."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation
from django.utils.html import escape

from audit.models import Action, AuditEvent
from records.models import Document
from records.upload_errors import StorageUnavailable
from tests.records.factories import patient_with_login, post_upload

pytestmark = pytest.mark.django_db


def local_storage(location) -> dict:
    """The local disk at ``location``, whatever DMP_STORAGE says (the suite may run on S3)."""
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }


def test_a_storage_that_refuses_the_write_gives_the_form_back_with_what_to_do(tmp_path, caplog):
    # A real refusal of the operating system, without mounting anything: the storage's folder
    # lies under a regular file, so creating it fails (NotADirectoryError, an OSError as
    # ENOSPC and EROFS are).
    (tmp_path / "not-a-folder").write_text("")
    _patient, client = patient_with_login()
    with override_settings(STORAGES=local_storage(tmp_path / "not-a-folder" / "media")):
        response = post_upload(client)
    assert response.status_code == 200
    form = response.context["form"]
    with translation.override(settings.LANGUAGE_CODE):
        assert form.errors["file"] == [StorageUnavailable().message]
        assert escape(StorageUnavailable().message) in response.content.decode()
    assert form["title"].value() == "Bilan sanguin de mars"
    assert not Document.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.UPLOAD).exists()
    assert "upload not stored: the storage refused the write (ENOTDIR)" in caplog.text

    with override_settings(STORAGES=local_storage(tmp_path / "media")):
        assert (
            post_upload(client).status_code == 302
        )  # the storage back: the same upload goes through
    document = Document.objects.get()
    assert (tmp_path / "media" / document.file_name).is_file()
