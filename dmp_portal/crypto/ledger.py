"""The ledger of destroyed data keys: crypto-shredding that survives a restore.

Destroying a data key erases its wrapped bytes in the database; a backup of the database taken
before brings them back, and with them everything the destruction had made unreadable. So every
destruction is also written here, in a file outside the database (``DMP_SHRED_LEDGER_PATH``),
kept out of the database's backups and backed up on its own, and replayed after every restore
before the service opens (``manage.py replay_shred_ledger``).

One line per destroyed key, ids only: ``<data key uid> <UTC time, ISO 8601>``, e.g.
``9f0c2b9e-2f7e-4c3a-9a51-0c6f1f2f6a01 2026-11-30T16:20:05Z``. Nothing about the person: the
uid is random and names the key, not its owner, and the line outlives every other trace of them.
Lines are appended with ``O_APPEND`` in one ``write`` each (shorter than ``PIPE_BUF``, so lines
from processes writing at once never interleave on a local file system) and ``fsync``-ed before
the call returns.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_LINE = re.compile(
    r"^(?P<uid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) (?P<at>\S+)$"
)


class MalformedLedger(Exception):
    """A line that is not ``<data key uid> <UTC time as YYYY-MM-DDTHH:MM:SSZ>``; ``number`` is
    its line number (the first is 1)."""

    def __init__(self, number: int, line: str) -> None:
        super().__init__(number, line)
        self.number = number
        self.line = line


@dataclass(frozen=True)
class LedgerEntry:
    number: int
    key_uid: uuid.UUID
    destroyed_at: datetime


def ledger_path() -> Path:
    return Path(settings.DMP_SHRED_LEDGER_PATH)


def checked_ledger_path(value: str, *, production: bool) -> str:
    """The setting, as the settings module checks it at start-up: in production an absolute
    path (a relative one would depend on the directory a process starts in, and a process
    started elsewhere would write a second ledger that no restore replays)."""
    if production and not Path(value).is_absolute():
        raise ImproperlyConfigured(
            f"DMP_SHRED_LEDGER_PATH={value!r} must be an absolute path in production mode."
        )
    return value


def append(key_uid: uuid.UUID, at: datetime) -> None:
    """Write one line and make it durable (file, and the directory entry of a new file) before
    returning; any failure raises ``OSError`` and the caller destroys nothing."""
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    line = f"{key_uid} {at.astimezone(UTC).strftime(TIME_FORMAT)}\n".encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.write(fd, line) != len(line):
            raise OSError(f"short write to the shred ledger {path}")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def entries(path: Path) -> Iterator[LedgerEntry]:
    """The lines of the ledger one by one, checked: a malformed one raises ``MalformedLedger``
    when it is reached (``check`` reads them all first). A missing file raises
    ``FileNotFoundError``: after a restore, a ledger that cannot be found must stop the
    procedure, not pass for one that lists nothing."""
    with path.open(encoding="ascii", errors="replace", newline="\n") as handle:
        yield from _parse(handle)


def check(path: Path) -> int:
    """How many lines the ledger holds, after checking every one (``MalformedLedger``)."""
    return sum(1 for _entry in entries(path))


def _parse(lines) -> Iterator[LedgerEntry]:
    for number, raw in enumerate(lines, start=1):
        # A line cut short by a crash has no newline: it is malformed, not silently taken.
        line = raw[:-1] if raw.endswith("\n") else None
        match = _LINE.match(line) if line is not None else None
        if match is None:
            raise MalformedLedger(number, raw.rstrip("\n"))
        try:
            at = datetime.strptime(match["at"], TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError as exc:
            raise MalformedLedger(number, line or "") from exc
        yield LedgerEntry(number, uuid.UUID(match["uid"]), at)
