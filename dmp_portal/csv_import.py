"""Reading an import CSV and printing its report: the one module behind ``import_beneficiaries``
and ``import_practitioners`` (see README, Management commands).

The file: UTF-8 (a byte-order mark is accepted), comma-separated, a header row that names at least
the expected columns (others are passed on and left to the app's row form). Each row is handed to
the app's service with its line number as a spreadsheet shows it, the header being line 1, so that
a rejected row can be found and fixed. The service decides what a good row is; a bad row never
stops the good ones. A bad file (missing, unreadable, not UTF-8, without the expected columns)
raises ``CommandError`` with a French message, and the commands then print no report.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

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
) -> ReportT:
    """Open ``path``, check its header against ``columns`` and pass its numbered rows to
    ``import_rows`` (the app's service), whose report is returned.

    The rows are read while the service runs, not before: a file too large for memory is
    imported as well as a small one. A decoding error found midway therefore stops the import
    there, after the rows before it were saved, as each row is its own transaction.
    """
    try:
        # utf-8-sig: spreadsheets often prefix a byte-order mark.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return import_rows(numbered_rows(handle, columns))
    except FileNotFoundError as exc:
        raise CommandError(_("File not found: %(path)s") % {"path": path}) from exc
    except UnicodeDecodeError as exc:
        raise CommandError(_("The file is not UTF-8 text.")) from exc
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}
        ) from exc


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
