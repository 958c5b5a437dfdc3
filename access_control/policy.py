"""The one door to health data: who may do what with which patient's record, and why.

``decide`` holds every rule and writes nothing. ``access_to`` is the one entry per request: it
loads the reader's relationship to the record once (block, live consent, active emergency and
opt-out, treating physician, the profession's readable categories, the record's closure) into a
frozen ``RecordAccess``, which hands back the decision for an action on the record or one of its
documents (its file shown inside its page included), the list filter, and whether the
patient's identity may be shown, each through ``decide``. ``authorize`` decides and appends
the audit event in the caller's transaction, refusals included; every selector and service
touching a record calls it: reads, uploads, look-ups, access requests and emergency
declarations. ``record_refusal`` records a refusal that came before the door could be asked (a
failed second factor, a throttled look-up) or a refusal of ``decide`` asked before a change (the
purge's checks; ``purge_access`` is the purge's ``RecordAccess``). ``authorize_staff`` is the
same door for staff work on the registry, never on health content. Nothing else in the project
decides access, and every caller looks ``decide`` up here, at call time. The door's words
(``Actor``, ``Document``, ``Decision``, the action sets) are in ``access_control.decisions``;
``decide`` hands a practitioner's case to ``policy_practitioners`` and a patient's (their own
record, another's) to ``policy_patients``, each with its half of ``visible_documents``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from access_control.decisions import (
    ARCHIVE_PERIOD,
    DAILY_REVEAL,
    DAILY_TASK_ACTIONS,
    FOUR_EYES_CONFIRMATIONS,
    FOUR_EYES_OWN_PROPOSAL,
    INLINE_PREFIX,
    NOT_CLOSED,
    NOT_OWN_RECORD,
    NOT_SHOWN_INLINE,
    NOTHING,
    OPERATOR_ACTIONS,
    PRACTITIONER_ACTIONS,
    READ_ACTIONS,
    STAFF_REGISTRY_ACTIONS,
    Actor,
    CommandLineOperator,
    DailyTask,
    Decision,
    Document,
)
from access_control.models import Consent
from access_control.notifications import announce_first_access
from access_control.policy_patients import for_patient, visible_to_patient
from access_control.policy_practitioners import for_practitioner, visible_to_practitioner
from access_control.relationship import (
    Relationship,
    closure_for_purge,
    on_behalf_of,
    own_record_of,
    relationship_of,
)
from accounts.models import User, UserKind
from audit.models import Action, Mode, Outcome
from audit.trail import record_event


def decide(
    actor: Actor,
    patient: User | None,
    action: Action,
    document: Document | None = None,
    mode: Mode = Mode.NORMAL,
    *,
    relationship: Relationship | None = None,
    proposed_by: UUID | None = None,
    inline: bool = False,
    acting_for: bool = False,
) -> Decision:
    """Allowed or refused, with the reason recorded in the audit trail. Writes nothing.

    ``relationship`` is a practitioner's ``Relationship`` to this record when the caller already
    loaded it (``RecordAccess``); without it, it is loaded here. ``proposed_by`` is the id of
    the staff member who proposed the registry change that ``actor`` would confirm (four eyes).
    ``inline``: the read is the file of ``document`` fetched to be shown inside its page.
    ``acting_for``: a patient acting on another person's record through a page built for it
    (issue 17, item 3's switch); without it, another person's record is refused as before.
    """
    decision = _decide(
        actor, patient, action, document, mode, relationship, proposed_by, acting_for
    )
    if not inline or not decision.allowed:
        return decision
    if document is None or not document.viewable_inline:
        return Decision(False, NOT_SHOWN_INLINE, decision.mode)
    return Decision(True, (INLINE_PREFIX + decision.reason)[:64], decision.mode)


def _decide(
    actor: Actor,
    patient: User | None,
    action: Action,
    document: Document | None,
    mode: Mode,
    relationship: Relationship | None,
    proposed_by: UUID | None,
    acting_for: bool = False,
) -> Decision:
    if action == Action.EMERGENCY:
        mode = Mode.EMERGENCY  # a declaration is recorded in emergency mode, refused or not
    if isinstance(actor, CommandLineOperator | DailyTask):
        return _unattended(actor, patient, action, document, mode, relationship)
    if not isinstance(actor, User) or not actor.is_authenticated:  # None or AnonymousUser
        return Decision(False, "anonymous", mode)
    if patient is None and actor.kind != UserKind.STAFF:
        return Decision(False, "no-such-record", mode)
    if document is not None and (patient is None or document.patient_id != patient.pk):
        return Decision(False, "document-of-another-record", mode)
    # An earlier version (issue 16) is read as its current version is: whoever may read the
    # current one may read the versions it replaced, nobody else (a version withdrawn or held
    # back from the patient takes its earlier ones with it). Only the current one changes.
    if document is not None and document.status == "replaced":
        if action not in READ_ACTIONS:
            return Decision(False, "not-current", mode)
        document = document.current_version()
    if actor.kind == UserKind.STAFF:
        return _staff(actor, action, document, mode, proposed_by)
    if actor.kind == UserKind.PRACTITIONER:
        if relationship is None:
            relationship = relationship_of(actor, patient)
        return for_practitioner(actor, relationship, action, document, mode)
    if actor.kind != UserKind.PATIENT or patient is None:
        return Decision(False, NOT_OWN_RECORD, mode)
    return for_patient(actor, patient, action, document, mode, relationship, acting_for)


def _unattended(
    actor: CommandLineOperator | DailyTask,
    patient: User | None,
    action: Action,
    document: Document | None,
    mode: Mode,
    relationship: Relationship | None,
) -> Decision:
    """A command's operator or a daily task: no account, named in the reason. Each does only
    what it is there for (the operator: the letters' export and the purge; the daily purge: the
    purge), never on a document."""
    if isinstance(actor, CommandLineOperator):
        actions = OPERATOR_ACTIONS
    else:
        actions = DAILY_TASK_ACTIONS.get(actor, set())
    if document is not None or action not in actions:
        return Decision(False, actor.name[:64], mode)
    if action != Action.PURGE_RECORD:
        return Decision(True, actor.name[:64], mode)
    if patient is None:
        return Decision(False, f"no-such-record:{actor.name}"[:64], mode)
    relationship = relationship or closure_for_purge(patient, timezone.localdate())
    return _purge(actor.name, relationship, mode)


def _purge(name: str, relationship: Relationship, mode: Mode) -> Decision:
    """Archive and purge (issue 16, item 5): a closed record is destroyed only after its archive
    period, whatever asks (nothing forces an early purge). A refusal says why, then who asked:
    the trail then holds every attempt, ``--dry-run`` ones included."""
    if not relationship.closure:
        return Decision(False, f"{NOT_CLOSED}:{name}"[:64], mode)
    if not relationship.archive_over:
        return Decision(False, f"{ARCHIVE_PERIOD}:{name}"[:64], mode)
    return Decision(True, name[:64], mode)


def _staff(
    actor: User,
    action: Action,
    document: Document | None,
    mode: Mode,
    proposed_by: UUID | None = None,
) -> Decision:
    """Staff run the registry (identity, postal address, letters), never health content; a
    change to it takes two of them: its proposer never confirms it."""
    if action in FOUR_EYES_CONFIRMATIONS and proposed_by is not None and proposed_by == actor.pk:
        return Decision(False, FOUR_EYES_OWN_PROPOSAL, mode)
    if document is None and action in STAFF_REGISTRY_ACTIONS and actor.is_staff:
        return Decision(True, "staff-registry", mode)
    return Decision(False, "staff-never-read-health-data", mode)


def has_consent(patient: User, practitioner: User, now: datetime | None = None) -> bool:
    """A live consent (for tasks that must not send after a revocation or a block)."""
    return Consent.objects.live(now).filter(patient=patient, practitioner=practitioner).exists()


def visible_documents(
    actor: User, patient: User | None, *, relationship: Relationship | None = None
) -> Q:
    """The documents of ``patient`` that ``actor`` may see in a list: the rules of ``decide``
    as one query filter. Prefer ``RecordAccess.documents()``, which first asks ``decide``."""
    if actor.kind == UserKind.PATIENT:
        return visible_to_patient(actor, patient, relationship)
    if actor.kind != UserKind.PRACTITIONER or patient is None:
        return NOTHING
    return visible_to_practitioner(actor, patient, relationship or relationship_of(actor, patient))


@dataclass(frozen=True)
class RecordAccess:
    """One reader and one record, with the relationship loaded once for the whole request.

    Every answer comes from ``decide`` (looked up at call time), never from the facts alone.
    """

    actor: Actor
    patient: User | None
    # A practitioner's relationship; the patient's to their own record (its closure); the
    # purge's (``purge_access``); None for anyone else (nothing to load).
    relationship: Relationship | None
    # A patient acting on another person's record (``decide``'s ``acting_for``).
    acting_for: bool = False

    def decide(
        self,
        action: Action,
        document: Document | None = None,
        mode: Mode = Mode.NORMAL,
        *,
        inline: bool = False,
    ) -> Decision:
        return decide(
            self.actor,
            self.patient,
            action,
            document,
            mode,
            relationship=self.relationship,
            inline=inline,
            acting_for=self.acting_for,
        )

    def documents(self) -> Q:
        """The list filter (a Q for ``Document``): nothing unless the door allows the list."""
        # Only a signed-in user is ever allowed the list; the type checker needs it said.
        if not self.decide(Action.LIST).allowed or not isinstance(self.actor, User):
            return NOTHING
        return visible_documents(self.actor, self.patient, relationship=self.relationship)

    def may_show_identity(self) -> bool:
        """The patient's identity heads the record for whoever may list it."""
        return self.decide(Action.LIST).allowed


def access_to(
    actor: Actor, patient: User | None, now: datetime | None = None, *, acting_for: bool = False
) -> RecordAccess:
    """The one entry per request: a practitioner's relationship loaded once (even when
    ``patient`` is None, so that a missing record costs the same); a patient's own record's
    closure; another patient's ties to the record (issue 17: a representation, a caregiver
    grant) and its closure, when ``acting_for`` (see ``decide``); others need no query."""
    relationship = None
    if isinstance(actor, User) and actor.is_authenticated and actor.kind == UserKind.PRACTITIONER:
        relationship = relationship_of(actor, patient, now)
    elif isinstance(actor, User) and patient is not None and actor.pk == patient.pk:
        relationship = own_record_of(actor)
    elif (
        isinstance(actor, User)
        and actor.is_authenticated
        and actor.kind == UserKind.PATIENT
        and patient is not None
        and acting_for
    ):  # another person's record: a representation, a caregiver grant (issue 17)
        relationship = on_behalf_of(actor, patient, now)
    return RecordAccess(actor, patient, relationship, acting_for)


def purge_access(actor: Actor, patient: User | None, today: date) -> RecordAccess:
    """The purge's access to a record (issue 16, item 5), on the day ``today``: its closure and
    whether its archive period ended before that day, loaded once for ``decide`` (the checks
    before the purge) and ``authorize`` (the purge itself)."""
    relationship = closure_for_purge(patient, today) if patient is not None else None
    return RecordAccess(actor, patient, relationship)


def _require_transaction(name: str) -> None:
    # Not an assert: ``python -O`` would remove it, and the event must commit with the data.
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(f"{name}() needs a transaction")


def authorize(
    actor: Actor,
    patient: User | None,
    action: Action,
    *,
    document: Document | None = None,
    mode: Mode = Mode.NORMAL,
    client_address: str = "",
    access: RecordAccess | None = None,
    inline: bool = False,
    acting_for: bool = False,
    application: str = "",
) -> Decision:
    """Decide and record. Call it inside the transaction that reads or writes the data, and
    raise (to a 404) only after that transaction has committed, so refusals stay recorded.
    ``access`` is this request's ``RecordAccess`` for the same actor and patient, if any;
    ``inline``, ``acting_for``: see ``decide``. ``application``: the client id of the OAuth2
    application the call came through (issue 19, the FHIR API), named by the event; the rules
    are the web pages' own. The decision returned carries the id of its event."""
    _require_transaction("authorize")
    if access is None:
        access = access_to(actor, patient, acting_for=acting_for)
    elif access.actor != actor or access.patient != patient or access.acting_for != acting_for:
        raise ValueError("authorize() was given the access of another reader or record")
    decision = access.decide(action, document, mode, inline=inline)
    if (
        decision.allowed
        and action in PRACTITIONER_ACTIONS
        and isinstance(actor, User)
        and actor.kind == UserKind.PRACTITIONER
        and decision.mode == Mode.NORMAL
        and patient is not None  # always, when allowed: the type checker needs it said
    ):
        announce_first_access(actor, patient)
    return _record(actor, patient, action, decision, document, client_address, application)


def record_refusal(
    actor: Actor,
    patient: User | None,
    action: Action,
    reason: str,
    *,
    mode: Mode = Mode.NORMAL,
    client_address: str = "",
    document: Document | None = None,
    application: str = "",
) -> Decision:
    """Record a refusal that came before ``decide`` could be asked (a wrong second factor, a
    throttled look-up), or one of ``decide`` asked on its own before a change (the purge checks
    a record before its first step, and a check that passes records nothing), or a rule on a
    fact the door does not load (a minor's record, issue 17 item 4: ``document`` is the one
    refused): the trail holds every attempt, in the caller's transaction."""
    _require_transaction("record_refusal")
    decision = Decision(False, reason, mode)
    return _record(actor, patient, action, decision, document, client_address, application)


def record_delay_reveal(patient: User, document: Document) -> Decision:
    """A document held back for an announcement, revealed by the daily task once its delay is
    over (issue 16, ``RECORDS_ANNOUNCEMENT_DAYS``): nobody knocks, the rule is the delay itself;
    recorded on the patient's chain in the caller's transaction, in no one's name."""
    _require_transaction("record_delay_reveal")
    decision = Decision(True, "announcement-delay-over")
    return _record(DAILY_REVEAL, patient, Action.REVEAL, decision, document, "")


def _signed_in(actor: Actor) -> User | None:
    """The account the trail names: none for an anonymous visitor, a command's operator or a
    daily task (the event's reason names them). A ``User`` is always authenticated."""
    return actor if isinstance(actor, User) else None


def _record(
    actor: Actor,
    patient: User | None,
    action: Action,
    decision: Decision,
    document: Document | None,
    client_address: str,
    application: str = "",
) -> Decision:
    event = record_event(
        actor=_signed_in(actor),
        patient=patient,
        action=action,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.REFUSED,
        mode=decision.mode,
        document_uid=getattr(document, "uid", None),
        reason=decision.reason,
        client_address=client_address,
        application=application,
    )
    return dataclasses.replace(decision, event_id=event.pk)


def authorize_staff(
    staff: Actor,
    action: Action,
    *,
    patient: User | None = None,
    registry_id: int | None = None,
    proposed_by: UUID | None = None,
    client_address: str = "",
) -> Decision:
    """The door for staff work on the registry: decide and record on the person's chain (their
    record's chain when they have one, else their registry chain). Same transaction rule as
    ``authorize``. ``proposed_by``: the proposer's id, when confirming or rejecting a change."""
    _require_transaction("authorize_staff")
    decision = decide(staff, patient, action, proposed_by=proposed_by)
    record_event(
        actor=_signed_in(staff),
        patient=patient,
        registry_id=None if patient is not None else registry_id,
        action=action,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.REFUSED,
        reason=decision.reason,
        client_address=client_address,
    )
    return decision
