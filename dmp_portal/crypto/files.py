"""Files encrypted in chunks before they reach the storage backend, and decrypted as a stream.

Memory stays bounded by the chunk size whatever the file's size. Each file gets its own key,
derived with HKDF from the owner's data key and a random salt; each chunk is sealed with
AES-256-GCM under a counter nonce, its index and a last-chunk flag in the associated data, so
chunks cannot be reordered, dropped or the file truncated without detection.

Format (version 1)::

    "DMPF" | 0x01 | data key id (8) | chunk size (4) | salt (16)
    then chunks: ciphertext | tag (16); every chunk holds ``chunk size`` plaintext bytes but
    the last, which may be shorter (or empty).
"""

from __future__ import annotations

import errno
import io
import logging
import secrets
import struct
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.files import File
from django.core.files.storage import Storage

from dmp_portal.crypto.datakeys import key_material
from dmp_portal.crypto.errors import DecryptionError
from dmp_portal.crypto.models import DataKey

if TYPE_CHECKING:  # the type checker's name for what readinto() fills; nothing at run time
    from _typeshed import WriteableBuffer

MAGIC = b"DMPF"
FILE_FORMAT_V1 = 1
DEFAULT_CHUNK = 256 * 1024
MAX_CHUNK = 4 * 1024 * 1024
TAG_BYTES = 16
_HEADER = struct.Struct(">4sBQI16s")
HEADER_BYTES = _HEADER.size
_CHUNK_AAD = struct.Struct(">QB")

operations_log = logging.getLogger("dmp.operations")


class Readable(Protocol):
    """What encryption reads from: an upload, an open file, a pass-through reader."""

    def read(self, size: int = -1, /) -> bytes: ...


def _file_cipher(data_key: DataKey, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"dmp:file:v1")
    return AESGCM(derived.derive(key_material(data_key)))


def _nonce(index: int) -> bytes:
    return b"\x00\x00\x00\x00" + index.to_bytes(8, "big")


class EncryptingReader(io.RawIOBase):
    """A read-only, forward-only file object whose bytes are the encryption of ``source``.

    It holds one sealed chunk at a time: reading never needs more memory than a chunk or two.
    A complete (raw, unseekable) file object, because storage backends ask more than ``read``:
    django-storages' S3 backend and boto3's multipart upload ask ``closed``, ``readable()`` and
    ``seekable()`` (False: they then stream it part by part instead of seeking back).
    """

    def __init__(
        self, source: Readable, data_key: DataKey, aad: bytes, chunk_size: int = DEFAULT_CHUNK
    ) -> None:
        super().__init__()
        salt = secrets.token_bytes(16)
        header = _HEADER.pack(MAGIC, FILE_FORMAT_V1, data_key.pk, chunk_size, salt)
        self._cipher = _file_cipher(data_key, salt)
        self._aad = header + aad
        self._source = source
        self._chunk_size = chunk_size
        self._index = 0
        self._pending = source.read(chunk_size)
        self._current = memoryview(header)  # the unread part of the last sealed block
        self._done = False
        self.plaintext_size = 0

    def _next_block(self) -> bytes:
        chunk = self._pending
        self._pending = self._source.read(self._chunk_size) if chunk else b""
        final = not self._pending
        self.plaintext_size += len(chunk)
        block = self._cipher.encrypt(
            _nonce(self._index), chunk, self._aad + _CHUNK_AAD.pack(self._index, final)
        )
        self._index += 1
        self._done = final
        return block

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [bytes(self._current)]
            while not self._done:
                parts.append(self._next_block())
            self._current = memoryview(b"")
            return b"".join(parts)
        # Full reads (short only at the end), as a buffered file gives: boto3's upload reads
        # once to decide between one PUT and a multipart upload, and a short first read made
        # it choose one PUT, then read the rest of the file into memory.
        parts, wanted = [], size
        while wanted > 0:
            if not self._current:
                if self._done:
                    break
                self._current = memoryview(self._next_block())
            parts.append(bytes(self._current[:wanted]))  # storages expect bytes
            self._current = self._current[wanted:]
            wanted -= len(parts[-1])
        return b"".join(parts)


def iter_decrypted(source: IO[bytes], data_key: DataKey, aad: bytes) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk; raise DecryptionError on any tampering."""
    header = source.read(HEADER_BYTES)
    if len(header) != HEADER_BYTES:
        raise DecryptionError("encrypted file too short")
    magic, version, key_id, chunk_size, salt = _HEADER.unpack(header)
    if magic != MAGIC or version != FILE_FORMAT_V1:
        raise DecryptionError("not an encrypted file of a known format")
    if not 0 < chunk_size <= MAX_CHUNK:  # read before authentication: bound what it may cost
        raise DecryptionError("encrypted file header announces an impossible chunk size")
    if key_id != data_key.pk:
        raise DecryptionError("file sealed under another data key")
    cipher = _file_cipher(data_key, salt)
    full_aad = header + aad
    sealed_size = chunk_size + TAG_BYTES
    current = source.read(sealed_size)
    index = 0
    while True:
        following = source.read(sealed_size) if len(current) == sealed_size else b""
        final = not following
        try:
            yield cipher.decrypt(_nonce(index), current, full_aad + _CHUNK_AAD.pack(index, final))
        except InvalidTag as exc:
            raise DecryptionError("encrypted file altered, truncated or misplaced") from exc
        if final:
            return
        current, index = following, index + 1


def save_encrypted(
    storage: Storage, name: str, source: Readable, data_key: DataKey, aad: bytes
) -> tuple[str, int]:
    """Encrypt ``source`` into ``storage``; returns (stored name, plaintext size).

    A write that fails (a disk full half-way, a read-only one, a bucket out of reach) removes
    what it left of the file before the error goes on: the local disk writes straight to the
    final name and keeps what was written. Nothing partial stays, and a retry (a letter's task)
    gets the same name back instead of a suffixed one.
    """
    reader = EncryptingReader(source, data_key, aad)
    # The name the storage will write to, free now: only that file is ours to remove.
    name = storage.get_available_name(name)
    try:
        # File wraps any object that has read(); the stubs ask for a complete IO.
        stored = storage.save(name, File(reader, name=name))  # type: ignore[arg-type]
    except BaseException:
        remove_partial(storage, name)
        raise
    return stored, reader.plaintext_size


def remove_partial(storage: Storage, name: str) -> None:
    """Delete what exists of ``name`` after a failed write; a storage that refuses even that
    (read-only, where nothing could be written anyway) is logged, and the original failure goes
    on. Only for a name the failed write owned: a random one, or one taken under a lock."""
    try:
        if storage.exists(name):
            storage.delete(name)
    except OSError as exc:
        cause = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        operations_log.error("a partly stored file could not be removed (%s): %s", cause, name)


def open_decrypted(storage: Storage, name: str, data_key: DataKey, aad: bytes) -> Iterator[bytes]:
    """Stream a stored file's plaintext; the storage file is closed when the stream ends."""
    handle = storage.open(name, "rb")
    try:
        yield from iter_decrypted(handle, data_key, aad)
    finally:
        handle.close()
