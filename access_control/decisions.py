"""The words of the door: what it is asked about and what it answers.

Who knocks (``Actor``), what it reads of a document (``Document``), its answer (``Decision``),
the sets of actions each kind of user may take, and the reasons other modules compare with.
The rules themselves, and every call to them, are in ``access_control.policy``; these types sit
beside it on the door's floor so that the rules fit in one file a newcomer can read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias
from uuid import UUID

from django.db.models import Q

from accounts.models import User
from audit.models import Action, Mode

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class Document(Protocol):
    """What the door reads of a document (``records.models.Document`` has all of it).

    The door sits below the records app (letters and the registry use it and must not know health
    records), so it names the facts it decides on instead of importing the model.
    """

    uid: UUID
    patient_id: UUID
    author_id: UUID
    category_id: int
    status: str
    hidden_from_practitioners: bool
    hidden_by_author: bool
    confidential_from_representatives: bool  # issue 17, item 4

    @property
    def hidden_from_others(self) -> bool: ...

    def current_version(self) -> Document: ...

    @property
    def viewable_inline(self) -> bool: ...

    @property
    def authored_by_patient(self) -> bool: ...

    def hidden_from_patient(self, now: datetime | None = None) -> bool: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    mode: Mode = Mode.NORMAL
    # The audit event that recorded it (``authorize``, ``record_refusal``); None from ``decide``.
    event_id: int | None = dataclasses.field(default=None, compare=False)


READ_ACTIONS = {Action.LIST, Action.VIEW, Action.DOWNLOAD}
OWNER_ACTIONS = READ_ACTIONS | {
    Action.UPLOAD,
    Action.HIDE,
    Action.SHOW,
    Action.DELETE,
    Action.VIEW_HISTORY,
    Action.GRANT,
    Action.REVOKE,
    Action.BLOCK,
    Action.UNBLOCK,
    Action.EXPORT,  # a copy of the whole record (records/export/), the patient's own only
    Action.REPLACE,  # a document the patient added (the door checks the author)
    Action.VIEW_CONSENTS,  # who may read it (/access/): recorded for a helper only (issue 17)
}
PRACTITIONER_ACTIONS = READ_ACTIONS | {Action.UPLOAD}
# What the author of a document may do to it (issue 16), a practitioner within consent only:
# a new version, held back from the patient until an announcement and revealed, withdrawn,
# hidden from other practitioners and shown again.
AUTHOR_ACTIONS = {
    Action.REPLACE,
    Action.HOLD,
    Action.REVEAL,
    Action.WITHDRAW,
    Action.HIDE,
    Action.SHOW,
    # Issue 17, item 4: kept confidential from a minor's legal representatives, and lifted.
    Action.HIDE_FROM_REPRESENTATIVES,
    Action.SHOW_TO_REPRESENTATIVES,
}
# What a practitioner may do about a record without any access to it: find it (the page then
# says nothing more), ask for access, declare an emergency.
APPROACH_ACTIONS = {Action.LOOKUP, Action.REQUEST_ACCESS, Action.EMERGENCY}
# What staff may do, about a person of the registry (or the review of an emergency on their
# record) only: never a document.
STAFF_REGISTRY_ACTIONS = {
    Action.LOOKUP,
    Action.VIEW_IDENTITY,
    Action.PROPOSE_CHANGE,
    Action.CONFIRM_CHANGE,
    Action.EXPORT_LETTER,
    Action.MARK_RETURNED,
    Action.REVIEW_EMERGENCY,
    # A person's opposition to the creation of their record, on their signed request: one staff
    # member, no four eyes (it sends no code anywhere: enrollment.services.opposition says why).
    Action.SET_OPPOSITION,
    Action.LIFT_OPPOSITION,
    # A death: one staff member proposes it, a second confirms (which closes the record).
    Action.PROPOSE_DEATH,
    Action.CONFIRM_DEATH,
}


class StaffRefused(Exception):
    """The door refused a staff member's work (the refusal is recorded; answer 404): the
    registry's, an opposition's or a death's services raise this one error."""


