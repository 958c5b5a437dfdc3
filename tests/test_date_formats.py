"""English pages show dates day first, as every date field asks them (DD/MM/YYYY): a date a
person typed is the date they read back, in both languages (issue 14, item 2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import timezone, translation

from tests.access_control.factories import enrolled_patient, grant, practitioner_with_login

DAY = date(2026, 12, 15)


def _render(text: str, language: str, **context: object) -> str:
    with translation.override(language):
        return Template(text).render(Context(context))


def test_english_short_dates_are_day_first_like_the_forms():
    assert _render('{{ d|date:"SHORT_DATE_FORMAT" }}', "en", d=DAY) == "15/12/2026"
    assert _render('{{ d|date:"SHORT_DATE_FORMAT" }}', "fr", d=DAY) == "15/12/2026"


def test_english_long_dates_are_written_out_in_english():
    assert _render('{{ d|date:"DATE_FORMAT" }}', "en", d=DAY) == "15 December 2026"
    moment = datetime(2026, 12, 15, 15, 0)
    assert _render('{{ d|date:"SHORT_DATETIME_FORMAT" }}', "en", d=moment) == "15/12/2026 3 p.m."


@pytest.mark.django_db
def test_a_consent_end_typed_in_english_reads_back_the_same_day():
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    until = timezone.localdate() + timedelta(days=40)
    while until.day <= 12:  # a day that cannot be read as a month: 15/12 is never 12/15
        until += timedelta(days=1)
    typed = until.strftime("%d/%m/%Y")
    response = grant(client, profile.rpps, typed)
    assert response.status_code in (200, 302)
    page = client.get("/access/").content.decode()
    assert typed in page
    assert until.strftime("%m/%d/%Y") not in page
