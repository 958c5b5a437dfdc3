"""Reading an import CSV and printing its report: the one module behind ``import_beneficiaries``
and ``import_practitioners`` (see README, Management commands).

The file: UTF-8 (a byte-order mark is accepted), comma-separated, a header row that names at least
the expected columns (others are passed on and left to the app's row form). Each row is handed to
the app's service with its line number as a spreadsheet shows it, the header being line 1, so that
a rejected row can be found and fixed. The service decides what a good row is; a bad row never
stops the good ones, nor does a line that is not UTF-8 (rejected with its number). A bad file
(missing, unreadable, a header that is not UTF-8, without the expected columns) raises
``CommandError`` with a French message, and the commands then print no report.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

from django.core.management.base import CommandError, OutputWrapper
from django.utils.translation import gettext as _

# A row of the file as ``csv.DictReader`` gives it, with its line number, the type the services
# take. A short row has ``None`` for its missing columns and a long row a list of its extra values
# under the key ``None``: the row forms of both apps receive them as they are, as before.
NumberedRow = tuple[int, Mapping[str, str]]


@dataclass
class ImportReport:
    """What a service returns from a batch of rows: its counts, and each rejected row's line
    number and reason. Both import services fill one, so the summary line that scripts read
    (README, Management commands) is written here only."""

    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return f"created={self.created} updated={self.updated} rejected={len(self.rejected)}"


ReportT = TypeVar("ReportT", bound=ImportReport)


def import_csv(
    path: str,
    columns: Sequence[str],
    import_rows: Callable[[Iterable[NumberedRow]], ReportT],
    progress: Progress | None = None,
) -> ReportT:
    """Open ``path``, check its header against ``columns`` and pass its numbered rows to
    ``import_rows`` (the app's service), whose report is returned.

    The rows are read while the service runs, not before: a file too large for memory is
    imported as well as a small one (the services commit in batches, README, Management
    commands). A line that is not UTF-8 is rejected with its number and the expected encoding,
    and the rows after it are read on (issue 18); a header that is not UTF-8 refuses the file.
    ``progress``: told of each line read (``Progress``), for a terminal.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            lines = DecodedLines(handle, progress.start(size) if progress else None)
            report = import_rows(numbered_rows(lines, columns))
            if progress:
                progress.finish(lines.number)
    except FileNotFoundError as exc:
        raise CommandError(_("File not found: %(path)s") % {"path": path}) from exc
    except UnicodeDecodeError as exc:
        raise CommandError(_("The file is not UTF-8 text.")) from exc
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}
        ) from exc
    report.rejected.extend(lines.rejected)
    report.rejected.sort(key=lambda rejected: rejected[0])
    return report


def not_utf8_message() -> str:
    return _(
        "this line is not UTF-8 text, the expected encoding: save the file as UTF-8 (in a "
        "spreadsheet, « CSV UTF-8 ») and import it again. Nothing of the line was taken."
    )


class DecodedLines:
    """The file's lines (bytes) as text, one at a time, with the count of lines and bytes read.

    Each line is decoded alone, so that one badly encoded line is rejected (``rejected``: its
    number and French reason) and the others are read on. It is handed on as an empty line,
    which the CSV reader skips while counting it, so the line numbers stay those of the file.
    Limit: a bad line inside a quoted value over several lines leaves that value without it.
    The first line (the header) must decode: without it no row can be read.
    """

    def __init__(self, handle: BinaryIO, progress: Progress | None = None) -> None:
        self.handle = handle
        self.progress = progress
        self.number = 0
        self.rejected: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[str]:
        read = 0
        for raw in self.handle:
            self.number += 1
            read += len(raw)
            if self.progress:
                self.progress.advance(self.number, read)
            try:
                # utf-8-sig: spreadsheets often prefix a byte-order mark.
                yield raw.decode("utf-8-sig" if self.number == 1 else "utf-8")
            except UnicodeDecodeError:
                if self.number == 1:
                    raise
                self.rejected.append((self.number, not_utf8_message()))
                yield "\n"


class Progress:
    """Periodic lines on a terminal while a long job runs: lines read, share of the file,
    lines per second. Written to the command's error stream, so that the report on its standard
    output stays what scripts read; a command makes one only for a terminal (``for_command``)."""

    def __init__(self, out: OutputWrapper, every: float = 2.0) -> None:
        self.out = out
        self.every = every
        self.size = 0
        self.started = self.last = 0.0

    def start(self, size: int) -> Progress:
        self.size = size
        self.started = self.last = time.monotonic()
        return self

    def advance(self, lines: int, read: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        self.out.write(self.line(lines, now, read))

    def finish(self, lines: int) -> None:
        self.out.write(self.line(lines, time.monotonic(), self.size))

    def line(self, lines: int, now: float, read: int) -> str:
        elapsed = max(now - self.started, 1e-6)
        return _("lines read: %(lines)d (%(percent)d%%), %(rate)d lines/s") % {
            "lines": lines,
            "percent": 100 * read // self.size if self.size else 100,
            "rate": lines / elapsed,
        }

    @classmethod
    def for_command(cls, err: OutputWrapper, quiet: bool) -> Progress | None:
        """Progress for a person watching: on a terminal, unless ``--quiet``."""
        return None if quiet or not err.isatty() else cls(err)


def numbered_rows(lines: Iterable[str], columns: Sequence[str]) -> Iterator[NumberedRow]:
    """The rows of a CSV text with their line numbers, the header being line 1.

    The header is read and checked at once, before any row reaches a service: a file without
    the expected columns changes nothing. An empty file has no header, so every column is
    missing.
    """
    reader = csv.DictReader(lines)
    found = reader.fieldnames or []
    missing = [column for column in columns if column not in found]
    if missing:
        raise CommandError(
            _("Missing columns: %(missing)s. Expected header: %(header)s")
            % {"missing": ", ".join(missing), "header": ",".join(columns)}
        )
    # line_num is read after each row: a quoted value over several lines gives the row's last
    # line, as before.
    return ((reader.line_num, row) for row in reader)


def report_lines(report: ImportReport) -> list[str]:
    """The summary first (scripts read it), then one line per rejected row."""
    return [report.summary()] + [
        _("row %(number)d: %(reason)s") % {"number": number, "reason": reason}
        for number, reason in report.rejected
    ]


def write_report(out: OutputWrapper, report: ImportReport) -> None:
    for line in report_lines(report):
        out.write(line)