@dataclass(frozen=True)
class CommandLineOperator:
    """Whoever runs a management command on the server, named by their operating-system
    account. No portal account stands behind them, but they already hold the keys: the door
    lets them do the registry's work (export the letters, an opposition from the registry's
    import) and purge a record whose archive period ended, nothing else (``OPERATOR_ACTIONS``),
    and the event names them in its reason."""

    os_user: str
    is_authenticated = False
    kind = "operator"

    @property
    def name(self) -> str:
        """How the trail names them (the event's reason), there being no account."""
        return f"command-line:{self.os_user}"


@dataclass(frozen=True)
class DailyTask:
    """A task of the Celery beat, run by no one: named to the door by what it does, as the
    event's reason (there is no account either). The door lets each one do what it is
    scheduled for (``DAILY_TASK_ACTIONS``), on the facts of the record, and nothing else."""

    name: str
    is_authenticated = False
    kind = "task"


# The daily purge of the records whose archive period ended (issue 16, item 5), and the daily
# reveal of the documents whose announcement delay is over (recorded by
# ``policy.record_delay_reveal``: the delay itself is the rule, nobody is asked).
DAILY_PURGE = DailyTask("daily-purge")
DAILY_REVEAL = DailyTask("daily-reveal")

# Whoever knocks at the door: a signed-in user, an anonymous visitor or no one at all (both
# refused), the operator of a management command, or a daily task.
Actor: TypeAlias = "User | AnonymousUser | CommandLineOperator | DailyTask | None"

