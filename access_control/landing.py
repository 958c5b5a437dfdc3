"""Reads for the page each kind of user lands on after login, and the name the header shows.

The patient's summary is made of the same reads as the full pages (the record's list and the
access history, each through the door, which records them), cut short; its waiting requests
are those ``/access/`` offers to answer (``selectors.waiting_requests``). The practitioner's
workspace lists only the records the door lets them list now (``selectors.records_open_to``),
and names the patients through the door's identity rule (``RecordAccess.may_show_identity``):
the list itself reads no record, so it records nothing; opening one of them does
(``selectors.practitioner_record``). Its requests come from the practitioner's own trail, so
that a request for a NIR without a record looks the same as one a patient has not answered yet:
the workspace tells no more than the look-up did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from access_control import history, policy, selectors
from access_control.models import (
    AccessRequest,
    DeathProposal,
    DeathProposalState,
    EmergencyAccess,
    RecordClosure,
)
from accounts.models import User, UserKind
from audit.models import Action, AuditEvent
from enrollment.models import RegistryChange, RegistryChangeState
from records import selectors as record_selectors

SUMMARY_DOCUMENTS = 5
SUMMARY_ACCESSES = 5
# The door loads each relationship on its own (a few queries per patient): the workspace lists
# the most recent consents, and the NIR look-up above them finds any other patient.
WORKSPACE_PATIENTS = 25
WORKSPACE_REQUESTS = 20
# Requests older than this have long been answered or forgotten: the workspace shows the recent.
REQUESTS_SHOWN_FOR = timedelta(days=30)
# A request refused for its rate was never sent: the practitioner was told to try again later.
THROTTLED = "throttled"


@dataclass(frozen=True)
class PatientSummary:
    documents: list[record_selectors.DocumentRow]  # the latest few, newest first
    document_count: int
    requests: list[AccessRequest]  # waiting for the patient's answer, newest first
    accesses: list[history.HistoryRow]  # the latest by health professionals, newest first
    closure: RecordClosure | None = None  # the record is closed (the summary says so)


def patient_summary(patient: User, *, client_address: str = "") -> PatientSummary:
    """The first screen of a patient's record: two audited reads (the list, the history)."""
    page = record_selectors.record_page(
        patient, patient, record_selectors.RecordFilters(), 1, client_address=client_address
    )
    accesses = history.access_history(
        patient,
        patient,
        history.HistoryFilters(who=UserKind.PRACTITIONER.value),
        1,
        client_address=client_address,
    )
    requests = selectors.waiting_requests(patient)
    return PatientSummary(
        documents=list(page.object_list)[:SUMMARY_DOCUMENTS],
        document_count=page.paginator.count,
        requests=requests,
        accesses=list(accesses.object_list)[:SUMMARY_ACCESSES],
        closure=RecordClosure.objects.filter(patient=patient).first(),
    )


@dataclass(frozen=True)
class WorkspacePatient:
    patient_id: uuid.UUID
    identity: selectors.PatientIdentity | None  # None: the registry has no identity to show


@dataclass(frozen=True)
class ConsentedPatient:
    patient: WorkspacePatient
    since: datetime
    until: date | None  # the last day included, as the patient typed it


@dataclass(frozen=True)
class SentRequest:
    sent_at: datetime
    state: str  # "waiting", "accepted" or "declined"
    patient: WorkspacePatient | None  # named only when the door lets the practitioner list it


@dataclass(frozen=True)
class EmergencyInProgress:
    patient: WorkspacePatient
    started_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Workspace:
    patients: list[ConsentedPatient]
    more_patients: bool  # more consents than WORKSPACE_PATIENTS: only the latest are listed
    requests: list[SentRequest]
    emergencies: list[EmergencyInProgress]


def _listed(practitioner: User, patient: User) -> WorkspacePatient | None:
    """The patient as the workspace may show them: named only when the door lets this
    practitioner list the record now (a block, a revocation or an expiry removes them at once)."""
    access = policy.access_to(practitioner, patient)
    if not access.may_show_identity():
        return None
    with transaction.atomic():
        identity = selectors.patient_identity(practitioner, patient, access=access)
    return WorkspacePatient(patient.pk, identity)


