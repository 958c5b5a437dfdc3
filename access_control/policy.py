"""The one door to health data: who may do what with which patient's record, and why.

``decide`` holds every rule and writes nothing; ``authorize`` is the entry point that every
selector and service touching health content calls: it decides and appends the audit event in
the caller's transaction, refusals included. ``visible_documents`` is the same rules as a
query filter, for lists. Nothing else in the project decides access.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from access_control.audit import Action, Mode, Outcome, record_event
from access_control.consent_models import (
    Block,
    Consent,
    EmergencyAccess,
    ProfessionRule,
    RecordSettings,
    TreatingPhysician,
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    mode: str = Mode.NORMAL


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
}
PRACTITIONER_ACTIONS = READ_ACTIONS | {Action.UPLOAD}
# What staff may do, about a person of the registry only: never a document.
STAFF_REGISTRY_ACTIONS = {
    Action.LOOKUP,
    Action.VIEW_IDENTITY,
    Action.PROPOSE_CHANGE,
    Action.CONFIRM_CHANGE,
    Action.EXPORT_LETTER,
}


def decide(actor, patient, action: str, document=None, mode: str = Mode.NORMAL) -> Decision:
    """Allowed or refused, with the reason recorded in the audit trail. Writes nothing."""
    if actor is None or not actor.is_authenticated:
        return Decision(False, "anonymous", mode)
    if patient is None and actor.kind != "staff":
        return Decision(False, "no-such-record", mode)
    if document is not None and (patient is None or document.patient_id != patient.pk):
        return Decision(False, "document-of-another-record", mode)
    if actor.kind == "staff":
        return _staff(actor, action, document, mode)
    if actor.kind == "practitioner":
        return _practitioner(actor, patient, action, document, mode)
    if actor.kind != "patient" or actor.pk != patient.pk:
        return Decision(False, "not-own-record", mode)
    return _patient_on_own_record(action, document, mode)


def _staff(actor, action: str, document, mode: str) -> Decision:
    """Staff run the registry (identity, postal address, letters), never health content."""
    if document is None and action in STAFF_REGISTRY_ACTIONS and actor.is_staff:
        return Decision(True, "staff-registry", mode)
    return Decision(False, "staff-never-read-health-data", mode)


def _patient_on_own_record(action: str, document, mode: str) -> Decision:
    if action not in OWNER_ACTIONS:
        return Decision(False, "action-not-allowed", mode)
    if document is None:
        return Decision(True, "own-record", mode)
    if document.status == "deleted":
        return Decision(False, "deleted", mode)
    # Not yet announced: the patient may neither read it nor act on it (no hint it exists).
    if document.hidden_from_patient(timezone.now()):
        return Decision(False, "hidden-from-patient-until", mode)
    if action == Action.DELETE and not document.authored_by_patient:
        return Decision(False, "not-author", mode)
    return Decision(True, "own-record", mode)


def _is_blocked(patient, practitioner) -> bool:
    return Block.objects.filter(
        patient=patient, practitioner=practitioner, lifted_at__isnull=True
    ).exists()


def has_consent(patient, practitioner, now=None) -> bool:
    now = now or timezone.now()
    return Consent.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        patient=patient,
        practitioner=practitioner,
        revoked_at__isnull=True,
    ).exists()


def _is_treating_physician(patient, practitioner) -> bool:
    return TreatingPhysician.objects.filter(patient=patient, physician=practitioner).exists()


def _profession(practitioner) -> str:
    profile = getattr(practitioner, "practitioner_profile", None)
    return profile.profession if profile is not None else ""


def active_emergency(patient, practitioner, now=None) -> bool:
    return EmergencyAccess.objects.filter(
        patient=patient, practitioner=practitioner, ends_at__gt=now or timezone.now()
    ).exists()


def emergency_opted_out(patient) -> bool:
    return RecordSettings.objects.filter(patient=patient, emergency_opt_out=True).exists()


def _may_read_category(practitioner, document) -> bool:
    return ProfessionRule.objects.filter(
        profession=_profession(practitioner), category_id=document.category_id, may_read=True
    ).exists()


def _practitioner(actor, patient, action: str, document, mode: str) -> Decision:
    # Checked on every request, so a revocation or a block applies to the very next one.
    if _is_blocked(patient, actor):
        return Decision(False, "blocked-by-patient", mode)
    if has_consent(patient, actor):
        return _within_consent(actor, patient, action, document)
    if active_emergency(patient, actor):
        if emergency_opted_out(patient):
            return Decision(False, "emergency-opted-out", Mode.EMERGENCY)
        return _within_emergency(actor, action, document)
    return Decision(False, "no-consent", mode)


def _within_consent(actor, patient, action: str, document) -> Decision:
    if action not in PRACTITIONER_ACTIONS:
        return Decision(False, "action-not-allowed")
    if document is None:
        return Decision(True, "consent")
    if document.status in ("deleted", "replaced"):
        return Decision(False, "not-current")
    if document.author_id == actor.pk:
        return Decision(True, "author")
    if document.hidden_from_practitioners and not _is_treating_physician(patient, actor):
        return Decision(False, "hidden-from-practitioners")
    if not _may_read_category(actor, document):
        return Decision(False, "profession-may-not-read-category")
    return Decision(True, "consent")


def _within_emergency(actor, action: str, document) -> Decision:
    """Reads only, never a hidden document, within the profession's categories."""
    emergency = Mode.EMERGENCY
    if action not in READ_ACTIONS:
        return Decision(False, "action-not-allowed", emergency)
    if document is None:
        return Decision(True, "emergency", emergency)
    if document.status in ("deleted", "replaced"):
        return Decision(False, "not-current", emergency)
    if document.hidden_from_practitioners:
        return Decision(False, "hidden-in-emergency", emergency)
    if not _may_read_category(actor, document):
        return Decision(False, "profession-may-not-read-category", emergency)
    return Decision(True, "emergency", emergency)


