"""Admin lists: nothing is deleted in bulk, and big tables are listed without counting them.

No list offers "delete selected" (the registry, accounts, letters and their batches, the audit
trail are records of what happened), and a POST of that action deletes nothing. The lists of
tables that grow without end (audit events, documents, letters, the registry, accounts,
enrolment requests) never run a ``COUNT(*)`` of the whole table, and the audit trail has no date
hierarchy (it reads the dates of every event to build its links). No list offers facet counts
(« Afficher les nombres »): one more ``COUNT`` per choice of every filter.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from audit.trail import record_event
from dmp_portal.admin_lists import EstimatedCountPaginator, LargeListMixin, NoFacetCounts
from enrollment.models import Beneficiary
from letters.models import Letter, LetterBatch
from tests.accounts.factories import StaffFactory, UserFactory, logged_in_client
from tests.enrollment.factories import make_beneficiary

pytestmark = pytest.mark.django_db

# Where a bulk delete would erase a record of what happened, or a person.
NEVER_DELETED = {
    "enrollment.Beneficiary",
    "accounts.User",
    "accounts.PractitionerProfile",
    "letters.Letter",
    "letters.LetterBatch",
    "audit.AuditEvent",
}
# Tables that grow without end: listed without a COUNT(*) of the whole table.
LARGE = {
    "audit.AuditEvent",
    "records.Document",
    "letters.Letter",
    "enrollment.Beneficiary",
    "enrollment.EnrollmentRequest",
    "accounts.User",
    "accounts.PractitionerProfile",
}


def staff_request():
    request = RequestFactory().get("/admin/")
    request.user = StaffFactory()
    return request


REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.parametrize("model", REGISTERED)
def test_no_admin_offers_a_bulk_delete(model):
    model_admin = admin.site._registry[model]
    request = staff_request()
    assert "delete_selected" not in model_admin.get_actions(request)
    if model._meta.label in NEVER_DELETED:
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_delete_permission(request, model._default_manager.first())


@pytest.mark.parametrize("model", REGISTERED)
def test_no_list_offers_facet_counts(model):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, NoFacetCounts)
    assert model_admin.show_facets is admin.ShowFacets.NEVER
    client = logged_in_client(StaffFactory())
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    page = client.get(url).content.decode()
    assert "_facets" not in page and "Afficher les nombres" not in page
    # Asked for by hand in the address, they are not counted either.
    asked = client.get(url, {"_facets": "True"})
    assert asked.status_code == 200 and asked.context["cl"].add_facets is False


def test_the_lists_show_no_delete_action_and_a_posted_one_deletes_nothing():
    client = logged_in_client(StaffFactory())
    person = make_beneficiary()
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    batch = LetterBatch.objects.create()
    patient = UserFactory()
    with transaction.atomic():
        record_event(actor=patient, patient=patient, action="login", outcome="allowed")
    event = AuditEvent.objects.get()
    targets = {
        "enrollment/beneficiary": (Beneficiary, person.pk),
        "accounts/user": (User, patient.pk),
        "letters/letter": (Letter, letter.pk),
        "letters/letterbatch": (LetterBatch, batch.pk),
        "audit/auditevent": (AuditEvent, event.pk),
    }
    for path, (model, pk) in targets.items():
        page = client.get(f"/admin/{path}/").content.decode()
        assert 'value="delete_selected"' not in page, path
        action = {"action": "delete_selected", "_selected_action": [pk]}
        client.post(f"/admin/{path}/", action)
        client.post(f"/admin/{path}/", {**action, "post": "yes"})
        assert model.objects.filter(pk=pk).exists(), f"{path}: deleted in bulk"


def test_every_large_list_skips_the_whole_table_count():
    for model, model_admin in admin.site._registry.items():
        if model._meta.label in LARGE:
            assert isinstance(model_admin, LargeListMixin), model._meta.label
            assert model_admin.show_full_result_count is False
            assert model_admin.paginator is EstimatedCountPaginator
    assert admin.site._registry[AuditEvent].date_hierarchy is None


WHOLE_COUNT = re.compile(r'SELECT COUNT\(\*\).*FROM "access_control_auditevent"', re.S)


def test_the_audit_list_counts_no_whole_table_and_still_shows_the_events(monkeypatch):
    """With more events than the paginator counts exactly, the list reads PostgreSQL's estimate
    of the table's size (ANALYZE, which autovacuum runs in production, keeps it), shows the
    newest events and links to the next page."""
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 20)
    patient = UserFactory()
    with transaction.atomic():
        for _index in range(130):
            record_event(actor=patient, patient=patient, action="list", outcome="allowed")
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "access_control_auditevent"')
    client = logged_in_client(StaffFactory())
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/audit/auditevent/")
    assert response.status_code == 200
    whole = [
        query["sql"]
        for query in queries.captured_queries
        if WHOLE_COUNT.search(query["sql"]) and "LIMIT" not in query["sql"]
    ]
    assert not whole, whole
    changelist = response.context["cl"]
    assert len(changelist.result_list) == changelist.list_per_page == 100
    assert changelist.result_count >= 130
    body = response.content.decode()
    assert "?p=2" in body
    # The count is PostgreSQL's estimate, and the page says so.
    assert changelist.paginator.estimated
    assert f"environ {changelist.result_count} événements" in body


def test_a_filtered_list_is_counted_exactly(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 5)
    patient = UserFactory()
    with transaction.atomic():
        for _index in range(8):
            record_event(actor=patient, patient=patient, action="list", outcome="allowed")
        for _index in range(3):
            record_event(actor=patient, patient=patient, action="view", outcome="refused")
    client = logged_in_client(StaffFactory())
    response = client.get("/admin/audit/auditevent/", {"outcome__exact": "refused"})
    assert response.context["cl"].result_count == 3
    assert not response.context["cl"].paginator.estimated
    small = client.get("/admin/enrollment/beneficiary/")
    assert small.context["cl"].result_count == Beneficiary.objects.count()
