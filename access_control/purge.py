"""Archive and purge (issue 16, item 5): a closed record is kept ``RECORD_ARCHIVE_YEARS`` after
its closure (``RecordClosure.archive_until`` is its last day), then destroyed.

``purge_record`` runs in three steps, each one idempotent, so that a purge interrupted anywhere
resumes where it stopped the next time it runs (``purged_at`` is set by the last step only, and
until then the record stays in ``purgeable``):

1. crypto-shredding, first and committed alone: the person's data key is destroyed, so that
   whatever a later step fails to reach (a backup, a replica, a file left behind) is unreadable;
2. the person's stored files (every version of every document, the letters' PDFs) are deleted
   from the storage, before the rows that name them;
3. in one transaction: every derived identifier is erased (blind indexes of the NIR and of the
   contact address, codes, links, sessions, second factors), the rows that tie other people or
   paper to the person are deleted, the account is made unusable, ``purged_at`` is set and the
   door (``policy.authorize``) records the one ``purge-record`` event on the person's chain.

Whether a record may be purged is the door's rule (``policy.decide``, ``Action.PURGE_RECORD``):
the command's operator or the daily task, a closed record, its archive period over. It is asked
before step 1 and again in step 3; a refusal is recorded by the door and committed before
``PurgeRefused`` is raised. An already purged record is no question for it: nothing changes,
nothing is recorded.

What stays: the account row (the audit trail's foreign keys protect it) with a random login
identifier and nothing else, its destroyed data key (the same), the closure row, and the audit
chain, which names the account's random id only. ``verify_audit`` still passes: no audit row is
updated or deleted.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from django.contrib.admin.models import LogEntry
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from access_control import policy
from access_control.decisions import ARCHIVE_PERIOD, DAILY_PURGE, CommandLineOperator, DailyTask
from access_control.models import (
    AccessRequest,
    Block,
    CaregiverGrant,
    Consent,
    DeathProposal,
    EmergencyAccess,
    LegalRepresentation,
    RecordClosure,
    RecordSettings,
    TreatingPhysician,
)
from accounts.models import (
    AccountSession,
    ActivationLink,
    ContactEmail,
    ContactEmailChange,
    PasswordResetLink,
    ThrottleLock,
    User,
    UserKind,
)
from accounts.passkeys import StaffPasskeyEnrolment
from accounts.services.factors import remove_every_second_factor
from audit.models import Action
from dmp_portal.crypto.datakeys import destroy_data_key
from dmp_portal.crypto.models import DataKey
from enrollment.models import ActivationAttempts, Beneficiary, EnrollmentRequest
from letters.models import Letter
from records.models import Document

logger = logging.getLogger(__name__)

# The login identifier of a purged account: random, so that it names no one (a patient's own
# is ten digits: the two never meet); with no usable password and inactive, it opens nothing.
PURGED_USERNAME_PREFIX = "purged-"


class PurgeRefused(Exception):
    """The record may not be purged (not closed, or still within its archive period): nothing
    changed. There is no way to force it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PurgeOutcome:
    """What a run of ``purge_due_records`` did: the account ids purged, and those that failed
    (to run again: each step resumes)."""

    purged: list[UUID]
    failed: list[UUID]


def purgeable(today: date) -> QuerySet[RecordClosure]:
    """Closed records whose archive period ended before ``today`` and not purged yet: the last
    archive day (``archive_until``) itself is still kept."""
    return (
        RecordClosure.objects.filter(purged_at__isnull=True, archive_until__lt=today)
        .select_related("patient")
        .order_by("archive_until", "pk")
    )


def check_purgeable(
    patient_id: UUID,
    *,
    operator: CommandLineOperator | None = None,
    today: date | None = None,
) -> RecordClosure:
    """The closure of this account's record, when the door allows its purge (or it already
    was purged): nothing is written. Otherwise the door's refusal is recorded and committed,
    then ``PurgeRefused`` is raised with a French message. ``operator``: as ``purge_record``."""
    with transaction.atomic():
        checked = _closure_if_allowed(
            patient_id, _actor(operator), today or timezone.localdate(), lock=False
        )
    if isinstance(checked, PurgeRefused):  # raised once the door's record of it has committed
        raise checked
    return checked


