"""Growth: the record list, its search and the access history cost the same queries at 10 and at
5,000 documents, and every query of those hot paths can use an index (EXPLAIN)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access_control.models import Consent
from bench.world import add_documents, add_events
from records.models import Document
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 5000
HOT_TABLES = (
    "records_document",
    "records_searchtoken",
    "access_control_auditevent",
    "access_control_auditchain",
    "access_control_consent",
    "access_control_block",
    "access_control_emergencyaccess",
    "access_control_professionrule",
    "access_control_treatingphysician",
    "access_control_recordsettings",
    "accounts_user",
    "accounts_accountsession",
)


PATHS = {
    "list": "/records/",
    "list, page 3": "/records/?page=3",
    "search": "/records/?q=rendu+1",
    "history": "/access/history/",
}


def query_counts(client) -> dict[str, int]:
    counts = {}
    for name, path in PATHS.items():
        client.get(path)  # warm: the session's "seen" time may be written once
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    return counts


def grown_record(count: int):
    patient, client = patient_with_login()
    add_document(patient)  # one real upload, with its file, through the service
    add_documents(patient, count - 1)
    add_events(patient, list(Document.objects.filter(patient=patient)))
    return patient, client


def test_list_search_and_history_cost_the_same_queries_at_10_and_5000_documents():
    small = query_counts(grown_record(SMALL)[1])
    patient, client = grown_record(LARGE)
    large = query_counts(client)

    assert large == small
    page = client.get("/records/?page=3").context["page"]
    assert page.paginator.count == LARGE and len(page.object_list) == 20
    # The search finds its page through the titles' keyed tokens (records.search_tokens).
    found = client.get("/records/?q=rendu+4998").context["page"]
    assert [row.title for row in found.object_list] == ["Compte rendu 4998"]


def test_a_consented_practitioners_list_costs_the_same_queries_at_10_and_5000_documents():
    counts = []
    for count in (SMALL, LARGE):
        patient, _client = patient_with_login()
        profile = PractitionerProfileFactory()
        Consent.objects.create(patient=patient, practitioner=profile.user)
        add_documents(patient, count)
        client = logged_in_client(profile.user)
        client.get(f"/pro/patients/{patient.pk}/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/pro/patients/{patient.pk}/")
        assert response.status_code == 200
        assert response.context["page"].paginator.count == count
        counts.append(len(queries))
    assert counts[0] == counts[1]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_every_hot_query_can_use_an_index():
    """With sequential scans priced out, a plan that still scans a hot table has no index."""
    patient, client = grown_record(LARGE)
    profile = PractitionerProfileFactory()
    Consent.objects.create(patient=patient, practitioner=profile.user)
    practitioner = logged_in_client(profile.user)
    document = Document.objects.filter(patient=patient).first()
    pages = [
        (client, "/records/"),
        (client, "/records/?q=rendu"),
        (client, f"/records/{document.uid}/"),
        (client, "/access/history/"),
        (practitioner, f"/pro/patients/{patient.pk}/"),
        (practitioner, f"/records/{document.uid}/"),
    ]
    selects = []
    for who, path in pages:
        with CaptureQueriesContext(connection) as queries:
            assert who.get(path).status_code == 200, path
        selects += [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    hot = [sql for sql in selects if any(f'"{table}"' in sql for table in HOT_TABLES)]
    assert any('"records_document"' in sql for sql in hot)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    scans = {}
    for sql in hot:
        for table in re.findall(r"Seq Scan on (\w+)", _plan(sql)):
            if table in HOT_TABLES:
                scans.setdefault(table, sql)
    assert scans == {}
