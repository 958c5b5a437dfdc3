"""How the access history words one audit event (``HistoryRow``): who acted (named for the
record's owner or someone acting for them), what, on which document (named only when the door
would let the reader view it: ``access_control.history`` decided the read), with what outcome.
Apart from ``history`` (which reads and filters the events) so that each reads in one sitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Choices
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import get_application_model

from access_control import policy
from access_control.acting import name_of
from access_control.models import CaregiverGrant, LegalRepresentation
from accounts.models import User, UserKind
from audit.models import Action, AuditEvent, Mode, Outcome
from dmp_portal.crypto.fields import is_destroyed
from records.models import Document

PARIS = ZoneInfo("Europe/Paris")
# A legal representative's or a caregiver's actions are named, with their role (issue 17).
HELPER_MODES = {Mode.REPRESENTATIVE: "representative", Mode.CAREGIVER: "caregiver"}


@dataclass(frozen=True)
class HistoryRow:
    occurred_at: datetime  # aware, in Europe/Paris
    # "you", "owner" (the record's owner, for someone acting for them), "helper" (a legal
    # representative or a caregiver, named), "patient" (another patient account),
    # "practitioner", "staff" or "unknown".
    who_kind: str
    who: str
    profession: str  # practitioners only
    rpps: str  # practitioners only: the number recorded at the time
    action: str
    action_label: str
    # "none" (no document), "available", "deleted" (or gone), "not-yet" (hidden from the
    # patient until a date: its title is not shown before then).
    document_state: str
    document_uid: UUID | None
    document_title: str
    outcome: str
    outcome_label: str
    refused: bool
    mode: str
    mode_label: str
    emergency: bool
    # The software the practitioner acted through (issue 19, the FHIR API): its name, else
    # its client id; empty for the web pages. The page says « via <application> ».
    application: str = ""


def documents_of(patient: User, events: list[AuditEvent]) -> dict[UUID, Document]:
    """The page's documents of this record, in one query (titles decrypt with its data key)."""
    uids = {event.document_uid for event in events if event.document_uid is not None}
    if not uids:
        return {}
    documents = Document.objects.filter(uid__in=uids, patient=patient).select_related("data_key")
    return {document.uid: document for document in documents}


def helpers_among(patient: User, events: list[AuditEvent]) -> dict[Any, str]:
    """The role of each patient among these events' actors who represents or helps (or did)
    ``patient`` (issue 17), in two queries: their lines name them even when no tie was live,
    such as a former representative refused after the 18th birthday, rather than « another
    patient »."""
    actors = {e.actor_id for e in events if e.actor_role == UserKind.PATIENT and e.actor_id}
    actors -= {patient.pk}
    if not actors:
        return {}
    roles = dict.fromkeys(
        CaregiverGrant.objects.filter(
            patient=patient, caregiver_id__in=actors, accepted_at__isnull=False
        ).values_list("caregiver_id", flat=True),
        _("caregiver"),
    )
    representatives = LegalRepresentation.objects.filter(
        minor=patient, representative_id__in=actors
    ).values_list("representative_id", flat=True)
    roles.update(dict.fromkeys(representatives, _("legal representative")))
    return roles


def applications_among(events: list[AuditEvent]) -> dict[str, str]:
    """The names of the OAuth2 applications these events came through, by client id, in one
    query (none when no event came through the API)."""
    client_ids = {event.application for event in events if event.application}
    if not client_ids:
        return {}
    named = get_application_model().objects.filter(client_id__in=client_ids)
    return dict(named.values_list("client_id", "name"))


def row(
    event: AuditEvent,
    patient: User,
    documents: dict[UUID, Document],
    access: policy.RecordAccess,
    reader: User,
    ties: dict[Any, str],
    applications: dict[str, str] | None = None,
) -> HistoryRow:
    """``applications``: ``applications_among`` the page's events (an application since
    deleted, or without a name, is shown by its client id)."""
    who_kind, who, profession, rpps = _who(event, patient, reader, ties)
    document_state, title = _document(event.document_uid, documents, access)
    return HistoryRow(
        occurred_at=timezone.localtime(event.occurred_at, PARIS),
        who_kind=who_kind,
        who=who,
        profession=profession,
        rpps=rpps,
        action=event.action,
        action_label=_label(Action, event.action),
        document_state=document_state,
        document_uid=event.document_uid,
        document_title=title,
        outcome=event.outcome,
        outcome_label=_label(Outcome, event.outcome),
        refused=event.outcome == Outcome.REFUSED,
        mode=event.mode,
        mode_label=_label(Mode, event.mode),
        emergency=event.mode == Mode.EMERGENCY,
        application=(
            (applications or {}).get(event.application) or event.application
            if event.application
            else ""
        ),
    )


def _label(choices: type[Choices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _who(
    event: AuditEvent, patient: User, reader: User, ties: dict[Any, str]
) -> tuple[str, str, str, str]:
    """(kind, name, profession or role, RPPS) of the actor, from the role recorded at the time,
    for ``reader`` (the patient, or someone acting for them: then « you » is the reader)."""
    role = event.actor_role
    if role == UserKind.PATIENT:
        if event.actor_id == reader.pk:
            return "you", _("You"), "", ""
        if event.actor_id == patient.pk:
            return "owner", _("The patient"), "", ""
        # A legal representative or a caregiver (issue 17): the owner sees who, and as what.
        if event.mode in HELPER_MODES and event.actor is not None:
            helper = (
                _("legal representative") if event.mode == Mode.REPRESENTATIVE else _("caregiver")
            )
            return "helper", name_of(event.actor) or _("Another patient"), helper, ""
        if event.actor_id in ties and event.actor is not None:  # a tie ended, or not chosen
            return "helper", name_of(event.actor) or _("Another patient"), ties[event.actor_id], ""
        return "patient", _("Another patient"), "", ""
    if role == UserKind.PRACTITIONER:
        profile = None
        if event.actor is not None:
            try:
                profile = event.actor.practitioner_profile
            except ObjectDoesNotExist:
                profile = None
        if profile is None:
            return "practitioner", _("A health professional"), "", event.actor_rpps
        return (
            "practitioner",
            f"{profile.first_name} {profile.last_name}",
            str(profile.get_profession_display()),
            event.actor_rpps or profile.rpps,
        )
    if role == UserKind.STAFF:
        # Staff never read health data; the patient sees the service, not a person.
        return "staff", _("DMP service"), "", ""
    return "unknown", _("System or unidentified person"), "", ""


def _document(
    uid: UUID | None, documents: dict[UUID, Document], access: policy.RecordAccess
) -> tuple[str, str]:
    if uid is None:
        return "none", ""
    document = documents.get(uid)
    decision = access.decide(Action.VIEW, document) if document is not None else None
    if decision is not None and decision.reason == "hidden-from-patient-until":
        # As after an announcement consultation: not even its title before the date.
        return "not-yet", _("Document not available yet")
    if document is None or decision is None or not decision.allowed:
        return "deleted", _("Deleted document")
    title = document.title
    return "available", str(title) if is_destroyed(title) else title
