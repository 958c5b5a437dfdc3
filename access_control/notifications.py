"""E-mails that tell a patient something happened to their record. They never carry health
data, nor who the practitioner is: only that something happened, and where to look."""

from __future__ import annotations

from enum import StrEnum

from access_control.decisions import READ_ACTIONS
from accounts.models import User
from audit.models import AuditEvent, Mode, Outcome
from dmp_portal.queueing import enqueue_on_commit


class NotificationKind(StrEnum):
    """A fixed list declared in code: a kind tells nothing of the patient, so it may travel to
    the task next to the patient's id (``enqueue_on_commit`` takes Enum members, no free text)."""

    FIRST_ACCESS = "first_access"
    EMERGENCY = "emergency"
    REQUEST = "request"
    NEW_DOCUMENT = "new_document"
    EXPORT = "export"  # a security notice: sent whatever the preferences (ALWAYS_SENT)
    # A document held back for an announcement consultation, now revealed (issue 16): sent at
    # the reveal only, never at the upload of a held document.
    DOCUMENT_REVEALED = "document_revealed"
    # Sent to the person invited as caregiver (issue 17): nothing of the record, nor who
    # invites them (the mailbox may be shared; the portal names them once logged in).
    CAREGIVER_INVITED = "caregiver_invited"


KINDS = tuple(kind.value for kind in NotificationKind)
# The RecordSettings field that holds the patient's choice for each kind (read by the task).
PREFERENCE_FIELD = {
    "first_access": "notify_first_access",
    "emergency": "notify_emergency",
    "request": "notify_request",
    "new_document": "notify_new_document",
    # For the patient, a revealed document is a new document: the same choice applies.
    "document_revealed": "notify_new_document",
}
# Kinds no preference turns off: the patient must hear of a copy of their whole record taken
# away, all the more when it was not them.
# An invitation is not news of one's own record, which the preferences are about: without the
# e-mail the invited person would never know there is something to answer.
ALWAYS_SENT = frozenset({"export", "caregiver_invited"})


def notify_patient(kind: NotificationKind, patient: User) -> None:
    """Queue the e-mail once the current transaction commits (tasks take ids only). The check
    stays for callers the type checker does not see (a plain string is refused)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind: {kind!r}")
    enqueue_on_commit(
        "access_control.tasks.send_patient_notification", NotificationKind(kind), patient.pk
    )


def notify_treating_physician_of_emergency(patient: User) -> None:
    enqueue_on_commit("access_control.tasks.send_physician_emergency_notification", patient.pk)


def announce_first_access(practitioner: User, patient: User) -> None:
    """The patient hears of a practitioner's first access (checked before it is recorded: the
    door calls it from ``policy.authorize``, just before it records the access)."""
    if not AuditEvent.objects.filter(
        patient=patient,
        actor=practitioner,
        outcome=Outcome.ALLOWED,
        action__in=READ_ACTIONS,
        mode=Mode.NORMAL,
    ).exists():
        notify_patient(NotificationKind.FIRST_ACCESS, patient)