def practitioner_workspace(practitioner: User) -> Workspace:
    """The practitioner's patients, the requests they sent and their emergencies in progress.

    Who is listed is ``selectors.records_open_to``: the door's rule for listing a record, the
    one the patient's pages say it with (``readers_of``), so that both sides always agree. A
    record opened by a live consent is listed among the patients (the door reads it in normal
    mode), one opened by an emergency access alone among the emergencies in progress."""
    open_records = selectors.records_open_to(practitioner)
    people = User.objects.in_bulk([access.patient_id for access in open_records])
    consented = [access for access in open_records if access.consent is not None]
    patients = []
    for access in consented[:WORKSPACE_PATIENTS]:
        consent = access.consent
        listed = _listed(practitioner, people[access.patient_id])
        if consent is not None and listed is not None:
            patients.append(ConsentedPatient(listed, consent.granted_at, consent.last_day))
    emergencies = []
    for access in open_records:
        emergency = access.emergency
        if access.consent is None and emergency is not None:
            listed = _listed(practitioner, people[access.patient_id])
            if listed is not None:
                emergencies.append(
                    EmergencyInProgress(listed, emergency.started_at, emergency.ends_at)
                )
    emergencies.sort(key=lambda row: row.ends_at)  # the one ending first on top
    more = len(consented) > WORKSPACE_PATIENTS
    return Workspace(patients, more, _sent_requests(practitioner), emergencies)


def _sent_requests(practitioner: User) -> list[SentRequest]:
    """Every request the practitioner sent lately, as their trail holds it, refused or not: a
    request the door refused (no record, a block) stays "waiting", like one not answered yet."""
    events = list(
        AuditEvent.objects.filter(
            actor=practitioner,
            action=Action.REQUEST_ACCESS,
            occurred_at__gte=timezone.now() - REQUESTS_SHOWN_FOR,
        )
        .exclude(reason=THROTTLED)
        .select_related("patient")
        .order_by("-occurred_at", "-pk")[:WORKSPACE_REQUESTS]
    )
    # The request written from an event carries the event's time (access_requests.py).
    written: dict[tuple[uuid.UUID | None, datetime], AccessRequest] = {
        (row.patient_id, row.created_at): row
        for row in AccessRequest.objects.filter(
            practitioner=practitioner, created_at__in=[event.occurred_at for event in events]
        )
    }
    sent = []
    for event in events:
        row = written.get((event.patient_id, event.occurred_at))
        state = "waiting"
        if row is not None and row.decided_at is not None:
            state = "accepted" if row.accepted else "declined"
        patient = None
        if state == "accepted" and event.patient is not None:
            patient = _listed(practitioner, event.patient)
        sent.append(SentRequest(event.occurred_at, state, patient))
    return sent


@dataclass(frozen=True)
class StaffQueues:
    registry_changes: int  # proposed, waiting for a second staff member
    emergencies: int  # not reviewed yet
    deaths: int = 0  # proposed, waiting for a second staff member


def staff_queues() -> StaffQueues:
    """How much waits in each review queue (counts only: nothing of anyone's identity)."""
    return StaffQueues(
        registry_changes=RegistryChange.objects.filter(state=RegistryChangeState.PENDING).count(),
        emergencies=EmergencyAccess.objects.filter(reviewed_at__isnull=True).count(),
        deaths=DeathProposal.objects.filter(state=DeathProposalState.PENDING).count(),
    )


def display_name(user: User) -> str:
    """The name the header shows: a patient's from the registry (their own identity, shown by
    the door's rule, not recorded: the header is no read of the record), a practitioner's
    from the directory, a staff member's from their account; the login identifier only when
    no name is known."""
    if user.kind == UserKind.PATIENT:
        access = policy.access_to(user, user)
        with transaction.atomic():
            identity = selectors.patient_identity(user, user, access=access)
        if identity is not None and identity.first_name and identity.last_name:
            return f"{identity.first_name} {identity.last_name}"
    elif user.kind == UserKind.PRACTITIONER:
        try:
            profile = user.practitioner_profile
        except ObjectDoesNotExist:
            return user.get_username()
        return f"{profile.first_name} {profile.last_name}"
    return user.get_full_name() or user.get_username()
