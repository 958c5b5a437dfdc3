"""A 50 MB document downloads in a few MiB of memory, on the local disk and on S3.

On S3 (``DMP_TEST_STORAGE=s3``) the ciphertext comes with ranged GETs, a sealed chunk at a time
(dmp_portal/object_storage.py): the stock backend downloaded the whole object into memory on the
first read. Each peak is recorded as a ``measured`` property, which tests/conftest.py prints in
the run's summary (section « measured figures »), so that CI's log shows it on both backends.
"""

from __future__ import annotations

import hashlib
import random
import tracemalloc
from datetime import date

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from dmp_portal.crypto.files import save_encrypted
from records.models import Category, Document
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
FILE_SIZE = 50 * MiB
# A sealed chunk is 256 KiB: a few of them in flight, the HTTP client's buffers, the response.
PEAK_LIMIT = 4 * MiB
# Storing: on S3 a multipart upload holds its parts (dmp_portal/settings/storage.py: 8 MiB, two
# sent at once, one more being read, and that one joined from its chunks: ~33 MiB measured, the
# same whatever the file's size; 49 MiB when boto3 let ten parts wait); on the disk, a chunk or two.
UPLOAD_PEAK_LIMIT = {"RangedS3Storage": 40 * MiB, "FileSystemStorage": 4 * MiB}


class Generated:
    """Pseudo-random bytes produced as they are read and hashed on the way (never held whole)."""

    def __init__(self, seed: int, size: int) -> None:
        self.random = random.Random(seed)
        self.left = size
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.random.randbytes(size)
        self.left -= size
        self.sha256.update(data)
        return data


def backend_name() -> str:
    return settings.STORAGES["default"]["BACKEND"].rsplit(".", 1)[-1]


def stored_document(patient, size: int) -> tuple[Document, Generated]:
    """A document written with the crypto layer directly (no upload checks: fast)."""
    document = Document(
        patient=patient,
        data_key=patient.data_key,
        author=patient,
        title=f"Scanner {size}",
        category=Category.objects.get(code="imagerie"),
        act_date=date(2026, 1, 5),
        media_type="application/pdf",
        extension=".pdf",
        size=size,
    )
    source = Generated(size, size)
    document.file_name, _size = save_encrypted(
        default_storage,
        f"records/{document.uid}.bin",
        source,
        document.data_key,
        document.file_aad(),
    )
    document.save()
    return document, source


def test_a_50_mb_download_keeps_memory_under_a_few_mib(record_property):
    patient, client = patient_with_login()
    small, _ = stored_document(patient, 1000)
    document, source = stored_document(patient, FILE_SIZE)
    try:
        # A first, small download loads what every first request loads once (URLs, templates,
        # the S3 client's models): the measure is then the download's own cost.
        warm_up = client.get(f"/records/{small.uid}/download/")
        assert len(b"".join(warm_up.streaming_content)) == 1000
        received = hashlib.sha256()
        total = 0
        tracemalloc.start()
        try:
            response = client.get(f"/records/{document.uid}/download/")
            for chunk in response.streaming_content:
                received.update(chunk)
                total += len(chunk)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        record_property(
            "measured",
            f"50 MB download through {backend_name()}: peak {peak / MiB:.2f} MiB traced by"
            " tracemalloc",
        )
        assert response.status_code == 200
        assert (total, received.digest()) == (FILE_SIZE, source.sha256.digest())
        assert peak < PEAK_LIMIT
    finally:
        default_storage.delete(document.file_name)
        default_storage.delete(small.file_name)


def test_storing_50_mb_keeps_memory_bounded(record_property):
    patient, _client = patient_with_login()
    stored_document(patient, 1000)  # the first save loads what it loads once (S3 client models)
    tracemalloc.start()
    try:
        document, source = stored_document(patient, FILE_SIZE)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        record_property(
            "measured", f"50 MB stored through {backend_name()}: peak {peak / MiB:.2f} MiB traced"
        )
        assert default_storage.size(document.file_name) > FILE_SIZE
        assert source.left == 0
        assert peak < UPLOAD_PEAK_LIMIT[backend_name()]
    finally:
        default_storage.delete(document.file_name)