# The links between a minor and their legal representatives in the registry (issue 17): made
# and undone by the registry's import only, on the child's chain (their record's when it exists,
# so the history of a child's record offers them).
REPRESENTATIVE_LINK_ACTIONS = frozenset({Action.LINK_REPRESENTATIVE, Action.UNLINK_REPRESENTATIVE})
# The operator exports the letters (the registry's postal work), purges a record whose
# archive period ended (``PURGE_RECORD``, decided on the record's closure), and sets or lifts an
# opposition: the registry import's ``opposition`` column (``manage.py import_beneficiaries``),
# the national file's word on a person without a record.
OPERATOR_ACTIONS = {
    Action.EXPORT_LETTER,
    Action.PURGE_RECORD,
    Action.SET_OPPOSITION,
    Action.LIFT_OPPOSITION,
    # Issue 17: the import's ``representative_nirs`` column, the national file's word on who
    # legally represents a minor (enrollment.services.representatives).
    *REPRESENTATIVE_LINK_ACTIONS,
}
DAILY_TASK_ACTIONS: dict[DailyTask, set[Action]] = {DAILY_PURGE: {Action.PURGE_RECORD}}
# --- Archive and purge (issue 16, item 5): a record is purged only once closed and past its
# archive period (``RecordClosure.archive_until`` before the day of the purge); nothing forces
# an early purge. The refusal's reason says why, then who asked (``<why>:<name>``).
ARCHIVE_PERIOD = "within-archive-period"
# --- Closure (issue 16, item 4). A closed record (``RecordClosure``) refuses every practitioner
# (``RECORD_CLOSED``), and its patient keeps only what lets them take their data away and come
# back: reading (documents, history), the export, and reopening. Closing and reopening are
# the patient's own acts, decided on the record's state (``Relationship.closure``).
RECORD_CLOSED = "record-closed"
ALREADY_CLOSED = "already-closed"
NOT_CLOSED = "not-closed"
CLOSED_BY_DEATH = "closed-by-death"
CLOSURE_ACTIONS = {Action.CLOSE_RECORD, Action.REOPEN_RECORD}
OWNER_ACTIONS_WHILE_CLOSED = READ_ACTIONS | {Action.VIEW_HISTORY, Action.EXPORT}
FOUR_EYES_OWN_PROPOSAL = "four-eyes-own-proposal"
# The confirmations its proposer may never give: a registry change, a death.
FOUR_EYES_CONFIRMATIONS = {Action.CONFIRM_CHANGE, Action.CONFIRM_DEATH}
# The file of a document fetched for the viewer of its page (``inline``): refused for a type
# that is not shown inline; allowed, recorded with this prefix before the reason of the read,
# so that the history shows the page's view once (the fetch is part of it).
NOT_SHOWN_INLINE = "not-shown-inline"
INLINE_PREFIX = "inline:"
# --- Acting for someone (issue 17): a patient acting on another person's record, through a
# live legal representation or a live accepted caregiver grant (``Relationship``), recorded in
# the mode of the tie, the actor being that person and the patient the record's owner.
# A representative does what the owner may, except closing or reopening the record: the
# record is kept for the minor, who takes it over at 18 with everything in it (item 5).
# Inviting caregivers is the owner's own (``INVITATION_ACTIONS``), and so is the account's
# security (no door action: the account pages act only on the signed-in person's account).
REPRESENTATIVE_ACTIONS = OWNER_ACTIONS
# Inviting a caregiver and ending their access: the owner's alone, on an open record.
INVITATION_ACTIONS = {Action.INVITE_CAREGIVER, Action.END_CAREGIVER}
# A caregiver reads the documents; with ``manage``, also grants and revokes consents and adds
# documents. Never the export, the closure, blocks, hiding, deleting or replacing.
# And the history: ``access_control.history`` shows a helper no line about a document outside
# their list filter (``helper_events``: what ``visible_documents`` leaves out, no hint of it)
# nor the patient's account, and words its rows for them.
CAREGIVER_READ_ACTIONS = READ_ACTIONS | {Action.VIEW_HISTORY}
CAREGIVER_MANAGE_ACTIONS = CAREGIVER_READ_ACTIONS | {
    Action.GRANT,
    Action.REVOKE,
    Action.UPLOAD,
    Action.VIEW_CONSENTS,  # the consents page they manage
}
# The invited person's answer to a pending invitation (accepting opens the record): decided
# by the door in caregiver mode, only with a pending invitation of the pair, on an open record.
ANSWER_ACTIONS = {Action.ACCEPT_CAREGIVER, Action.DECLINE_CAREGIVER}
INVITED = "invited"
NOT_OWN_RECORD = "not-own-record"
OWNER_ONLY = "owner-only"
OUTSIDE_CAREGIVER_SCOPE = "outside-caregiver-scope"
HIDDEN_FROM_CAREGIVER = "hidden-from-caregiver"
# --- Confidential care of a minor (issue 17, item 4; public health code art. L1111-5): a
# document its practitioner author keeps from the minor's legal representatives
# (``Document.confidential_from_representatives``) is refused to a representative for every
# action, as a document hidden from practitioners is refused to a practitioner (a 404 on the
# pages), and left out of their lists; a caregiver too (the law names the holders of parental
# authority; a minor's caregiver is unlikely, and refusing is the safe side). The record's owner,
# the minor, always sees it, before and after coming of age. Marking and lifting it are two of
# its author's controls (``AUTHOR_ACTIONS``); marking asks a minor's record (checked on the
# registry's birth date by access_control.confidential, which records the refusal).
HIDDEN_FROM_REPRESENTATIVES = "hidden-from-representatives"
NOT_A_MINOR = "not-a-minor"
# --- The list filters' words (``policy.visible_documents``, a query filter on ``Document``),
# here so that the practitioners' and the patients' rules (``policy_practitioners``,
# ``policy_patients``) and the door share them without importing each other.
NOTHING = Q(pk__in=[])
# Hidden neither by the patient nor by its author (``Document.hidden_from_others``).
NOT_HIDDEN = Q(hidden_from_practitioners=False, hidden_by_author=False)
# Not kept from the minor's legal representatives (issue 17, item 4): a representative's and a
# caregiver's lists leave the others out, as ``policy_patients._on_behalf`` refuses them.
NOT_CONFIDENTIAL = Q(confidential_from_representatives=False)
