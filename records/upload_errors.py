"""What every check of an uploaded file shares: the file it reads and the refusal it raises."""

from __future__ import annotations

from typing import Protocol

from django.utils.translation import gettext


class Upload(Protocol):
    """What we need from the uploaded file: Django's ``UploadedFile`` and ``BytesIO`` fit."""

    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


class RejectedFile(Exception):
    """The upload is refused. ``code`` is stable (for tests and logs); ``message`` is a
    sentence for the person, in the active language."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class StorageUnavailable(RejectedFile):
    """The storage refused to write the file (full, read-only, unreachable): nothing was kept.
    A refusal like the others for the form (the page says what to do, the form stays filled);
    the cause is for the operator, in the log (``records.services.store_document``)."""

    def __init__(self) -> None:
        super().__init__(
            "storage_unavailable",
            gettext(
                "The document could not be saved: the storage space is full or unavailable. "
                "Nothing was kept. Try again in a few minutes; if it happens again, contact "
                "the portal's support."
            ),
        )
