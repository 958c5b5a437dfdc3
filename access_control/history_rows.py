"""How the access history words one audit event (``HistoryRow``): who acted (named for the
record's owner or someone acting for them), what, on which document (named only when the door
would let the reader view it: ``access_control.history`` decided the read), with what outcome.
Apart from ``history`` (which reads and filters the events) so that each reads in one sitting.

Issue 20 (cheap pages): an event comes as the plain values of ``EVENT_COLUMNS`` (no model
instance, no actor, user or registry row loaded for every line); the names of the page's
helpers are read in one query (``helper_names``), each document is decided once per page, and
the labels are translated once per page and value (``Wording``), not once per line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Choices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from oauth2_provider.models import get_application_model

from access_control import policy
from access_control.acting import name_of
from access_control.models import CaregiverGrant, LegalRepresentation
from accounts.models import Profession, User, UserKind
from audit.models import Action, Mode, Outcome
from dmp_portal.crypto.fields import is_destroyed
from records.models import Document

PARIS = ZoneInfo("Europe/Paris")
# A legal representative's or a caregiver's actions are named, with their role (issue 17).
HELPER_MODES = {Mode.REPRESENTATIVE: "representative", Mode.CAREGIVER: "caregiver"}
# What a line shows of an event, and of its actor's practitioner profile (a LEFT JOIN: empty
# for every other actor), read with ``values()``: the page's rows are plain dicts.
PROFILE = "actor__practitioner_profile__"
EVENT_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_rpps",
    "document_uid",
    "action",
    "outcome",
    "mode",
    "application",
    PROFILE + "id",
    PROFILE + "first_name",
    PROFILE + "last_name",
    PROFILE + "profession",
    PROFILE + "rpps",
)
# An event as ``values(*EVENT_COLUMNS)`` gives it.
Event = Mapping[str, Any]


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


def documents_of(patient: User, events: list[Event]) -> dict[UUID, Document]:
    """The page's documents of this record, in one query (titles decrypt with its data key)."""
    uids = {event["document_uid"] for event in events if event["document_uid"] is not None}
    if not uids:
        return {}
    documents = Document.objects.filter(uid__in=uids, patient=patient).select_related("data_key")
    return {document.uid: document for document in documents}


def helpers_among(patient: User, events: list[Event]) -> dict[Any, str]:
    """The role of each patient among these events' actors who represents or helps (or did)
    ``patient`` (issue 17), in two queries: their lines name them even when no tie was live,
    such as a former representative refused after the 18th birthday, rather than « another
    patient »."""
    actors = {
        e["actor_id"] for e in events if e["actor_role"] == UserKind.PATIENT and e["actor_id"]
    }
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


def helper_names(
    patient: User, reader: User, events: list[Event], ties: dict[Any, str]
) -> dict[Any, str]:
    """The registry names of the patients among these events' actors whom a line names (a
    legal representative or a caregiver: ``_who``), in one query, none when there are none;
    the other actors' names are never read."""
    named = {
        e["actor_id"]
        for e in events
        if e["actor_role"] == UserKind.PATIENT
        and e["actor_id"] not in (None, reader.pk, patient.pk)
        and (e["mode"] in HELPER_MODES or e["actor_id"] in ties)
    }
    if not named:
        return {}
    people = User.objects.filter(pk__in=named).select_related("beneficiary__data_key")
    return {person.pk: name_of(person) for person in people}


def applications_among(events: list[Event]) -> dict[str, str]:
    """The names of the OAuth2 applications these events came through, by client id, in one
    query (none when no event came through the API)."""
    client_ids = {event["application"] for event in events if event["application"]}
    if not client_ids:
        return {}
    named = get_application_model().objects.filter(client_id__in=client_ids)
    return dict(named.values_list("client_id", "name"))


class Wording:
    """The words of one page, translated once each in the request's language: a label per
    value met, the fixed names of the actors, and what a line says of each document, decided
    once per document (``access.decide``, without a query) rather than once per line."""

    def __init__(self, documents: dict[UUID, Document], access: policy.RecordAccess) -> None:
        self.documents = documents
        self.access = access
        self._labels: dict[tuple[type[Choices], str], str] = {}
        self._documents: dict[UUID | None, tuple[str, str]] = {None: ("none", "")}
        self._words: dict[str, str] = {}

    def label(self, choices: type[Choices], value: str) -> str:
        key = (choices, value)
        if key not in self._labels:
            self._labels[key] = _label(choices, value)
        return self._labels[key]

    def word(self, text: str) -> str:
        """``text`` (an English source string, marked where it is written) translated."""
        if text not in self._words:
            self._words[text] = _(text)
        return self._words[text]

    def document(self, uid: UUID | None) -> tuple[str, str]:
        if uid not in self._documents:
            self._documents[uid] = _document(uid, self.documents, self.access)
        return self._documents[uid]