def visible_documents(actor, patient) -> Q:
    """The documents of ``patient`` that ``actor`` may see in a list: the rules of ``decide``
    as one query filter (call only after ``authorize`` allowed the list)."""
    if actor.kind == "patient":
        now = timezone.now()
        return Q(patient=patient) & (
            Q(hidden_from_patient_until__isnull=True) | Q(hidden_from_patient_until__lte=now)
        )
    readable = ProfessionRule.objects.filter(profession=_profession(actor), may_read=True)
    allowed = Q(category_id__in=readable.values("category_id"))
    if _is_blocked(patient, actor):
        return Q(pk__in=[])
    if not has_consent(patient, actor):
        if not active_emergency(patient, actor) or emergency_opted_out(patient):
            return Q(pk__in=[])
        # Emergency: never a hidden document, not even one's own.
        return Q(patient=patient) & allowed & Q(hidden_from_practitioners=False)
    if not _is_treating_physician(patient, actor):
        allowed &= Q(hidden_from_practitioners=False)
    return Q(patient=patient) & (Q(author=actor) | allowed)


def authorize(
    actor, patient, action: str, *, document=None, mode: str = Mode.NORMAL, client_address: str = ""
) -> Decision:
    """Decide and record. Call it inside the transaction that reads or writes the data, and
    raise (to a 404) only after that transaction has committed, so refusals stay recorded."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("authorize() needs a transaction")
    decision = decide(actor, patient, action, document, mode)
    if decision.allowed and actor.kind == "practitioner" and decision.mode == Mode.NORMAL:
        _announce_first_access(actor, patient)
    record_event(
        actor=actor if actor is not None and actor.is_authenticated else None,
        patient=patient,
        action=action,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.REFUSED,
        mode=decision.mode,
        document_uid=getattr(document, "uid", None),
        reason=decision.reason,
        client_address=client_address,
    )
    return decision


def authorize_staff(
    staff, action: str, *, patient=None, registry_id: int | None = None, client_address: str = ""
) -> Decision:
    """The door for staff work on the registry: decide and record on the person's chain (their
    record's chain when they have one, else their registry chain). Same transaction rule as
    ``authorize``."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("authorize_staff() needs a transaction")
    decision = decide(staff, patient, action)
    record_event(
        actor=staff if staff is not None and staff.is_authenticated else None,
        patient=patient,
        registry_id=None if patient is not None else registry_id,
        action=action,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.REFUSED,
        reason=decision.reason,
        client_address=client_address,
    )
    return decision


def _announce_first_access(practitioner, patient) -> None:
    """The patient hears of a practitioner's first access (checked before it is recorded)."""
    from access_control.models import AuditEvent
    from access_control.notifications import notify_patient

    if not AuditEvent.objects.filter(
        patient=patient,
        actor=practitioner,
        outcome=Outcome.ALLOWED,
        action__in=READ_ACTIONS,
        mode=Mode.NORMAL,
    ).exists():
        notify_patient("first_access", patient)
