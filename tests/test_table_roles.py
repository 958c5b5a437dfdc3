"""Tables keep their meaning for screen readers when they become cards.

Below 60rem every `.data-table` is shown as cards (CSS `display: block`), and Safari then drops
the table's semantics: VoiceOver reads loose text, with no "row 2 of 5, Date". Each table element
therefore states its role explicitly (the known remedy), on every page that has such a table.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.access_control.factories import (
    enrolled_patient,
    grant,
    practitioner_with_login,
)
from tests.records.factories import add_document

ROLES = {"table": "table", "thead": "rowgroup", "tbody": "rowgroup", "tr": "row", "td": "cell"}


class _TableRoles(HTMLParser):
    """Collects every table element of a `.data-table` that lacks the role it must state."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.tables = 0
        self.missing: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and "data-table" in (attributes.get("class") or ""):
            self.depth += 1
            self.tables += 1
        if not self.depth:
            return
        expected = ROLES.get(tag)
        if tag == "th":
            expected = "rowheader" if attributes.get("scope") == "row" else "columnheader"
        if expected and attributes.get("role") != expected:
            self.missing.append(f"<{tag}> without role={expected}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1


def roles_missing(html: str) -> tuple[int, list[str]]:
    parser = _TableRoles()
    parser.feed(html)
    return parser.tables, parser.missing


@pytest.mark.django_db
def test_every_table_states_its_roles_for_screen_readers():
    patient, client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    add_document(patient, title="Compte rendu d'IRM")
    record = f"/pro/patients/{patient.pk}/"
    pro.get(record)  # an access by another, so the history's default view has rows

    pages = {
        "/records/": client,
        "/access/": client,
        "/access/history/": client,
        record: pro,
    }
    for path, reader in pages.items():
        response = reader.get(path)
        assert response.status_code == 200, path
        tables, missing = roles_missing(response.content.decode())
        assert tables >= 1, f"{path} shows no table to check"
        assert missing == [], path


def test_the_check_sees_a_table_without_roles():
    tables, missing = roles_missing('<table class="data-table"><tr><td>1</td></tr></table>')
    assert tables == 1
    assert missing == [
        "<table> without role=table",
        "<tr> without role=row",
        "<td> without role=cell",
    ]
