"""Encrypted files on a real S3 server (SeaweedFS, started by scripts/testenv.py).

Run with ``DMP_TEST_STORAGE=s3 python3 scripts/testenv.py -- .venv/bin/python -m pytest ...``;
without it these tests are skipped (the file-object tests at the top run everywhere).
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from django.core.files.storage import default_storage

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.files import (
    DEFAULT_CHUNK,
    TAG_BYTES,
    EncryptingReader,
    open_decrypted,
    save_encrypted,
)
from dmp_portal.object_storage import RangedObjectReader, RangedS3Storage
from dmp_portal.settings.storage import MULTIPART_BYTES
from tests.storage_backends import s3_only

pytestmark = pytest.mark.django_db
AAD = b"records.document.file|row=s3-test"


@pytest.fixture
def data_key():
    return create_data_key("patient")


def test_the_encrypting_reader_is_a_complete_unseekable_file_object(data_key):
    reader = EncryptingReader(io.BytesIO(b"x" * 1000), data_key, AAD)
    assert reader.readable() and not reader.seekable() and not reader.closed
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(0)
    buffered = io.BufferedReader(reader, buffer_size=64)  # uses readinto()
    sealed = buffered.read()
    assert len(sealed) > 1000
    buffered.close()
    assert reader.closed


@s3_only
def test_a_file_larger_than_a_part_is_uploaded_in_parts_and_reads_back(data_key):
    content = os.urandom(2 * MULTIPART_BYTES + 12345)
    calls: list[str] = []

    def record_call(model, **kwargs):
        calls.append(model.name)

    events = default_storage.connection.meta.client.meta.events  # set up if a test reset it
    events.register("before-call.s3", record_call)
    try:
        name, size = save_encrypted(
            default_storage, "records/big.bin", io.BytesIO(content), data_key, AAD
        )
    finally:
        events.unregister("before-call.s3", record_call)
    assert size == len(content)
    assert "PutObject" not in calls, "never the whole file in one request"
    assert calls.count("UploadPart") == 3
    assert calls[-1] == "CompleteMultipartUpload"
    digest = hashlib.sha256()
    for chunk in open_decrypted(default_storage, name, data_key, AAD):
        digest.update(chunk)
    assert digest.digest() == hashlib.sha256(content).digest()
    default_storage.delete(name)
    assert not default_storage.exists(name)


@s3_only
def test_reads_fetch_the_ciphertext_chunk_by_chunk_with_ranged_gets(data_key):
    content = os.urandom(5 * DEFAULT_CHUNK + 3)
    name, _ = save_encrypted(
        default_storage, "records/ranged.bin", io.BytesIO(content), data_key, AAD
    )
    ranges: list[str | None] = []

    def record_range(params, **kwargs):
        ranges.append(params.get("Range"))

    storage: RangedS3Storage = default_storage._wrapped
    events = storage.connection.meta.client.meta.events
    events.register("provide-client-params.s3.GetObject", record_range)
    try:
        handle = default_storage.open(name, "rb")
        assert isinstance(handle.file, RangedObjectReader)
        handle.close()
        plaintext = b"".join(open_decrypted(default_storage, name, data_key, AAD))
    finally:
        events.unregister("provide-client-params.s3.GetObject", record_range)
    assert plaintext == content
    assert all(ranges), "every GET asks a range, never the whole object"
    lengths = [
        int(end) - int(start) + 1
        for start, end in (value.removeprefix("bytes=").split("-") for value in ranges)
    ]
    assert max(lengths) <= DEFAULT_CHUNK + TAG_BYTES
    assert len(ranges) == 1 + 6, "the header, then one GET per sealed chunk"


@s3_only
def test_a_missing_object_is_file_not_found_and_names_are_never_reused(data_key):
    with pytest.raises(FileNotFoundError):
        default_storage.open("records/never-stored.bin", "rb")
    first, _ = save_encrypted(default_storage, "records/same.bin", io.BytesIO(b"a"), data_key, AAD)
    second, _ = save_encrypted(default_storage, "records/same.bin", io.BytesIO(b"b"), data_key, AAD)
    assert first != second, "a taken name gets a suffix: a stored file is never replaced"
    assert b"".join(open_decrypted(default_storage, first, data_key, AAD)) == b"a"