def purge_record(
    patient_id: UUID,
    *,
    operator: CommandLineOperator | None = None,
    today: date | None = None,
) -> bool:
    """Purge the closed record of the account ``patient_id``; True when purged now, False when
    it already was. Raises ``PurgeRefused`` (nothing changes but the door's record of the
    refusal) for a record not closed or still within its archive period. ``operator``: who ran
    the command (None: the daily task)."""
    actor = _actor(operator)
    today = today or timezone.localdate()
    # Step 1, under the closure's lock so that no reopening can slip in after the check.
    with transaction.atomic():
        checked = _closure_if_allowed(patient_id, actor, today, lock=True)
        if isinstance(checked, RecordClosure) and checked.purged_at is None:
            for data_key in _data_keys_of(checked.patient, _beneficiary_of(checked.patient)):
                # A key destroyed by an interrupted run is not destroyed twice (the ledger of
                # destroyed keys would name it twice).
                if not data_key.is_destroyed:
                    destroy_data_key(data_key)
    if isinstance(checked, PurgeRefused):  # raised once the door's record of it has committed
        raise checked
    if checked.purged_at is not None:
        return False
    patient = checked.patient
    beneficiary = _beneficiary_of(patient)
    # Step 2: outside any transaction, a storage is not one. Deleting a missing file is a no-op.
    for name in _stored_files_of(patient, beneficiary):
        default_storage.delete(name)
    # Step 3: the door decides again, under the lock, and records the purge with its rows.
    with transaction.atomic():
        locked = _closure(patient_id, lock=True)
        if locked is not None and locked.purged_at is not None:  # a parallel run finished first
            return False
        patient = User.objects.select_for_update().get(pk=patient.pk)
        access = policy.purge_access(actor, patient, today)
        decision = policy.authorize(actor, patient, Action.PURGE_RECORD, access=access)
        if decision.allowed and locked is not None:
            _erase_registry_entry(patient)
            _erase_record(patient)
            _disable_account(patient)
            locked.purged_at = timezone.now()
            locked.save(update_fields=["purged_at"])
    if not decision.allowed or locked is None:  # reopened since step 1
        raise _refusal(locked, decision.reason)
    logger.info("record purged account=%s", patient_id)
    return True


def purge_due_records(
    *, operator: CommandLineOperator | None = None, today: date | None = None
) -> PurgeOutcome:
    """Purge every record of ``purgeable(today)``, one by one: one that fails is logged (its
    account id and the kind of error only: a database error's text may quote a row) and left
    for the next run, the others go on."""
    today = today or timezone.localdate()
    purged: list[UUID] = []
    failed: list[UUID] = []
    for patient_id in list(purgeable(today).values_list("patient_id", flat=True)):
        try:
            if purge_record(patient_id, operator=operator, today=today):
                purged.append(patient_id)
        except Exception as error:  # noqa: BLE001 - any failure: the next record still goes
            logger.error("purge failed account=%s error=%s", patient_id, type(error).__name__)
            failed.append(patient_id)
    return PurgeOutcome(purged=purged, failed=failed)


def _actor(operator: CommandLineOperator | None) -> CommandLineOperator | DailyTask:
    """Who asks the door: the command's operator, else the daily task."""
    return operator if operator is not None else DAILY_PURGE


def _closure(patient_id: UUID, *, lock: bool) -> RecordClosure | None:
    """The closure row; ``lock``: locked until the transaction ends (a reopening waits)."""
    closures = RecordClosure.objects.select_related("patient")
    if lock:
        closures = closures.select_for_update(of=("self",))
    return closures.filter(patient_id=patient_id).first()


def _closure_if_allowed(
    patient_id: UUID, actor: CommandLineOperator | DailyTask, today: date, *, lock: bool
) -> RecordClosure | PurgeRefused:
    """The record's closure when the door allows its purge (asked, nothing recorded) or it was
    purged already (no question left); else the door records its refusal in the caller's
    transaction, and this returns the error to raise once that transaction has committed."""
    closure = _closure(patient_id, lock=lock)
    if closure is not None and closure.purged_at is not None:
        return closure
    # Not closed: the door still answers, on the person's chain when the id is a patient's
    # account, on the system chain when it names no one's record.
    patient = (
        closure.patient
        if closure is not None
        else User.objects.filter(pk=patient_id, kind=UserKind.PATIENT).first()
    )
    decision = policy.purge_access(actor, patient, today).decide(Action.PURGE_RECORD)
    if closure is not None and decision.allowed:
        return closure
    policy.record_refusal(actor, patient, Action.PURGE_RECORD, decision.reason)
    return _refusal(closure, decision.reason)


def _refusal(closure: RecordClosure | None, reason: str) -> PurgeRefused:
    """The French message of the door's refusal (its reason starts with why)."""
    if closure is None or not reason.startswith(f"{ARCHIVE_PERIOD}:"):
        return PurgeRefused(
            _("No closed record belongs to this account: only a closed record can be purged.")
        )
    return PurgeRefused(
        _(
            "This record is within its archive period until %(last_day)s: it cannot be "
            "purged before %(first_day)s."
        )
        % {
            "last_day": formats.date_format(closure.archive_until, "SHORT_DATE_FORMAT"),
            "first_day": formats.date_format(
                closure.archive_until + timedelta(days=1), "SHORT_DATE_FORMAT"
            ),
        }
    )


def _beneficiary_of(patient: User) -> Beneficiary | None:
    return Beneficiary.objects.filter(patient=patient).first()


def _data_keys_of(patient: User, beneficiary: Beneficiary | None) -> QuerySet[DataKey]:
    """Every key the person's data is sealed under: the registry's, carried over to the account,
    and, should any row hold another one, the keys of their documents and letters."""
    ids = {patient.data_key_id}
    ids.update(Document.objects.filter(patient=patient).values_list("data_key_id", flat=True))
    if beneficiary is not None:
        ids.add(beneficiary.data_key_id)
        ids.update(
            Letter.objects.filter(subject_uid=beneficiary.uid).values_list("data_key_id", flat=True)
        )
    return DataKey.objects.filter(pk__in=[key for key in ids if key is not None]).order_by("pk")


