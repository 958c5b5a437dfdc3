"""Issue 20 (cheap pages): the access history's lines are written in Python
(access_control/history_table.py) and its blank filter form drawn once per language
(access_control/views_history.py): the page must say exactly what the template said."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from access_control.history_rows import PARIS, HistoryRow
from access_control.history_table import table_rows
from access_control.views_history import HistoryFilterForm, filter_fields

# The lines as templates/access_control/history.html wrote them before issue 20 (main b55a229),
# the reference the Python lines must match byte for byte.
REFERENCE = Template(
    """{% load i18n tz %}{% timezone "Europe/Paris" %}{% translate "When" as label_when %}{% translate "Who" as label_who %}{% translate "What" as label_what %}{% translate "Document" as label_document %}{% translate "Outcome" as label_outcome %}{% translate "Mode" as label_mode %}{% translate "No document" as no_document %}{% url 'records:list' as record_url %}{% for row in rows %}
    <tr role="row">
      <td role="cell" data-label="{{ label_when }}"><time datetime="{{ row.occurred_at|date:'c' }}">{{ row.occurred_at|date:"SHORT_DATE_FORMAT" }} {{ row.occurred_at|time:"TIME_FORMAT" }}</time></td>
      <td role="cell" data-label="{{ label_who }}">{{ row.who }}{% if row.profession %}, {{ row.profession }}{% endif %}{% if row.rpps %}<br><span class="hint">{% blocktranslate with rpps=row.rpps %}RPPS {{ rpps }}{% endblocktranslate %}</span>{% endif %}{% if row.application %}<br><span class="hint">{% blocktranslate with application=row.application %}via {{ application }}{% endblocktranslate %}</span>{% endif %}</td>
      <td role="cell" data-label="{{ label_what }}">{{ row.action_label }}</td>
      <td role="cell" data-label="{{ label_document }}">{% if row.document_state == "available" %}<a href="{{ record_url }}{{ row.document_uid }}/">{{ row.document_title }}</a>{% elif row.document_state == "none" %}<span aria-hidden="true">—</span><span class="visually-hidden">{{ no_document }}</span>{% else %}<em>{{ row.document_title }}</em>{% endif %}</td>
      <td role="cell" data-label="{{ label_outcome }}">{% if row.refused %}<strong>{{ row.outcome_label }}</strong>{% else %}{{ row.outcome_label }}{% endif %}</td>
      {% if not mine %}<td role="cell" data-label="{{ label_mode }}">{% if row.emergency %}<strong class="mode-emergency"><span aria-hidden="true">⚠ </span>{{ row.mode_label }}</strong>{% else %}{{ row.mode_label }}{% endif %}</td>{% endif %}
    </tr>
  {% endfor %}{% endtimezone %}"""  # noqa: E501 (the template's own lines, as they were)
)

READ = HistoryRow(
    occurred_at=timezone.localtime(datetime(2026, 7, 14, 21, 5, 9, 123456, tzinfo=UTC), PARIS),
    who_kind="practitioner",
    who="Claire <Martin> & fils",
    profession="Médecin",
    rpps="10000000001",
    action="view",
    action_label="Consulter un document",
    document_state="available",
    document_uid=uuid.UUID("22ff513d-d259-4b6c-b022-54d3350112af"),
    document_title='Compte rendu "IRM" <genou> & suites',
    outcome="allowed",
    outcome_label="Autorisé",
    refused=False,
    mode="normal",
    mode_label="Normal",
    emergency=False,
    application="Logiciel <du> cabinet",
)
ROWS = [
    READ,
    replace(READ, refused=True, outcome="refused", outcome_label="Refusé", application=""),
    replace(READ, emergency=True, mode="emergency", mode_label="Urgence", rpps=""),
    replace(READ, who="Vous", who_kind="you", profession="", rpps="", application=""),
    replace(READ, document_state="none", document_uid=None, document_title=""),
    replace(READ, document_state="deleted", document_title="Document supprimé"),
    replace(READ, document_state="not-yet", document_title="Document pas encore disponible"),
    # Every column with markup in it: each one escaped as the template escaped it.
    replace(
        READ,
        profession="<b>Médecin</b>",
        rpps='1"0<i>',
        action_label="<script>x</script>",
        outcome_label="<u>Autorisé</u>",
        mode_label="<s>Normal</s>",
    ),
    # Winter time, midnight in Paris: the day and the offset change with the time zone.
    replace(
        READ,
        occurred_at=timezone.localtime(datetime(2026, 1, 31, 23, 0, tzinfo=UTC), PARIS),
        profession="",
    ),
]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("mine", [False, True])
def test_the_lines_are_the_templates_byte_for_byte(language, mine):
    with translation.override(language):
        expected = REFERENCE.render(Context({"rows": ROWS, "mine": mine}))
        assert table_rows(ROWS, mine=mine) == expected
    assert "&lt;Martin&gt; &amp; fils" in expected and "<genou>" not in expected
    for markup in ("<b>", "<i>", "<script>", "<u>", "<s>"):
        assert markup not in expected
    assert ('data-label="Mode"' in expected) is not mine
    if language == "fr":
        assert '<time datetime="2026-02-01T00:00:00+01:00">01/02/2026 00:00</time>' in expected


def test_no_lines_no_markup():
    assert table_rows([], mine=False) == ""


def test_the_blank_filter_form_is_drawn_once_per_language_and_a_filled_one_each_time():
    with translation.override("fr"):
        french = filter_fields(HistoryFilterForm(None))
        assert filter_fields(HistoryFilterForm(None)) is french  # kept, not drawn again
        assert "Afficher" in french
    with translation.override("en"):
        english = filter_fields(HistoryFilterForm(None))
        assert "Accesses by others" in english and english != french
    with translation.override("fr"):
        mine = filter_fields(HistoryFilterForm({"show": "mine"}))
        assert mine != french and 'value="mine" selected' in mine
        assert 'name="who"' not in mine and 'name="who"' in french
        # A value in error is shown on its field, drawn for this request only.
        wrong = filter_fields(HistoryFilterForm({"outcome": "nonsense"}))
        assert 'aria-invalid="true"' in wrong and wrong is not filter_fields(
            HistoryFilterForm({"outcome": "nonsense"})
        )
        assert filter_fields(HistoryFilterForm(None)) is french
