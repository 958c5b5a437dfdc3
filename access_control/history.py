"""The patient's access history: every audit event of one record, newest first (but the fetch
of a file shown inside its document's page, which that page's own event stands for).

Reading the trail of a record is itself an access: it passes the door (``Action.VIEW_HISTORY``),
which records it in the same transaction as the read. Whether a row may name its document (not
deleted, already announced to the patient) is the door's answer too (and a document still held
back until an announcement has no row at all) (``decide`` VIEW, from the
same ``RecordAccess``, without a query). A page costs the same few queries whatever the number
of events: the events with their actors and practitioner profiles in one query, the titles of
the page's documents in one more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from access_control import policy
from access_control.decisions import (
    ANSWER_ACTIONS,
    APPROACH_ACTIONS,
    AUTHOR_ACTIONS,
    CLOSURE_ACTIONS,
    INLINE_PREFIX,
    INVITATION_ACTIONS,
    OWNER_ACTIONS,
    PRACTITIONER_ACTIONS,
    REPRESENTATIVE_LINK_ACTIONS,
    STAFF_REGISTRY_ACTIONS,
    Actor,
)
from access_control.history_rows import (
    EVENT_COLUMNS,
    PARIS,
    Event,
    HistoryRow,
    Wording,
    applications_among,
    documents_of,
    helper_names,
    helpers_among,
    row,
)
from accounts.models import User, UserKind
from audit.models import Action, AuditEvent, Mode
from records.models import Document, DocumentStatus

PER_PAGE = 50
# The trail stores UTC; people read, and filter by, the time of mainland France.
# Values of the "who" filter: the actor's kind at the time of the event.
WHO_VALUES = (UserKind.PATIENT, UserKind.PRACTITIONER, UserKind.STAFF)
# Values of the "show" switch: what others did on the record (the default: what a patient comes
# to check), or what the patient did themselves.
OTHERS, MINE = "others", "mine"

# What each view may hold, so that its filters offer nothing that never happens there.
# The patient's own actions: what the door lets a patient do on their own record (it refuses
# them any other action, and only on their own record is the patient the one who knocks).
# Inviting a caregiver and ending their access: the owner's alone (issue 17).
# Reading one's own consents page is not recorded (``Action.VIEW_CONSENTS``: a helper's only).
RECORD_OWN_ACTIONS = frozenset(
    (OWNER_ACTIONS - {Action.VIEW_CONSENTS}) | CLOSURE_ACTIONS | INVITATION_ACTIONS
)
# Of those, the ones only the patient can be recorded doing: their services take the patient
# as both the actor and the record: the export (``access_control.record_export``) opens the
# reader's own record only. Not the consents (``access_control.services``' ``_owner_action``)
# nor the history: someone acting for the patient grants, revokes, blocks (as the door allows)
# and reads the history too (issue 17). Checked by tests/access_control/test_history.py.
OWNER_BOUND_ACTIONS = frozenset(
    {Action.EXPORT}
    | CLOSURE_ACTIONS  # closing and reopening: the patient's own (access_control.closure)
    | INVITATION_ACTIONS  # inviting and ending a caregiver (access_control.caregivers)
)
# The patient's account on their own chain (issue 15), in their name once they are proven:
# the steps of a login, a logout, a session ended, an authenticator app or a passkey added, a
# passkey removed, a password changed, a contact address confirmed or removed
# (accounts.services). Not a password reset: whoever holds the mailbox link is not proven, so
# it is recorded in no one's name, among others' actions.
ACCOUNT_OWN_ACTIONS = frozenset(
    {
        Action.LOGIN_PASSWORD,
        Action.LOGIN,
        Action.LOGIN_PASSKEY,
        Action.LOGOUT,
        Action.END_SESSION,
        Action.ADD_TOTP,
        Action.ADD_PASSKEY,
        Action.REMOVE_PASSKEY,
        Action.PASSWORD_CHANGE,
        Action.CONTACT_EMAIL,
    }
)
# ... and in no one's name or another's: a refused login step (the person is not proven), a
# letter's code used to open or reactivate the record, a reactivation letter or a reset link
# asked for by whoever typed the number or the address, a password reset by the holder of the
# link, the sessions a reactivation or a reset ended (enrollment.services, accounts.services);
# and staff lifting a throttle on the patient's account (accounts.services.throttles).
# Checked the other way round (every action and actor the services record is offered) by
# tests/access_control/test_history.py.
ACCOUNT_OTHERS_ACTIONS = frozenset(
    {
        Action.LOGIN_PASSWORD,
        Action.LOGIN,
        Action.LOGIN_PASSKEY,
        Action.ACTIVATE,
        Action.REACTIVATE,
        Action.REQUEST_REACTIVATION,
        Action.PASSWORD_RESET_REQUEST,
        Action.PASSWORD_RESET,
        Action.END_SESSION,
        Action.LIFT_THROTTLE,
        # Issue 17, at 18 (enrollment.services.majority): the representations ended by the
        # daily task, the record taken over with the letter's code.
        Action.END_REPRESENTATION,
        Action.TAKE_OVER,
    }
)
OWN_ACTIONS = RECORD_OWN_ACTIONS | ACCOUNT_OWN_ACTIONS
# Staff work recorded on a person's registry chain only, never on a record's: an opposition
# to a record's creation applies to nobody who has a record (enrollment.services.opposition).
BEFORE_ANY_RECORD = frozenset({Action.SET_OPPOSITION, Action.LIFT_OPPOSITION})
# Others' actions on a record: a practitioner's reads and uploads and their approach (look-up,
# request, emergency), staff work on the registry, and whatever anyone signed in may try at a
# document's address (view, download, hide, show again, delete: refused, and recorded, when
# not theirs to do); and the account's events in no one's name.
OTHERS_ACTIONS = frozenset(
    (RECORD_OWN_ACTIONS - OWNER_BOUND_ACTIONS)
    | PRACTITIONER_ACTIONS
    | AUTHOR_ACTIONS  # a practitioner author's, and the daily reveal's (in no one's name)
    | APPROACH_ACTIONS
    | (STAFF_REGISTRY_ACTIONS - BEFORE_ANY_RECORD)
    | REPRESENTATIVE_LINK_ACTIONS  # the import (re)links a child's representatives (issue 17)
    | ANSWER_ACTIONS  # the invited person accepts or declines (issue 17)
    | {Action.VIEW_CONSENTS}  # someone acting for the patient reads the consents page
    | ACCOUNT_OTHERS_ACTIONS
)
ACTIONS_OF = {MINE: OWN_ACTIONS, OTHERS: OTHERS_ACTIONS}
# The patient acts in normal mode only (an emergency is a practitioner's): « Mes actions » has
# no mode filter.
MODES_OF = {MINE: frozenset({Mode.NORMAL}), OTHERS: frozenset(Mode)}


class HistoryNotFound(Exception):
    """Refused (or no record): the caller answers 404, never a hint."""


@dataclass(frozen=True)
class HistoryFilters:
    scope: str = OTHERS  # OTHERS (every actor but the patient) or MINE (the patient alone)
    action: str = ""  # an Action value
    outcome: str = ""  # an Outcome value
    mode: str = ""  # a Mode value
    who: str = ""  # "patient", "practitioner" or "staff"
    date_from: date | None = None  # days of Paris time, both included
    date_to: date | None = None


def access_history(
    actor: Actor,
    patient: User | None,
    filters: HistoryFilters,
    page_number: int | str | None,
    *,
    client_address: str = "",
    acting_for: bool = False,
) -> Page[HistoryRow]:
    """One page of the record's audit events (rows of HistoryRow), newest first.

    ``acting_for``: the record chosen with the switch (issue 17, ``access_control.acting``):
    a legal representative or a caregiver reads it as ``helper_events`` leaves it."""
    with transaction.atomic():
        access = policy.access_to(actor, patient, acting_for=acting_for)
        decision = policy.authorize(
            actor,
            patient,
            Action.VIEW_HISTORY,
            client_address=client_address,
            access=access,
            acting_for=acting_for,
        )
        # Allowed to the patient, or someone acting for them, so it exists.
        if decision.allowed and patient is not None and isinstance(actor, User):
            # The file shown inside a document's page is part of that page's view, listed once.
            events: QuerySet[AuditEvent] = AuditEvent.objects.filter(patient=patient).exclude(
                action=Action.VIEW, reason__startswith=INLINE_PREFIX
            )
            events = _filtered(events, filters, actor)
            # A document held back until an announcement leaves no trace the patient can see:
            # no line about it (its upload, reads, hold) until it is revealed (issue 16).
            events = events.exclude(document_uid__in=_held_documents(patient))
            if actor.pk != patient.pk:
                events = helper_events(events, access)
            # Only what a line shows (issue 20): plain values, the practitioner's profile
            # joined; a helper's registry name is read apart, for the lines that name one.
            ordered = events.order_by("-occurred_at", "-sequence").values(*EVENT_COLUMNS)
            page = Paginator(ordered, PER_PAGE).get_page(page_number)
            page_events: list[Event] = list(page.object_list)
            documents = documents_of(patient, page_events)
    if not decision.allowed or patient is None:
        raise HistoryNotFound
    # A page of rows, numbered by the events' paginator (which only counts: hence Any).
    paginator: Paginator[Any] = page.paginator
    # Allowed only to a signed-in person (the type checker needs it said).
    if not isinstance(actor, User):
        raise HistoryNotFound
    rows = _rows(page_events, patient, actor, documents, access)
    return Page(rows, page.number, paginator)


def _rows(
    events: list[Event],
    patient: User,
    reader: User,
    documents: dict[Any, Document],
    access: policy.RecordAccess,
) -> list[HistoryRow]:
    ties = helpers_among(patient, events)
    names = helper_names(patient, reader, events, ties)
    apps = applications_among(events)
    wording = Wording(documents, access)
    return [row(event, patient, wording, reader, ties, names, apps) for event in events]


def helper_events(
    events: QuerySet[AuditEvent], access: policy.RecordAccess
) -> QuerySet[AuditEvent]:
    """The lines someone acting for the patient may read (issue 17): no line about a document
    outside the door's list filter for them (``access.documents()``: a caregiver's leaves out
    what is hidden from practitioners, and whatever else the door hides from a helper), not
    even its upload, read or hiding; and nothing of the patient's account (logins, sessions,
    security), which is the patient's own."""
    listed = Document.objects.filter(access.documents()).values("uid")
    about_documents = Q(document_uid__isnull=True) | Q(document_uid__in=listed)
    account = ACCOUNT_OWN_ACTIONS | ACCOUNT_OTHERS_ACTIONS
    return events.filter(about_documents).exclude(action__in=account)


