"""The door's rules for a patient: on their own record (what the owner may do, closing and
reopening it, inviting caregivers) and on another person's (issue 17: a legal representative, a
caregiver, the person invited), and the list filter that says the same as one query.

Kept apart from ``access_control.policy`` so that the door fits in files a newcomer can read in
one sitting; the two live together because a representative does what the owner may
(``_on_behalf`` asks ``_on_own_record``). Nothing here is called from outside the door: every
caller asks ``policy.decide``, ``policy.authorize`` or ``policy.visible_documents``, which hand
a patient's case to ``for_patient`` and ``visible_to_patient``. Rules only:
nothing here writes.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from access_control.decisions import (
    ALREADY_CLOSED,
    ANSWER_ACTIONS,
    CAREGIVER_MANAGE_ACTIONS,
    CAREGIVER_READ_ACTIONS,
    CLOSED_BY_DEATH,
    CLOSURE_ACTIONS,
    HIDDEN_FROM_CAREGIVER,
    HIDDEN_FROM_REPRESENTATIVES,
    INVITATION_ACTIONS,
    INVITED,
    NOT_CLOSED,
    NOT_CONFIDENTIAL,
    NOT_HIDDEN,
    NOT_OWN_RECORD,
    NOTHING,
    OUTSIDE_CAREGIVER_SCOPE,
    OWNER_ACTIONS,
    OWNER_ACTIONS_WHILE_CLOSED,
    OWNER_ONLY,
    RECORD_CLOSED,
    REPRESENTATIVE_ACTIONS,
    Decision,
    Document,
)
from access_control.models import CaregiverScope, ClosureReason
from access_control.relationship import Relationship, on_behalf_of, own_record_of
from accounts.models import User
from audit.models import Action, Mode


def for_patient(
    actor: User,
    patient: User,
    action: Action,
    document: Document | None,
    mode: Mode,
    relationship: Relationship | None,
    acting_for: bool,
) -> Decision:
    """A patient on a record: their own, or another person's through a tie (issue 17), only
    ``acting_for`` (``policy.decide``) or to answer an invitation. ``relationship``: the
    reader's ties to that record, when the caller already loaded them."""
    if actor.pk != patient.pk and not acting_for and action not in ANSWER_ACTIONS:
        # The pages addressed by a document's uid take the patient from the document and are
        # made for its owner (their controls, « mon dossier »): a tie opens another person's
        # record only through the pages that ask for it (item 3's switch), never those.
        return Decision(False, NOT_OWN_RECORD, mode)
    if actor.pk != patient.pk:  # another person's record: only through a tie (issue 17)
        relationship = relationship or on_behalf_of(actor, patient)
        return _on_behalf(relationship, action, document, mode)
    closure = (relationship or own_record_of(actor)).closure
    return _on_own_record(action, document, mode, closure)


def _on_own_record(
    action: Action, document: Document | None, mode: Mode, closure: str = ""
) -> Decision:
    if action in CLOSURE_ACTIONS:
        return _closure_step(action, closure, mode)
    if action in INVITATION_ACTIONS:  # caregivers (issue 17): never on a closed record
        return Decision(not closure, RECORD_CLOSED if closure else "own-record", mode)
    if action not in OWNER_ACTIONS:
        return Decision(False, "action-not-allowed", mode)
    # A closed record: the patient may still read it, see its history and take it away (the
    # export); nothing else, until they reopen it.
    if closure and action not in OWNER_ACTIONS_WHILE_CLOSED:
        return Decision(False, RECORD_CLOSED, mode)
    if document is None:
        return Decision(True, "own-record", mode)
    if document.status == "deleted":
        return Decision(False, "deleted", mode)
    # Not yet announced: the patient may neither read it nor act on it (no hint it exists).
    if document.hidden_from_patient(timezone.now()):
        return Decision(False, "hidden-from-patient-until", mode)
    # Deleting a document or replacing it with a new version: only one the patient added.
    if action in (Action.DELETE, Action.REPLACE) and not document.authored_by_patient:
        return Decision(False, "not-author", mode)
    return Decision(True, "own-record", mode)


