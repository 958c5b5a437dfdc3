"""The door's rules for a practitioner: the approach (look-up, access request, emergency
declaration), reading within consent or in an emergency, the author's controls, and the list
filter that says the same as one query.

Kept apart from ``access_control.policy`` so that the door fits in files a newcomer can read in
one sitting; nothing here is called from outside the door: every caller asks ``policy.decide``,
``policy.authorize`` or ``policy.visible_documents``, which hand a practitioner's case to
``for_practitioner`` and ``visible_to_practitioner``. Rules only: nothing here writes.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from access_control.decisions import (
    APPROACH_ACTIONS,
    AUTHOR_ACTIONS,
    NOT_HIDDEN,
    NOTHING,
    PRACTITIONER_ACTIONS,
    READ_ACTIONS,
    RECORD_CLOSED,
    Decision,
    Document,
)
from access_control.relationship import Relationship
from accounts.models import User
from audit.models import Action, Mode


def for_practitioner(
    actor: User, relationship: Relationship, action: Action, document: Document | None, mode: Mode
) -> Decision:
    if relationship.closure:
        return _closed_to_practitioner(action, mode)
    if action in APPROACH_ACTIONS:
        return _approach(relationship, action, mode)
    # Loaded on every request, so a revocation or a block applies to the very next one.
    if relationship.blocked:
        return Decision(False, "blocked-by-patient", mode)
    if relationship.consent:
        return _within_consent(actor, relationship, action, document)
    if relationship.emergency:
        if relationship.opted_out:
            return Decision(False, "emergency-opted-out", Mode.EMERGENCY)
        return _within_emergency(relationship, action, document)
    return Decision(False, "no-consent", mode)


def _closed_to_practitioner(action: Action, mode: Mode) -> Decision:
    """A closed record refuses every practitioner, former consent, emergency and treating
    physician alike. The look-up still answers "found", as for any record the practitioner has
    no access to, and every other refusal reaches them as the same 404 or the same answer a
    record without consent gives (a request "sent", an emergency "not allowed" as after an
    opt-out): a practitioner learns nothing of the closure, nor of a death."""
    if action == Action.LOOKUP:
        return Decision(True, "found", mode)
    return Decision(False, RECORD_CLOSED, mode)


def _approach(relationship: Relationship, action: Action, mode: Mode) -> Decision:
    """A record exists (checked before): finding it is allowed, the page says no more; asking
    and declaring an emergency are refused to a blocked practitioner, an emergency also when
    the patient opted out."""
    if action == Action.LOOKUP:
        return Decision(True, "found", mode)
    if relationship.blocked:
        return Decision(False, "blocked-by-patient", mode)
    if action == Action.REQUEST_ACCESS:
        return Decision(True, "request", mode)
    if relationship.opted_out:
        return Decision(False, "emergency-opted-out", mode)
    return Decision(True, "declared", mode)


def _within_consent(
    actor: User, relationship: Relationship, action: Action, document: Document | None
) -> Decision:
    # The author's controls (issue 16): on their own current document only, within consent
    # (never in an emergency). Anyone else, the patient's own hiding included, is refused here.
    if action in AUTHOR_ACTIONS:
        if document is None or document.author_id != actor.pk:
            return Decision(False, "not-author")
        if document.status in ("deleted", "replaced"):
            return Decision(False, "not-current")
        # Held back only while the patient has not seen it (a hold then postpones the reveal):
        # a document shown to the patient never disappears again, nor do the lines of their
        # history that name it.
        if action == Action.HOLD and not document.hidden_from_patient(timezone.now()):
            return Decision(False, "shown-to-patient")
        return Decision(True, "author")
    if action not in PRACTITIONER_ACTIONS:
        return Decision(False, "action-not-allowed")
    if document is None:
        return Decision(True, "consent")
    if document.status in ("deleted", "replaced"):
        return Decision(False, "not-current")
    if document.author_id == actor.pk:
        return Decision(True, "author")
    # Hidden by the patient or by its author: the same readers (the patient, the author, the
    # treating physician), so that neither choice widens nor narrows the other's.
    if document.hidden_from_others and not relationship.treating_physician:
        return Decision(False, "hidden-from-practitioners")
    if document.category_id not in relationship.readable_categories:
        return Decision(False, "profession-may-not-read-category")
    return Decision(True, "consent")


def _within_emergency(
    relationship: Relationship, action: Action, document: Document | None
) -> Decision:
    """Reads only, never a hidden document, within the profession's categories."""
    emergency = Mode.EMERGENCY
    if action not in READ_ACTIONS:
        return Decision(False, "action-not-allowed", emergency)
    if document is None:
        return Decision(True, "emergency", emergency)
    if document.status in ("deleted", "replaced"):
        return Decision(False, "not-current", emergency)
    if document.hidden_from_others:  # by the patient or by its author
        return Decision(False, "hidden-in-emergency", emergency)
    if document.category_id not in relationship.readable_categories:
        return Decision(False, "profession-may-not-read-category", emergency)
    return Decision(True, "emergency", emergency)


def visible_to_practitioner(actor: User, patient: User, relationship: Relationship) -> Q:
    """The documents of ``patient`` a practitioner may see in a list, as ``for_practitioner``
    decides (``policy.visible_documents``)."""
    allowed = Q(category_id__in=sorted(relationship.readable_categories))
    if relationship.blocked or relationship.closure:
        return NOTHING
    if not relationship.consent:
        if not relationship.emergency or relationship.opted_out:
            return NOTHING
        # Emergency: never a hidden document, not even one's own.
        return Q(patient=patient) & allowed & NOT_HIDDEN
    if not relationship.treating_physician:
        allowed &= NOT_HIDDEN
    return Q(patient=patient) & (Q(author=actor) | allowed)
