"""Encrypted files: streamed in chunks, memory bounded, any alteration refused."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc

import pytest
from django.core.files.storage import FileSystemStorage

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.errors import DecryptionError
from dmp_portal.crypto.files import (
    DEFAULT_CHUNK,
    HEADER_BYTES,
    iter_decrypted,
    open_decrypted,
    save_encrypted,
)

pytestmark = pytest.mark.django_db
AAD = b"records.document.file|row=test"


@pytest.fixture
def storage(tmp_path):
    return FileSystemStorage(location=tmp_path / "media")


@pytest.fixture
def data_key():
    return create_data_key("patient")


@pytest.mark.parametrize("size", [0, 1, DEFAULT_CHUNK - 1, DEFAULT_CHUNK, DEFAULT_CHUNK * 2 + 7])
def test_files_round_trip_at_chunk_boundaries(storage, data_key, size):
    content = os.urandom(size)
    name, plain_size = save_encrypted(storage, "doc.bin", io.BytesIO(content), data_key, AAD)
    assert plain_size == size
    assert b"".join(open_decrypted(storage, name, data_key, AAD)) == content


def encrypted_bytes(storage, data_key, content: bytes) -> bytes:
    name, _size = save_encrypted(storage, "doc.bin", io.BytesIO(content), data_key, AAD)
    with storage.open(name, "rb") as handle:
        return handle.read()


def test_truncating_a_file_at_a_chunk_boundary_is_refused(storage, data_key):
    blob = encrypted_bytes(storage, data_key, os.urandom(DEFAULT_CHUNK * 3))
    truncated = blob[: HEADER_BYTES + 2 * (DEFAULT_CHUNK + 16)]
    with pytest.raises(DecryptionError):
        b"".join(iter_decrypted(io.BytesIO(truncated), data_key, AAD))


def test_reordered_chunks_are_refused(storage, data_key):
    blob = encrypted_bytes(storage, data_key, os.urandom(DEFAULT_CHUNK * 3))
    size = DEFAULT_CHUNK + 16
    chunks = [blob[HEADER_BYTES + i * size : HEADER_BYTES + (i + 1) * size] for i in range(3)]
    swapped = (
        blob[:HEADER_BYTES] + chunks[1] + chunks[0] + chunks[2] + blob[HEADER_BYTES + 3 * size :]
    )
    with pytest.raises(DecryptionError):
        b"".join(iter_decrypted(io.BytesIO(swapped), data_key, AAD))


def test_a_flipped_byte_or_another_owner_is_refused(storage, data_key):
    blob = bytearray(encrypted_bytes(storage, data_key, b"compte rendu" * 1000))
    with pytest.raises(DecryptionError):
        b"".join(iter_decrypted(io.BytesIO(bytes(blob)), create_data_key("patient"), AAD))
    with pytest.raises(DecryptionError):
        b"".join(iter_decrypted(io.BytesIO(bytes(blob)), data_key, b"another row"))
    blob[HEADER_BYTES + 100] ^= 1
    with pytest.raises(DecryptionError):
        b"".join(iter_decrypted(io.BytesIO(bytes(blob)), data_key, AAD))


def test_a_50_mb_file_is_encrypted_and_served_in_bounded_memory(storage, data_key, tmp_path):
    source = tmp_path / "large.bin"
    expected = hashlib.sha256()
    with source.open("wb") as handle:
        for _index in range(50):
            block = os.urandom(1024 * 1024)
            expected.update(block)
            handle.write(block)

    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            name, size = save_encrypted(storage, "large.bin", handle, data_key, AAD)
        _current, encrypt_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        served = hashlib.sha256()
        for chunk in open_decrypted(storage, name, data_key, AAD):
            served.update(chunk)
        _current, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size == 50 * 1024 * 1024
    assert served.digest() == expected.digest()
    # Well under the file's size: a few chunks in flight, never the whole file.
    assert encrypt_peak < 4 * 1024 * 1024, encrypt_peak
    assert decrypt_peak < 4 * 1024 * 1024, decrypt_peak
