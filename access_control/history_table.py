"""The access history's table body, written in Python (issue 20, item 4: cheap pages).

Through the template engine a page's 50 lines cost about ten times what they cost here: each
cell a node with its variable lookups, two date filters and two ``blocktranslate`` a line.
Here the same markup is written with string formatting, every value escaped as the template
escapes it; the column labels, « RPPS … » and « via … » are translated, and the date formats
read, once per page. ``templates/access_control/history.html`` keeps everything else and
shows the result as it is. The markup is the template's byte for byte
(tests/access_control/test_history_table.py renders both and compares them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from html import escape

from django.urls import reverse
from django.utils import dateformat, formats
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
HINT = '<br><span class="hint">{}</span>'
EMERGENCY = '<strong class="mode-emergency"><span aria-hidden="true">⚠ </span>{}</strong>'


def _e(value: object) -> str:
    """Escaped as the template escapes a plain value (``django.utils.html.escape`` is
    ``html.escape`` with quotes, without its lazy-string wrapper, which cost most here)."""
    return escape(str(value), quote=True)


class _Page:
    """What every line of one page shares, read once: labels, formats, the record's address;
    each day's and each time's text is formatted once too (a page's events share them)."""

    def __init__(self, mine: bool) -> None:
        self.mine = mine
        self.labels = {
            "when_label": _e(_("When")),
            "who_label": _e(_("Who")),
            "what_label": _e(_("What")),
            "document_label": _e(_("Document")),
            "outcome_label": _e(_("Outcome")),
        }
        self.mode_label = _e(_("Mode"))
        self.no_document = (
            '<span aria-hidden="true">—</span><span class="visually-hidden">'
            + _e(_("No document"))
            + "</span>"
        )
        # As blocktranslate does: the values escaped, the translated sentence as it is.
        self.rpps = _("RPPS %(rpps)s")
        self.via = _("via %(application)s")
        self.day_format = formats.get_format("SHORT_DATE_FORMAT")
        self.time_format = formats.get_format("TIME_FORMAT")
        self.record_url = _e(reverse("records:list"))
        self.days: dict[date, str] = {}
        self.times: dict[tuple[time, timedelta | None], str] = {}

    def line(self, row: HistoryRow) -> str:
        at = row.occurred_at  # aware, in Paris time (``history_rows.row``)
        day = self.days.get(at.date())
        if day is None:
            day = self.days[at.date()] = _e(dateformat.format(at, self.day_format))
        moment = (at.time(), at.utcoffset())
        clock = self.times.get(moment)
        if clock is None:
            clock = self.times[moment] = _e(dateformat.time_format(at, self.time_format))
        outcome = _e(row.outcome_label)
        return ROW.format(
            iso=_e(at.isoformat()),  # the date filter's "c"
            day=day,
            time=clock,
            who=self.who(row),
            action=_e(row.action_label),
            document=self.document(row),
            outcome=f"<strong>{outcome}</strong>" if row.refused else outcome,
            mode=self.mode(row),
            **self.labels,
        )

    def who(self, row: HistoryRow) -> str:
        who = _e(row.who)
        if row.profession:
            who += ", " + _e(row.profession)
        if row.rpps:
            who += HINT.format(self.rpps % {"rpps": _e(row.rpps)})
        if row.application:
            who += HINT.format(self.via % {"application": _e(row.application)})
        return who

    def document(self, row: HistoryRow) -> str:
        if row.document_state == "available":
            return (
                f'<a href="{self.record_url}{_e(row.document_uid)}/">{_e(row.document_title)}</a>'
            )
        if row.document_state == "none":
            return self.no_document
        return f"<em>{_e(row.document_title)}</em>"

    def mode(self, row: HistoryRow) -> str:
        if self.mine:
            return ""
        label = _e(row.mode_label)
        if row.emergency:
            label = EMERGENCY.format(label)
        return f'<td role="cell" data-label="{self.mode_label}">{label}</td>'


def table_rows(rows: Iterable[HistoryRow], *, mine: bool) -> SafeString:
    """The ``<tr>`` lines of the history table for ``rows``, in the request's language;
    ``mine``: « Mes actions », without the mode column."""
    page = _Page(mine)
    # Every value escaped by ``_e``, every piece of markup ours.
    return mark_safe("".join(page.line(row) for row in rows))  # noqa: S308
