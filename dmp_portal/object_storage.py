"""django-storages' S3 backend, reading objects with ranged GETs instead of downloading them.

The stock ``S3File`` downloads the whole object into a spooled buffer on its first read (in
memory by default): a 50 MB document would cost 50 MB per worker. Here a file opened for reading
is a seekable stream over the object; each ``read(n)`` is one ranged GET of ``n`` bytes, and
``iter_decrypted`` (dmp_portal/crypto/files.py) reads one sealed chunk at a time, so a download
holds a chunk or two whatever the file's size. Uploads stay the stock multipart uploads, with
bounded parts and concurrency (dmp_portal/settings/storage.py).

A bucket that cannot be reached or refuses a write fails as a full or read-only disk does: with
an ``OSError`` (``EIO``, the botocore error chained as its cause), which is what the callers
handle (an upload is refused with a message, a letter's task retries), not a 500 page.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

if TYPE_CHECKING:  # the type checker's name for what readinto() fills; nothing at run time
    from _typeshed import WriteableBuffer


class RangedObjectReader(io.RawIOBase):
    """A read-only, seekable file over an S3 object; every read is one ranged GET."""

    def __init__(self, obj: Any, size: int) -> None:
        super().__init__()
        self._obj = obj
        self._size = size
        self._position = 0
        self.requests = 0  # ranged GETs made, for the tests and the memory measurement

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        body = self._obj.get(Range=f"bytes={self._position}-{end - 1}")["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        self.requests += 1
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


@contextlib.contextmanager
def _refusals_as_os_errors(operation: str) -> Iterator[None]:
    """The S3 client's failures (endpoint unreachable, timeout, access denied, missing bucket,
    a failed multipart upload: boto3 wraps that one in its own ``S3UploadFailedError``) raised
    as the ``OSError`` a disk gives, so that every caller handles one kind of failure."""
    try:
        yield
    except (BotoCoreError, ClientError, Boto3Error) as exc:
        raise OSError(
            errno.EIO, f"object storage: {operation} failed ({type(exc).__name__})"
        ) from exc


# Every RangedS3Storage of the process, so that a forked child drops the connections it
# inherited (below).
_INSTANCES: weakref.WeakSet[RangedS3Storage] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    """A forked child (the bulk seed's workers, any pre-forking server) inherits the parent's
    boto3 client and its open sockets: two processes on one connection read each other's answers
    (HeadObject then fails with 400 Bad Request). The child starts with fresh connections,
    exactly as django-storages does for a pickled storage (its ``__setstate__``)."""
    for storage in list(_INSTANCES):
        storage._connections = threading.local()
        storage._unsigned_connections = threading.local()
        storage._bucket = None


os.register_at_fork(after_in_child=_forget_connections_after_fork)


class RangedS3Storage(S3Storage):
    """S3Storage whose reads stream with ranged GETs and whose uploads have bounded parts."""

    def __init__(self, **settings: Any) -> None:
        _INSTANCES.add(self)
        part = settings.pop("multipart_bytes", 8 * 1024 * 1024)
        concurrency = settings.pop("upload_concurrency", 2)
        config = TransferConfig(
            multipart_threshold=part, multipart_chunksize=part, max_concurrency=concurrency
        )
        # An unseekable source (the encrypting reader) is read part by part into memory, and
        # boto3 lets ten such parts wait by default (80 MiB here): no more than the threads
        # can send. Not an argument of boto3's TransferConfig, an attribute of s3transfer's.
        config.max_in_memory_upload_chunks = concurrency
        settings.setdefault("transfer_config", config)
        super().__init__(**settings)

    # Writing: ``save`` (with ``get_available_name``'s HEAD, then ``_save``'s upload), and what
    # undoing a write needs (``exists``, ``delete``). A multipart upload that fails is aborted
    # by boto3's transfer manager (s3transfer's failure clean-up): no part stays in the bucket
    # (tests/crypto/test_object_storage_refused.py checks it on the real server).
    def save(self, name: str | None, content: File, max_length: int | None = None) -> str:
        with _refusals_as_os_errors("write"):
            return super().save(name, content, max_length)

    def exists(self, name: str) -> bool:
        with _refusals_as_os_errors("lookup"):
            return bool(super().exists(name))

    def delete(self, name: str) -> None:
        with _refusals_as_os_errors("delete"):
            super().delete(name)

    def _open(self, name: str, mode: str = "rb") -> File:
        if "r" not in mode or "+" in mode:
            return super()._open(name, mode)  # writing keeps the stock multipart S3File
        key = self._normalize_name(clean_name(name))
        obj = self.bucket.Object(key)
        try:
            obj.load()  # one HEAD: the size, and FileNotFoundError as on the local disk
        except ClientError as err:
            if err.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from err
            raise
        # File wraps any raw file object; the stubs ask for a typing.IO.
        return File(RangedObjectReader(obj, obj.content_length), name=name)  # type: ignore[arg-type]