def _letters_of(patient: User, beneficiary: Beneficiary | None) -> QuerySet[Letter]:
    """The person's letters: asked for their registry entry, or sealed under their key."""
    keys = [patient.data_key_id] if patient.data_key_id is not None else []
    subject = Q(subject_uid=beneficiary.uid) if beneficiary is not None else Q(pk__in=[])
    return Letter.objects.filter(subject | Q(data_key_id__in=keys))


def _stored_files_of(patient: User, beneficiary: Beneficiary | None) -> list[str]:
    """The storage names of every version of every document of the record (whatever its
    status: replaced and deleted ones keep their file) and of the person's letters' PDFs."""
    names = list(Document.objects.filter(patient=patient).values_list("file_name", flat=True))
    names += (
        _letters_of(patient, beneficiary).exclude(pdf_name="").values_list("pdf_name", flat=True)
    )
    return [name for name in names if name]


def _erase_registry_entry(patient: User) -> None:
    """The registry entry and every blind index of the NIR go.

    The entry is deleted rather than blanked: its NIR index is unique and required (a random
    one would only pretend), and what else it holds is the person's identity, unreadable now.
    Its creation codes, proposed changes and links to legal representatives (as the minor or
    as their representative, issue 17) go with it (cascade). Should the national
    registry's import bring the person back, they come as a new entry with a new key, tied to
    nothing of this record. Enrolment requests and wrong-code counters hold nothing but the
    NIR's index and dates: deleted. The letters (their PDFs are already gone) are deleted too:
    the reference printed on the paper and the data key's id would tie the paper to the account.
    """
    beneficiary = Beneficiary.objects.filter(patient=patient).first()
    _letters_of(patient, beneficiary).delete()
    if beneficiary is None:
        return
    EnrollmentRequest.objects.filter(nir_index=beneficiary.nir_index).delete()
    ActivationAttempts.objects.filter(nir_index=beneficiary.nir_index).delete()
    beneficiary.delete()


def _erase_record(patient: User) -> None:
    """The record's rows go; the audit trail keeps every event about them, by ids only.

    Documents are deleted rather than kept encrypted: their clear columns (category, dates,
    sizes, author) still say something about the person's health. Versions point to the one
    they replace (PROTECT), so that link is cut first. Consents, blocks, requests, the treating
    physician, emergencies and settings name the people who cared for the person: deleted. So
    are the proposals of a recorded death (their events stay on the chain), and the caregivers
    and representations, on either side (issue 17).
    The closure row stays (``purged_at``): the only trace that a record existed.
    """
    Document.objects.filter(patient=patient).update(replaces=None)
    Document.objects.filter(patient=patient).delete()
    for model in (
        Consent,
        Block,
        AccessRequest,
        TreatingPhysician,
        EmergencyAccess,
        RecordSettings,
        DeathProposal,
    ):
        model.objects.filter(patient=patient).delete()
    # Issue 17's ties, on either side: the caregivers of this record and the records this
    # person helped with, the representations of this person and the ones they held.
    CaregiverGrant.objects.filter(Q(patient=patient) | Q(caregiver=patient)).delete()
    LegalRepresentation.objects.filter(Q(minor=patient) | Q(representative=patient)).delete()


def _disable_account(patient: User) -> None:
    """The account row stays, as the audit trail's events and chain point to it (PROTECT, and
    the trail may not be edited), but holds nothing that names the person or lets anyone in.

    Deleted: the contact address and its blind index, address changes, reset and activation
    links (their token hashes), sessions, second factors (authenticator apps, backup codes,
    passkeys, whose credential ids are identifiers of the person's devices), throttles. The
    data key row stays, destroyed (the account points to it). Admin log entries about the
    account name it by its old login identifier: renamed.
    """
    for model in (ContactEmail, ContactEmailChange, PasswordResetLink, ActivationLink):
        model.objects.filter(user=patient).delete()
    StaffPasskeyEnrolment.objects.filter(user=patient).delete()
    AccountSession.objects.filter(user=patient).delete()
    ThrottleLock.objects.filter(account=patient).delete()
    remove_every_second_factor(patient)
    patient.username = PURGED_USERNAME_PREFIX + secrets.token_hex(16)
    patient.email = ""
    patient.first_name = ""
    patient.last_name = ""
    patient.language = ""
    patient.is_active = False
    patient.is_staff = False
    patient.is_superuser = False
    patient.set_unusable_password()
    patient.save()
    patient.groups.clear()
    patient.user_permissions.clear()
    LogEntry.objects.filter(
        content_type__app_label=User._meta.app_label,
        content_type__model=User._meta.model_name,
        object_id=str(patient.pk),
    ).update(object_repr=patient.username, change_message="")
