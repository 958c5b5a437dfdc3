"""Cheap pages (issue 20, item 4): the patient's list as it first opens reads neither the whole
category table nor an open record's closure, its filter form is rendered once per process and
key (the same HTML as rendered afresh), and the practitioner's document page reads the emergency
opt-out from the door's relationship; each page's query count is pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from access_control.models import RecordSettings
from access_control.services import grant_consent
from records.forms import RecordFilterForm
from records.models import Category
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

# Was 19 and 14; one less each for the second factor's check (VerifiedUserMiddleware).
LIST = 16  # the category table and the open record's closure no longer read
DOCUMENT_PAGE = 12  # the emergency opt-out comes with the door's relationship
EMERGENCY = "In an emergency, a professional who declares an emergency access may also read it."


def counted(client, path: str) -> CaptureQueriesContext:
    client.get(path)  # the first access is announced once; the session's times are written
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return queries


def sql_of(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries]


def test_the_list_as_it_first_opens_reads_no_category_table_nor_an_open_records_closure():
    patient, client = patient_with_login()
    add_document(patient, title="Compte rendu d'IRM", category="imagerie")
    add_document(patient, title="Bilan sanguin", category="biologie")

    queries = counted(client, "/records/")

    statements = sql_of(queries)
    assert len(statements) == LIST
    # The categories offered, those of the record: one query, never the whole table.
    category_reads = [sql for sql in statements if 'FROM "records_category"' in sql]
    assert len(category_reads) == 1
    assert "IN (SELECT" in category_reads[0]
    # The closure's dates (the notice of a closed record) are not read for an open one.
    assert not [sql for sql in statements if '"access_control_recordclosure"."closed_at"' in sql]


def test_the_cached_filter_form_is_the_form_rendered_afresh_in_each_language():
    patient, client = patient_with_login()
    add_document(patient, title="Compte rendu d'IRM", category="imagerie")
    offered = list(Category.objects.filter(code__in=["imagerie", "biologie"]))
    for language in ("fr", "en"):
        with translation.override(language):
            form = RecordFilterForm(None)
            form.offer_categories(offered)
            fresh = RecordFilterForm(None)
            fresh.offer_categories(offered)
            afresh = render_to_string(
                "includes/record_filters.html", {"form": fresh, "action": "/records/"}
            )
            assert form.unbound_html("/records/") == afresh
            for category in offered:
                option = f'<option value="{category.code}">{escape(category.label)}</option>'
                assert option in afresh
    page = client.get("/records/").content.decode()
    imaging = Category.objects.get(code="imagerie")
    assert f'<option value="imagerie">{escape(imaging.label_fr)}</option>' in page
    assert 'value="biologie"' not in page  # only the record's categories are offered


def test_a_renamed_category_is_never_served_from_the_cache():
    patient, client = patient_with_login()
    add_document(patient, title="Compte rendu d'IRM", category="imagerie")
    assert "Imagerie renommée" not in client.get("/records/").content.decode()
    Category.objects.filter(code="imagerie").update(label_fr="Imagerie renommée")
    assert '<option value="imagerie">Imagerie renommée</option>' in (
        client.get("/records/").content.decode()
    )


def test_a_filtered_list_renders_its_values_and_errors_not_the_cached_form():
    patient, client = patient_with_login()
    add_document(patient, title="Compte rendu d'IRM", category="imagerie")
    page = client.get("/records/", {"q": "IRM", "date_from": "31/02/2026"}).content.decode()
    assert 'value="IRM"' in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("opted_out", [False, True])
def test_the_practitioners_document_page_says_who_may_read_it_in_an_emergency(opted_out):
    patient, _client = patient_with_login()
    doctor = PractitionerProfileFactory.create()
    grant_consent(patient, doctor.rpps)
    if opted_out:
        RecordSettings.objects.create(patient=patient, emergency_opt_out=True)
    document = add_document(patient, title="Bilan sanguin")
    pro = logged_in_client(doctor.user)

    queries = counted(pro, f"/records/{document.uid}/")

    assert len(queries.captured_queries) == DOCUMENT_PAGE
    page = pro.get(f"/records/{document.uid}/").content.decode()
    assert (escape(gettext(EMERGENCY)) in page) is not opted_out
