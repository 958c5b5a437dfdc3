"""What every check of an uploaded file shares: the file it reads and the refusal it raises."""

from __future__ import annotations

from typing import Protocol


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
