"""One decision per request (issue 20, item 2): each hot page (the web pages and the FHIR
searches, beside the FHIR tests for their shared world) loads the reader's relationship
to the record once (the block, the consent: one query each), and its whole query count is
pinned, so that a second ``RecordAccess`` built for the same reader and record shows here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access_control.models import Block, Consent, RecordClosure
from tests.accounts.factories import logged_in_client
from tests.fhir_api.factories import search_patient
from tests.records.factories import add_document

pytestmark = pytest.mark.django_db


def count(queries: CaptureQueriesContext, table: str) -> int:
    return sum(f'"{table}"' in query["sql"] for query in queries.captured_queries)


def measured(get) -> tuple[int, int, int, int]:
    """The page asked twice (the first access is announced once), the second one counted:
    its queries, those on the block's, the consent's and the closure's tables."""
    get()
    with CaptureQueriesContext(connection) as queries:
        response = get()
    assert response.status_code == 200, response
    return (
        len(queries.captured_queries),
        count(queries, Block._meta.db_table),
        count(queries, Consent._meta.db_table),
        count(queries, RecordClosure._meta.db_table),
    )


def test_the_practitioners_pages_decide_once(world):
    document = add_document(world.patient, title="Bilan sanguin")
    pro = logged_in_client(world.doctor.user)
    record = measured(lambda: pro.get(f"/pro/patients/{world.patient.pk}/"))
    page = measured(lambda: pro.get(f"/records/{document.uid}/"))
    assert record == (RECORD_PAGE, 1, 1, 1)
    assert page == (DOCUMENT_PAGE, 1, 1, 1)


def test_the_patients_pages_decide_once(world):
    document = add_document(world.patient, title="Bilan sanguin")
    client = world.patient_client
    assert measured(lambda: client.get("/records/")) == (PATIENT_LIST, 0, 0, PATIENT_LIST_CLOSURE)
    assert measured(lambda: client.get(f"/records/{document.uid}/")) == (
        PATIENT_DOCUMENT,
        0,
        0,
        PATIENT_DOCUMENT_CLOSURE,
    )


def test_the_fhir_searches_decide_once(world):
    add_document(world.patient, title="Bilan sanguin")
    documents = measured(
        lambda: world.api.get("/fhir/DocumentReference", {"patient": str(world.patient.pk)})
    )
    patients = measured(lambda: search_patient(world.api, world.nir))
    assert documents == (FHIR_DOCUMENTS, 1, 1, 1)
    assert patients == (FHIR_PATIENT, 1, 1, 1)


RECORD_PAGE = 18  # issue 20, item 4: an unbound filter form reads no category table
DOCUMENT_PAGE = 12  # issue 20, item 4: the emergency opt-out read from the relationship
PATIENT_LIST = 16  # issue 20, item 4: no category table, no closure's dates for an open record
PATIENT_LIST_CLOSURE = 4  # its own record's (the list; the header's name), the switch's ties
PATIENT_DOCUMENT = 15
PATIENT_DOCUMENT_CLOSURE = 4  # its own record's once, the switch's ties (issue 17) thrice
FHIR_DOCUMENTS = 12
FHIR_PATIENT = 10