def _on_behalf(
    relationship: Relationship, action: Action, document: Document | None, mode: Mode
) -> Decision:
    """A patient acting on another person's record (issue 17): a live legal representation
    does what the owner may but close or reopen it or invite caregivers; a live accepted
    caregiver grant reads (``read``), and also manages consents and adds documents
    (``manage``), never a document hidden from practitioners or held back from the owner. A
    representation wins over a grant (it allows more). A closed record refuses both (its
    closure also ends them). The invited person answers a pending invitation, in caregiver
    mode, on an open record. No tie: the same refusal as before issue 17."""
    if action in ANSWER_ACTIONS:
        if not relationship.invited:
            return Decision(False, NOT_OWN_RECORD, mode)
        if relationship.closure:
            return Decision(False, RECORD_CLOSED, Mode.CAREGIVER)
        return Decision(True, INVITED, Mode.CAREGIVER)
    if relationship.represents:
        mode = Mode.REPRESENTATIVE
        if relationship.closure:
            return Decision(False, RECORD_CLOSED, mode)
        if action in CLOSURE_ACTIONS | INVITATION_ACTIONS:
            return Decision(False, OWNER_ONLY, mode)
        if action not in REPRESENTATIVE_ACTIONS:
            return Decision(False, "action-not-allowed", mode)
        # Confidential care of the minor (item 4, art. L1111-5): refused whatever the action,
        # as a hidden document to a practitioner (``visible_documents`` leaves it out).
        if document is not None and document.confidential_from_representatives:
            return Decision(False, HIDDEN_FROM_REPRESENTATIVES, mode)
        owner = _on_own_record(action, document, mode)
        reason = "representative" if owner.allowed else owner.reason
        return Decision(owner.allowed, reason, mode)
    if not relationship.caregiver_scope:
        return Decision(False, NOT_OWN_RECORD, mode)
    mode = Mode.CAREGIVER
    if relationship.closure:
        return Decision(False, RECORD_CLOSED, mode)
    manage = relationship.caregiver_scope == CaregiverScope.MANAGE
    if action not in (CAREGIVER_MANAGE_ACTIONS if manage else CAREGIVER_READ_ACTIONS):
        return Decision(False, OUTSIDE_CAREGIVER_SCOPE, mode)
    if document is None:
        return Decision(True, "caregiver", mode)
    if document.status in ("deleted", "replaced"):
        return Decision(False, "not-current", mode)
    # Hidden from practitioners (by the patient or its author) or held back from the patient:
    # the caregiver never sees it, nor any hint of it (``visible_documents`` leaves it out).
    # Kept from the minor's representatives (item 4): from a caregiver too, the safe side.
    if (
        document.hidden_from_others
        or document.hidden_from_patient(timezone.now())
        or document.confidential_from_representatives
    ):
        return Decision(False, HIDDEN_FROM_CAREGIVER, mode)
    return Decision(True, "caregiver", mode)


def _closure_step(action: Action, closure: str, mode: Mode) -> Decision:
    """Closing an open record, reopening one the patient closed. A record closed by a recorded
    death is never reopened (its account cannot log in anyway)."""
    if action == Action.CLOSE_RECORD:
        return Decision(not closure, ALREADY_CLOSED if closure else "own-record", mode)
    if not closure:
        return Decision(False, NOT_CLOSED, mode)
    if closure == ClosureReason.DEATH:
        return Decision(False, CLOSED_BY_DEATH, mode)
    return Decision(True, "own-record", mode)


def visible_to_patient(actor: User, patient: User | None, relationship: Relationship | None) -> Q:
    """The documents of ``patient`` a patient may see in a list: their own, once announced;
    another person's as ``_on_behalf`` decides (issue 17). ``relationship``: the reader's ties to
    that record, when the caller already loaded them."""
    now = timezone.now()
    shown = Q(patient=patient) & (
        Q(hidden_from_patient_until__isnull=True) | Q(hidden_from_patient_until__lte=now)
    )
    if patient is None or actor.pk == patient.pk:
        return shown
    relationship = relationship or on_behalf_of(actor, patient)
    if relationship.closure:
        return NOTHING
    if relationship.represents:
        return shown & NOT_CONFIDENTIAL
    return shown & NOT_HIDDEN & NOT_CONFIDENTIAL if relationship.caregiver_scope else NOTHING
