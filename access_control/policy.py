"""The one door to health data: who may do what with which patient's record, and why.

``decide`` holds every rule and touches nothing; ``authorize`` is the entry point that every
selector and service touching health content calls: it decides and appends the audit event in
the caller's transaction, refusals included. Nothing else in the project decides access.

For now the rules know the patient (their own record) and refuse every practitioner; the
consent rules arrive here without changing any view.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from access_control.audit import Action, Mode, Outcome, record_event


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    mode: str = Mode.NORMAL


READ_ACTIONS = {Action.LIST, Action.VIEW, Action.DOWNLOAD}
OWNER_ACTIONS = READ_ACTIONS | {Action.UPLOAD, Action.HIDE, Action.SHOW, Action.DELETE}


def decide(actor, patient, action: str, document=None, mode: str = Mode.NORMAL) -> Decision:
    """Allowed or refused, with the reason recorded in the audit trail. Pure: no writes."""
    if actor is None or not actor.is_authenticated:
        return Decision(False, "anonymous", mode)
    if patient is None:
        return Decision(False, "no-such-record", mode)
    if document is not None and document.patient_id != patient.pk:
        return Decision(False, "document-of-another-record", mode)
    if actor.kind == "staff":
        return Decision(False, "staff-never-read-health-data", mode)
    if actor.kind == "practitioner":
        return Decision(False, "no-consent", mode)
    if actor.kind != "patient" or actor.pk != patient.pk:
        return Decision(False, "not-own-record", mode)
    return _patient_on_own_record(action, document, mode)


def _patient_on_own_record(action: str, document, mode: str) -> Decision:
    if action not in OWNER_ACTIONS:
        return Decision(False, "action-not-allowed", mode)
    if document is None:
        return Decision(True, "own-record", mode)
    if document.status == "deleted":
        return Decision(False, "deleted", mode)
    if action in READ_ACTIONS and document.hidden_from_patient(timezone.now()):
        return Decision(False, "hidden-from-patient-until", mode)
    if action == Action.DELETE and not document.authored_by_patient:
        return Decision(False, "not-author", mode)
    return Decision(True, "own-record", mode)


def authorize(
    actor, patient, action: str, *, document=None, mode: str = Mode.NORMAL, client_address: str = ""
) -> Decision:
    """Decide and record. Call it inside the transaction that reads or writes the data, and
    raise (to a 404) only after that transaction has committed, so refusals stay recorded."""
    assert transaction.get_connection().in_atomic_block, "authorize() needs a transaction"
    decision = decide(actor, patient, action, document, mode)
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
