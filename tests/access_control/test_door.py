"""The door, complete: one relationship per request, every decision through ``policy.decide``,
no side door around it (issue 12, point 1)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_control import policy
from access_control.decisions import Decision
from access_control.history import HistoryFilters, access_history
from access_control.models import (
    AccessRequest,
    Block,
    Consent,
    EmergencyAccess,
    RecordSettings,
    TreatingPhysician,
)
from access_control.notifications import notify_patient
from access_control.selectors import patient_identity
from audit.models import Action, AuditEvent, Mode
from records.models import Document
from tests.access_control.factories import (
    enrolled_patient,
    grant,
    look_up,
    practitioner_with_login,
)
from tests.accounts.factories import next_totp_token
from tests.records.factories import add_document

pytestmark = pytest.mark.django_db

REASON = "Patient inconscient admis aux urgences"


def test_live_consent_active_block_and_emergency_are_named_once_on_the_models():
    patient, _client, _nir = enrolled_patient()
    profiles = [practitioner_with_login()[0].user for _ in range(3)]
    now = timezone.now()
    live = Consent.objects.create(patient=patient, practitioner=profiles[0])
    Consent.objects.create(patient=patient, practitioner=profiles[1], revoked_at=now)
    expired = Consent.objects.create(
        patient=patient, practitioner=profiles[2], expires_at=now - timedelta(minutes=1)
    )
    assert list(Consent.objects.live()) == [live]
    assert set(Consent.objects.unrevoked()) == {live, expired}
    active = Block.objects.create(patient=patient, practitioner=profiles[0])
    Block.objects.create(patient=patient, practitioner=profiles[1], lifted_at=now)
    assert list(Block.objects.active()) == [active]
    ongoing = EmergencyAccess.objects.create(
        patient=patient, practitioner=profiles[0], reason=REASON, ends_at=now + timedelta(hours=1)
    )
    EmergencyAccess.objects.create(
        patient=patient, practitioner=profiles[1], reason=REASON, ends_at=now
    )
    assert list(EmergencyAccess.objects.active()) == [ongoing]


def test_no_module_outside_the_door_writes_the_states_or_the_trail_itself():
    """The states are written on the models, the record decisions are recorded by the door."""
    root = Path(__file__).resolve().parents[2]
    sources = [
        root / "access_control" / name
        for name in (
            "services.py",
            "selectors.py",
            "history.py",
            "views.py",
            "views_history.py",
            "purge.py",
        )
    ] + sorted((root / "records").glob("*.py"))
    for source in sources:
        text = source.read_text()
        assert "record_event(" not in text, source
        assert "revoked_at__isnull" not in text and "lifted_at__isnull" not in text, source
        assert "ends_at__gt" not in text, source


def count(queries, table: str) -> int:
    return sum(f'"{table}"' in query["sql"] for query in queries.captured_queries)


def test_a_practitioners_record_page_reads_the_relationship_once():
    patient, client, _nir = enrolled_patient()
    add_document(patient, title="Bilan sanguin")
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    pro.get(f"/pro/patients/{patient.pk}/")  # the first access is announced once
    with CaptureQueriesContext(connection) as queries:
        page = pro.get(f"/pro/patients/{patient.pk}/")
    content = page.content.decode()
    assert page.status_code == 200 and "Bilan sanguin" in content and "Dupont" in content
    assert count(queries, Block._meta.db_table) == 1
    assert count(queries, Consent._meta.db_table) == 1


def test_a_probe_of_a_file_is_recorded_whatever_its_type():
    """The content address asked the registry of types before the door: a stranger's probe of a
    file not shown inline (or of no file at all) left no trace. Now the door answers first."""
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    Document.objects.filter(pk=document.pk).update(media_type="text/plain", extension=".txt")
    stranger_profile, stranger = practitioner_with_login()

    assert stranger.get(f"/records/{document.uid}/content/").status_code == 404
    assert AuditEvent.objects.filter(
        patient=patient,
        actor=stranger_profile.user,
        action="view",
        outcome="refused",
        document_uid=document.uid,
    ).exists()
    missing = uuid.uuid4()
    assert stranger.get(f"/records/{missing}/content/").status_code == 404
    assert AuditEvent.objects.filter(
        patient=None, actor=stranger_profile.user, action="view", reason="no-such-record"
    ).exists()
    # The owner is let through by the door, but a type not shown inline is not served inline.
    owner = client.get(f"/records/{document.uid}/content/")
    assert owner.status_code == 404
    assert client.get(f"/records/{document.uid}/download/").status_code == 200


def test_a_file_shown_inline_runs_sandboxed():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    response = client.get(f"/records/{document.uid}/content/")
    assert response.status_code == 200
    policy_header = response["Content-Security-Policy"]
    assert "sandbox" in policy_header and "default-src 'none'" in policy_header


def test_a_pdf_is_not_framed_in_the_page_since_it_runs_sandboxed():
    """Chromium refuses to run its PDF viewer in a sandboxed document: the page offers the
    download instead of a frame that would only say it was blocked."""
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    page = client.get(f"/records/{document.uid}/").content.decode()
    assert "<iframe" not in page and f"/records/{document.uid}/content/" not in page
    assert f"/records/{document.uid}/download/" in page


def refuse_everything(*args, **kwargs):
    return Decision(False, "refused-by-test")


def test_when_decide_refuses_everything_every_page_of_a_record_refuses_and_records_it():
    patient, client, nir = enrolled_patient()
    document = add_document(patient, title="Compte rendu")
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    events_before = AuditEvent.objects.count()
    with mock.patch("access_control.policy.decide", refuse_everything):
        for url in (
            "/records/",
            f"/records/{document.uid}/",
            f"/records/{document.uid}/content/",
            f"/records/{document.uid}/download/",
            "/records/upload/",
            "/access/history/",
        ):
            assert client.get(url).status_code == 404, url
        assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 404
        assert pro.get(f"/pro/patients/{patient.pk}/upload/").status_code == 404
        page = pro.post("/pro/", {"nir": nir}).content.decode()
        assert f"/pro/patients/{patient.pk}/" not in page  # not sent to the record
        lookup = look_up(pro, nir)
        pro.post(f"/pro/patients/{lookup}/request/")
        declared = pro.post(
            f"/pro/patients/{lookup}/emergency/",
            {"reason": REASON, "otp_token": next_totp_token(profile.user.totpdevice_set.get())},
        )
        assert declared.status_code == 200
    assert not AccessRequest.objects.exists() and not EmergencyAccess.objects.exists()
    refusals = AuditEvent.objects.filter(reason="refused-by-test")
    assert refusals.count() == AuditEvent.objects.count() - events_before
    assert set(refusals.values_list("action", flat=True)) == {
        "list",
        "view",
        "download",
        "upload",
        "view-history",
        "lookup",
        "request-access",
        "emergency",
    }


def test_the_history_asks_the_door_whether_a_row_may_name_its_document():
    patient, _client, _nir = enrolled_patient()
    document = add_document(patient, title="Échographie")
    with transaction.atomic():
        policy.authorize(patient, patient, Action.VIEW, document=document)

    def titles() -> list[tuple[str, str]]:
        page = access_history(patient, patient, HistoryFilters(scope="mine", action="view"), 1)
        return [(row.document_state, row.document_title) for row in page.object_list]

    assert titles() == [("available", "Échographie")]
    real_decide = policy.decide

    def refuse_reading_documents(actor, patient, action, document=None, *args, **kwargs):
        if action == Action.VIEW:
            return Decision(False, "refused-by-test")
        return real_decide(actor, patient, action, document, *args, **kwargs)

    with mock.patch("access_control.policy.decide", refuse_reading_documents):
        [(state, title)] = titles()
    assert state == "deleted" and "Échographie" not in title


def test_the_door_answers_lookups_requests_and_emergencies():
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    practitioner = profile.user

    def decision(action):
        return policy.decide(practitioner, patient, action)

    assert decision(Action.LOOKUP) == Decision(True, "found")
    assert decision(Action.REQUEST_ACCESS) == Decision(True, "request")
    assert decision(Action.EMERGENCY) == Decision(True, "declared", Mode.EMERGENCY)
    RecordSettings.objects.create(patient=patient, emergency_opt_out=True)
    assert decision(Action.EMERGENCY) == Decision(False, "emergency-opted-out", Mode.EMERGENCY)
    Block.objects.create(patient=patient, practitioner=practitioner)
    assert decision(Action.LOOKUP).allowed  # found; the page says no more
    assert decision(Action.REQUEST_ACCESS) == Decision(False, "blocked-by-patient")
    assert not decision(Action.EMERGENCY).allowed
    assert policy.decide(practitioner, None, Action.EMERGENCY) == Decision(
        False, "no-such-record", Mode.EMERGENCY
    )


def test_one_access_answers_the_decision_the_list_filter_and_the_identity():
    patient, client, _nir = enrolled_patient()
    readable = add_document(patient, category="imagerie")
    profile, _pro = practitioner_with_login()
    stranger_profile, _stranger = practitioner_with_login()
    grant(client, profile.rpps)
    with CaptureQueriesContext(connection) as queries:
        access = policy.access_to(profile.user, patient)
        assert access.decide(Action.VIEW, readable).allowed
        assert access.may_show_identity()
        listed = list(Document.objects.filter(access.documents()))
    assert listed == [readable]
    assert count(queries, Consent._meta.db_table) == 1
    refused = policy.access_to(stranger_profile.user, patient)
    assert not refused.may_show_identity()
    assert not Document.objects.filter(refused.documents()).exists()


@pytest.mark.django_db(transaction=True)
def test_the_door_refuses_to_decide_outside_a_transaction_even_under_python_O():
    patient, _client, _nir = enrolled_patient()
    with pytest.raises(TransactionManagementError):
        policy.authorize(patient, patient, Action.LIST)
    with pytest.raises(TransactionManagementError):
        policy.record_refusal(patient, patient, Action.LIST, "test")
    assert not AuditEvent.objects.exists()


def test_the_identity_read_on_its_own_is_decided_and_recorded_by_the_door():
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    stranger_profile, _stranger = practitioner_with_login()
    grant(client, profile.rpps)
    with transaction.atomic():
        assert patient_identity(stranger_profile.user, patient) is None
        assert patient_identity(profile.user, patient).last_name == "Dupont"
    assert AuditEvent.objects.filter(
        patient=patient, actor=stranger_profile.user, action="list", outcome="refused"
    ).exists()
    assert AuditEvent.objects.filter(
        patient=patient, actor=profile.user, action="list", outcome="allowed"
    ).exists()


def test_a_file_not_shown_inline_is_refused_by_the_door_in_the_same_decision():
    """The content address recorded an allowed view of a file it then answered 404 to: the
    door now refuses it (``not-shown-inline``), and that refusal is the fetch's one event."""
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    Document.objects.filter(pk=document.pk).update(media_type="text/plain", extension=".txt")
    before = AuditEvent.objects.count()
    assert client.get(f"/records/{document.uid}/content/").status_code == 404
    events = list(
        AuditEvent.objects.order_by("pk").values_list("action", "outcome", "reason", "document_uid")
    )[before:]
    assert events == [("view", "refused", "not-shown-inline", document.uid)]


