"""No admin list narrows to one patient, one audit chain or one document's owner.

Django's admin accepts, on top of the filters a list offers, any query-string lookup on one of
the model's own fields or one relation deep. ``?patient=<uuid>`` on the documents listed a named
patient's categories, dates and types; ``?chain__key=patient:<uuid>`` on the audit trail listed
which practitioners (RPPS) and emergencies touched that record; ``?documents__uid=`` on the
users named the owner of a document. None of it left an event on the patient's chain. Staff get
a patient's uuid from their own audited identity read, so each list now answers only the lookups
its own filters send (Django's 400 for any other), and no list or page of health-related metadata
shows a patient's id or a chain key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from access_control.models import EmergencyAccess
from audit.models import AuditEvent
from audit.trail import record_event
from dmp_portal.admin_lookups import OfferedLookupsOnly
from enrollment.models import Beneficiary
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, logged_in_client
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """An enrolled patient with a document, a practitioner's read and an emergency on their
    chain, a staff member's identity read of them, and a verified superuser's client."""
    patient, _client = patient_with_login()
    person = make_beneficiary()
    Beneficiary.objects.filter(pk=person.pk).update(patient=patient)
    document = add_document(patient, category="psychiatrie")
    profile = PractitionerProfileFactory()
    emergency = EmergencyAccess.objects.create(
        patient=patient,
        practitioner=profile.user,
        reason="inconscient",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    staff = StaffFactory()
    with transaction.atomic():
        record_event(
            actor=profile.user,
            patient=patient,
            action="view",
            outcome="allowed",
            mode="emergency",
            document_uid=document.uid,
        )
        record_event(actor=staff, patient=patient, action="view-identity", outcome="allowed")
    return {
        "patient": patient,
        "document": document,
        "emergency": emergency,
        "profile": profile,
        "chain": AuditEvent.objects.filter(patient=patient).first().chain,
        "client": logged_in_client(staff),
    }


def narrowing(world) -> list[tuple[str, str]]:
    patient, chain = world["patient"], world["chain"]
    document, practitioner = world["document"], world["profile"].user
    return [
        ("records/document", f"patient={patient.pk}"),
        ("records/document", f"patient__id={patient.pk}"),
        ("records/document", f"patient__pk={patient.pk}"),
        ("records/document", f"patient__id__exact={patient.pk}"),
        ("records/document", f"patient_id={patient.pk}"),
        ("records/document", f"author={patient.pk}"),
        ("records/document", f"data_key={patient.data_key_id}"),
        ("audit/auditevent", f"patient={patient.pk}"),
        ("audit/auditevent", f"patient__id={patient.pk}"),
        ("audit/auditevent", f"patient__pk={patient.pk}"),
        ("audit/auditevent", f"chain={chain.pk}"),
        ("audit/auditevent", f"chain__id__exact={chain.pk}"),
        ("audit/auditevent", f"chain__key={chain.key}"),
        ("audit/auditevent", f"chain__key__endswith={patient.pk}"),
        ("audit/auditevent", f"chain__patient={patient.pk}"),
        ("audit/auditevent", f"actor={practitioner.pk}"),
        ("audit/auditevent", f"actor_rpps={world['profile'].rpps}"),
        ("audit/auditevent", f"document_uid={document.uid}"),
        ("audit/auditevent", f"mac={AuditEvent.objects.order_by('pk')[0].mac}"),
        ("audit/auditevent", f"previous_mac={AuditEvent.objects.order_by('pk')[0].mac}"),
        ("audit/auditevent", "sequence=1"),
        ("access_control/emergencyaccess", f"patient={patient.pk}"),
        ("access_control/emergencyaccess", f"patient__id={patient.pk}"),
        ("access_control/emergencyaccess", f"patient__pk={patient.pk}"),
        ("accounts/user", f"documents__uid={document.uid}"),
        ("accounts/user", "emergency_accesses__isnull=False"),
        ("accounts/user", "consents_given__isnull=False"),
        ("accounts/user", f"id={patient.pk}"),
        ("enrollment/beneficiary", f"patient={patient.pk}"),
        ("enrollment/beneficiary", f"patient__id={patient.pk}"),
        ("letters/letter", f"subject_uid={world['patient'].beneficiary.uid}"),
        ("enrollment/registrychange", f"beneficiary={world['patient'].beneficiary.pk}"),
        ("enrollment/enrollmentrequest", "nir_index=x"),
    ]


def test_no_list_narrows_to_one_patient_chain_or_document(world):
    client = world["client"]
    accepted = []
    for model, query in narrowing(world):
        response = client.get(f"/admin/{model}/?{query}")
        if response.status_code != 400:
            accepted.append(f"/admin/{model}/?{query} answered {response.status_code}")
    assert not accepted, "\n".join(accepted)


def test_no_list_or_page_of_health_metadata_shows_the_patient_or_the_chain(world):
    patient, chain = world["patient"], world["chain"]
    event = AuditEvent.objects.filter(chain=chain).order_by("sequence").first()
    pages = [
        "/admin/records/document/",
        f"/admin/records/document/{world['document'].pk}/change/",
        "/admin/audit/auditevent/",
        f"/admin/audit/auditevent/{event.pk}/change/",
        f"/admin/audit/auditevent/{event.pk}/history/",
        "/admin/access_control/emergencyaccess/",
        f"/admin/access_control/emergencyaccess/{world['emergency'].pk}/change/",
    ]
    shown = []
    for page in pages:
        response = world["client"].get(page)
        assert response.status_code == 200, page
        body = unescape(response.content.decode())
        for secret, what in (
            (str(patient.pk), "the patient's id"),
            (chain.key, "the chain key"),
            (f"{chain.pk}#{event.sequence} ", "the chain id"),
            (event.mac, "a chain link"),
        ):
            if secret in body:
                shown.append(f"{page} shows {what}")
    assert not shown, "\n".join(shown)


def test_the_emergency_review_queue_still_shows_who_when_and_review(world):
    """What staff review: who declared, when it started and ends, whether it was reviewed;
    the queue filters by practitioner and by review, and marking reviewed still works."""
    client, emergency = world["client"], world["emergency"]
    practitioner = world["profile"].user
    listing = client.get("/admin/access_control/emergencyaccess/")
    assert str(practitioner) in listing.content.decode()
    mine = client.get(
        "/admin/access_control/emergencyaccess/", {"practitioner__id__exact": practitioner.pk}
    )
    assert mine.status_code == 200 and str(practitioner) in mine.content.decode()
    waiting = client.get("/admin/access_control/emergencyaccess/", {"reviewed_at__isempty": "1"})
    assert waiting.status_code == 200 and len(waiting.context["cl"].result_list) == 1
    client.post(
        "/admin/access_control/emergencyaccess/",
        {"action": "mark_reviewed", "_selected_action": [emergency.pk]},
    )
    assert EmergencyAccess.objects.get(pk=emergency.pk).reviewed_at is not None


def test_every_filter_the_lists_offer_still_works(world):
    """Each link of each list's filter side bar and date hierarchy answers the list, not a
    refusal: the lookups each admin accepts are exactly those its filters send."""
    client = world["client"]
    broken = []
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        page = client.get(base).content.decode()
        sidebar = re.findall(r'href="(\?[^"]+)"', page)
        queries = {unescape(link) for link in sidebar if "=" in link and "o=" not in link}
        for query in sorted(queries):
            response = client.get(base + query)
            if response.status_code != 200:
                broken.append(f"{base}{query} answered {response.status_code}")
    assert not broken, "\n".join(broken)


def test_search_fields_reach_no_patient_or_chain():
    reached = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.search_fields:
            path = name.lstrip("=^@").split("__")
            if {"patient", "chain", "mac", "previous_mac", "subject_uid", "beneficiary"} & set(
                path
            ) or path[0] in {"documents", "emergency_accesses", "consents_given"}:
                reached.append(f"{model._meta.label}: {name}")
    assert not reached


def test_every_admin_declares_its_lookups_and_none_names_a_patient_or_chain():
    """A model registered later (consents, blocks, requests, record settings...) gets the same
    rule or fails here: only ``patient__isempty`` (whether a person has a record) may touch a
    patient, never to name one."""
    wrong = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, OfferedLookupsOnly):
            wrong.append(f"{model._meta.label} accepts Django's default lookups")
            continue
        for lookup in model_admin.offered_lookups - {"patient__isempty"}:
            parts = set(lookup.split("__"))
            if parts & {"patient", "chain", "actor", "subject_uid", "beneficiary", "mac", "uid"}:
                wrong.append(f"{model._meta.label} offers ?{lookup}=")
    assert not wrong, "\n".join(wrong)
