"""The access history's table body, written in Python (issue 20, item 4: cheap pages).

The page's 50 lines cost more through the template engine than the whole rest of the page:
each cell is a node with its variable lookups, each time two date filters, each line two
``blocktranslate``. Here the same markup is written with ``format_html`` (every value
escaped), its column labels, « RPPS … » and « via … » translated and the date formats read
once per page; ``templates/access_control/history.html`` keeps everything else and shows
the result as it is. The markup is the template's, byte for byte
(tests/access_control/test_history_table.py compares both).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils import dateformat, formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from access_control.history_rows import HistoryRow

ROW = (
    '\n    <tr role="row">'
    '\n      <td role="cell" data-label="{when_label}"><time datetime="{iso}">{day} {time}'
    "</time></td>"
    '\n      <td role="cell" data-label="{who_label}">{who}</td>'
    '\n      <td role="cell" data-label="{what_label}">{action}</td>'
    '\n      <td role="cell" data-label="{document_label}">{document}</td>'
    '\n      <td role="cell" data-label="{outcome_label}">{outcome}</td>'
    "\n      {mode}"
    "\n    </tr>\n  "
)


class _Page:
    """What every line of one page shares, read once: labels, formats, the record's address."""

    def __init__(self, mine: bool) -> None:
        self.mine = mine
        self.labels = {
            "when_label": _("When"),
            "who_label": _("Who"),
            "what_label": _("What"),
            "document_label": _("Document"),
            "outcome_label": _("Outcome"),
        }
        self.mode_label = _("Mode")
        self.no_document = _("No document")
        self.rpps = _("RPPS %(rpps)s")
        self.via = _("via %(application)s")
        self.day_format = formats.get_format("SHORT_DATE_FORMAT")
        self.time_format = formats.get_format("TIME_FORMAT")
        self.record_url = reverse("records:list")

    def line(self, row: HistoryRow) -> SafeString:
        at = row.occurred_at  # aware, in Paris time (``history_rows.row``)
        return format_html(
            ROW,
            iso=dateformat.format(at, "c"),
            day=dateformat.format(at, self.day_format),
            time=dateformat.time_format(at, self.time_format),
            who=self.who(row),
            action=row.action_label,
            document=self.document(row),
            outcome=(
                format_html("<strong>{}</strong>", row.outcome_label)
                if row.refused
                else row.outcome_label
            ),
            mode=self.mode(row),
            **self.labels,
        )

    def who(self, row: HistoryRow) -> SafeString:
        parts = [conditional_escape(row.who)]
        if row.profession:
            parts.append(format_html(", {}", row.profession))
        if row.rpps:
            parts.append(self._hint(self.rpps, rpps=row.rpps))
        if row.application:
            parts.append(self._hint(self.via, application=row.application))
        return mark_safe("".join(parts))  # noqa: S308 (each part escaped above)

    @staticmethod
    def _hint(text: str, **values: str) -> SafeString:
        # As blocktranslate does: the values escaped, the translated sentence as it is.
        escaped = {name: conditional_escape(value) for name, value in values.items()}
        return format_html('<br><span class="hint">{}</span>', mark_safe(text % escaped))  # noqa: S308

    def document(self, row: HistoryRow) -> SafeString:
        if row.document_state == "available":
            return format_html(
                '<a href="{}{}/">{}</a>', self.record_url, row.document_uid, row.document_title
            )
        if row.document_state == "none":
            return format_html(
                '<span aria-hidden="true">—</span><span class="visually-hidden">{}</span>',
                self.no_document,
            )
        return format_html("<em>{}</em>", row.document_title)

    def mode(self, row: HistoryRow) -> SafeString | str:
        if self.mine:
            return ""
        if row.emergency:
            label = format_html(
                '<strong class="mode-emergency"><span aria-hidden="true">⚠ </span>{}</strong>',
                row.mode_label,
            )
        else:
            label = conditional_escape(row.mode_label)
        return format_html('<td role="cell" data-label="{}">{}</td>', self.mode_label, label)


def table_rows(rows: Iterable[HistoryRow], *, mine: bool) -> SafeString:
    """The ``<tr>`` lines of the history table for ``rows``, in the request's language;
    ``mine``: « Mes actions », without the mode column."""
    page = _Page(mine)
    return mark_safe("".join(page.line(row) for row in rows))  # noqa: S308 (format_html)