def test_a_page_and_the_file_it_shows_are_one_view_in_the_history():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    Document.objects.filter(pk=document.pk).update(media_type="image/png", extension=".png")
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    page = pro.get(f"/records/{document.uid}/").content.decode()
    assert f"/records/{document.uid}/content/" in page  # the image is shown in the page
    assert pro.get(f"/records/{document.uid}/content/").status_code == 200
    # Both reads are in the trail, each decided by the door...
    reasons = AuditEvent.objects.filter(actor=profile.user, action="view").values_list(
        "reason", flat=True
    )
    assert sorted(reasons) == ["consent", "inline:consent"]
    # ...and the patient's history shows the practitioner's view of the page once.
    rows = access_history(patient, patient, HistoryFilters(action="view", who="practitioner"), 1)
    assert [(row.who, row.document_title) for row in rows.object_list] == [
        (f"{profile.first_name} {profile.last_name}", "Compte rendu d'IRM")
    ]


def test_an_owner_refused_by_the_door_finds_the_refusal_recorded_and_nothing_changed():
    """The patient's own decisions raised inside their transaction, which rolled back the
    refusal just recorded. Each now commits the refusal, then answers with the error."""
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    other, _other_client = practitioner_with_login()
    grant(client, other.rpps)
    consent = Consent.objects.get(patient=patient)
    with mock.patch("access_control.policy.decide", refuse_everything):
        answers = [
            client.post("/access/", {"rpps": profile.rpps}),
            client.post(f"/access/consents/{consent.pk}/revoke/"),
            client.post("/access/blocks/", {"block-rpps": profile.rpps}),
            client.post("/access/treating-physician/", {"md-rpps": profile.rpps}),
            client.post(
                "/access/settings/",
                {"contact_email": "patient@example.org", "emergency_opt_out": "on"},
            ),
        ]
    assert all(answer.status_code in (200, 302) for answer in answers)
    refusals = AuditEvent.objects.filter(actor=patient, reason="refused-by-test")
    assert sorted(refusals.values_list("action", flat=True)) == [
        "block",
        "grant",
        "grant",
        "grant",
        "revoke",
    ]
    # Nothing changed: the one consent is still live, no block, no physician, no settings.
    assert list(Consent.objects.live().filter(patient=patient)) == [consent]
    assert not Block.objects.exists() and not RecordSettings.objects.exists()
    assert not TreatingPhysician.objects.exists()


def test_the_identity_is_not_shown_with_the_access_of_another_reader_or_record():
    patient, client, _nir = enrolled_patient()
    other_patient, _other_client, _other_nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    grant(client, profile.rpps)
    with transaction.atomic():
        access = policy.access_to(profile.user, patient)
        assert patient_identity(profile.user, patient, access=access) is not None
        with pytest.raises(ValueError):
            patient_identity(profile.user, other_patient, access=access)
        with pytest.raises(ValueError):
            patient_identity(patient, patient, access=access)


def test_an_unknown_notification_kind_is_refused_and_nothing_is_queued(
    django_capture_on_commit_callbacks,
):
    patient, _client, _nir = enrolled_patient()
    with django_capture_on_commit_callbacks() as queued, pytest.raises(ValueError):
        notify_patient("first-access", patient)  # "first_access" is the kind
    assert queued == []