def _filtered(
    events: QuerySet[AuditEvent], filters: HistoryFilters, reader: User
) -> QuerySet[AuditEvent]:
    # « Mes actions »: the reader's own, whether the record's owner or someone acting for them.
    # Events without an actor (system, unidentified) are others' (``exclude`` keeps NULLs).
    if filters.scope == MINE:
        events = events.filter(actor_id=reader.pk)
    else:
        events = events.exclude(actor_id=reader.pk)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.mode:
        events = events.filter(mode=filters.mode)
    if filters.who in WHO_VALUES:
        events = events.filter(actor_role=filters.who)
    if filters.date_from:
        events = events.filter(occurred_at__gte=_start_of_paris_day(filters.date_from))
    if filters.date_to and filters.date_to < date.max:
        events = events.filter(
            occurred_at__lt=_start_of_paris_day(filters.date_to + timedelta(days=1))
        )
    return events


def _held_documents(patient: User) -> QuerySet[Document, Any]:
    """The uids of this record's documents still held back from the patient (a subquery): held
    until a later time, or withdrawn (or replaced in a chain withdrawn) while held, which the
    daily reveal never reveals (``records.versions.reveal_due_documents``): the patient never
    learns that they existed."""
    still_held = Q(hidden_from_patient_until__gt=timezone.now())
    withdrawn_while_held = Q(
        hidden_from_patient_until__isnull=False,
        status__in=(DocumentStatus.DELETED, DocumentStatus.REPLACED),
    )
    held = Document.objects.filter(still_held | withdrawn_while_held, patient=patient)
    return held.values("uid")


def _start_of_paris_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def every_row(patient: User, access: policy.RecordAccess) -> list[HistoryRow]:
    """Every event of the record as the history page words it, newest first: for a read of
    the whole record (the export, ``access_control.record_export``) that the door already
    decided and recorded in the caller's transaction, in which this must run."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("every_row must share the audited read's transaction")
    events: list[Event] = list(
        AuditEvent.objects.filter(patient=patient)
        .exclude(action=Action.VIEW, reason__startswith=INLINE_PREFIX)
        # As on the history page: nothing about a document still held back from the patient.
        .exclude(document_uid__in=_held_documents(patient))
        .order_by("-occurred_at", "-sequence")
        .values(*EVENT_COLUMNS)
    )
    return _rows(events, patient, patient, documents_of(patient, events), access)