def row(
    event: Event,
    patient: User,
    wording: Wording,
    reader: User,
    ties: dict[Any, str],
    names: dict[Any, str],
    applications: dict[str, str] | None = None,
) -> HistoryRow:
    """``event``: its ``EVENT_COLUMNS``. ``names``: ``helper_names`` of the page.
    ``applications``: ``applications_among`` the page's events (an application since deleted,
    or without a name, is shown by its client id)."""
    who_kind, who, profession, rpps = _who(event, patient, reader, ties, names, wording)
    document_state, title = wording.document(event["document_uid"])
    application = event["application"]
    return HistoryRow(
        occurred_at=timezone.localtime(event["occurred_at"], PARIS),
        who_kind=who_kind,
        who=who,
        profession=profession,
        rpps=rpps,
        action=event["action"],
        action_label=wording.label(Action, event["action"]),
        document_state=document_state,
        document_uid=event["document_uid"],
        document_title=title,
        outcome=event["outcome"],
        outcome_label=wording.label(Outcome, event["outcome"]),
        refused=event["outcome"] == Outcome.REFUSED,
        mode=event["mode"],
        mode_label=wording.label(Mode, event["mode"]),
        emergency=event["mode"] == Mode.EMERGENCY,
        application=((applications or {}).get(application) or application if application else ""),
    )


def _label(choices: type[Choices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# The fixed names a line may give, marked for translation here and translated once per page
# (``Wording.word``).
YOU, THE_PATIENT, ANOTHER_PATIENT = (
    gettext_noop("You"),
    gettext_noop("The patient"),
    gettext_noop("Another patient"),
)
LEGAL_REPRESENTATIVE, CAREGIVER = gettext_noop("legal representative"), gettext_noop("caregiver")
A_PRACTITIONER = gettext_noop("A health professional")
DMP_SERVICE = gettext_noop("DMP service")
UNKNOWN = gettext_noop("System or unidentified person")


def _who(
    event: Event,
    patient: User,
    reader: User,
    ties: dict[Any, str],
    names: dict[Any, str],
    wording: Wording,
) -> tuple[str, str, str, str]:
    """(kind, name, profession or role, RPPS) of the actor, from the role recorded at the time,
    for ``reader`` (the patient, or someone acting for them: then « you » is the reader)."""
    role, actor_id = event["actor_role"], event["actor_id"]
    if role == UserKind.PATIENT:
        if actor_id == reader.pk:
            return "you", wording.word(YOU), "", ""
        if actor_id == patient.pk:
            return "owner", wording.word(THE_PATIENT), "", ""
        # A legal representative or a caregiver (issue 17): the owner sees who, and as what.
        if event["mode"] in HELPER_MODES and actor_id in names:
            helper = wording.word(
                LEGAL_REPRESENTATIVE if event["mode"] == Mode.REPRESENTATIVE else CAREGIVER
            )
            return "helper", names[actor_id] or wording.word(ANOTHER_PATIENT), helper, ""
        if actor_id in ties and actor_id in names:  # a tie ended, or not chosen
            return "helper", names[actor_id] or wording.word(ANOTHER_PATIENT), ties[actor_id], ""
        return "patient", wording.word(ANOTHER_PATIENT), "", ""
    if role == UserKind.PRACTITIONER:
        if event[PROFILE + "id"] is None:
            return "practitioner", wording.word(A_PRACTITIONER), "", event["actor_rpps"]
        return (
            "practitioner",
            f"{event[PROFILE + 'first_name']} {event[PROFILE + 'last_name']}",
            wording.label(Profession, event[PROFILE + "profession"]),
            event["actor_rpps"] or event[PROFILE + "rpps"],
        )
    if role == UserKind.STAFF:
        # Staff never read health data; the patient sees the service, not a person.
        return "staff", wording.word(DMP_SERVICE), "", ""
    return "unknown", wording.word(UNKNOWN), "", ""


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
