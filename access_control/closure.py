"""A record's closure: the patient closes it or reopens it; staff record a death (four eyes).

Closing ends at once, in the transaction of the door's decision, everything that let anyone
but the patient into the record (``_end_every_link``): consents (revoked with the reason
``closure``), pending access requests (declined), running emergency accesses (ended now), the
treating-physician designation, and (issue 17) representatives' and caregivers' links. The
record is then kept, closed, for ``RECORD_ARCHIVE_YEARS`` (``RecordClosure.archive_until``),
after which ``purge_records`` destroys it. While it is closed the door refuses every
practitioner and lets the patient only read, export and reopen (``policy``).

The patient proves it is them again before closing or reopening: their password and a fresh
second factor, throttled like a password change (the same limit and cool-off) and, for the
code, by the login's own throttles (``verify_second_factor``). A wrong one changes nothing and
is recorded on the patient's chain.

A death is proposed by one staff member and confirmed by another (the door refuses the
proposer, as for a registry change); confirming closes the record for good (it can never be
reopened), ends every session of the account and prevents any further login. It also ends the
ties the dead person held on other people's records (``_end_ties_held``): the grants they held
as caregiver and the representations they held, so that those people no longer see them among
the people who help them. A closure by the patient leaves those ties alone (see there).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control import policy
from access_control.access_requests import lock_patients_decisions
from access_control.decisions import (
    ALREADY_CLOSED,
    CLOSED_BY_DEATH,
    FOUR_EYES_OWN_PROPOSAL,
    NOT_CLOSED,
    StaffRefused,
)
from access_control.models import (
    AccessRequest,
    CaregiverEndReason,
    CaregiverGrant,
    ClosureReason,
    Consent,
    DeathProposal,
    DeathProposalState,
    EmergencyAccess,
    LegalRepresentation,
    RecordClosure,
    RepresentationEndReason,
    RevocationReason,
    TreatingPhysician,
)
from accounts.models import User, UserKind
from accounts.services.authentication import LoginRefused, verify_second_factor
from accounts.services.contact_email import too_many
from accounts.services.sessions import end_other_sessions
from accounts.throttling import Throttle
from audit.models import Action


class ClosureRefused(Exception):
    """A refusal explained in French; ``field``: the form field it is about ("" for the form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def closure_of(patient: User) -> RecordClosure | None:
    """The record's closure, if it is closed (for the pages that say so)."""
    return RecordClosure.objects.filter(patient=patient).first()


def archive_end(closed_on: date) -> date:
    """The last day of the archive: ``RECORD_ARCHIVE_YEARS`` after the closure day (a closure
    on 29 February ends on 28 February)."""
    year = closed_on.year + settings.RECORD_ARCHIVE_YEARS
    try:
        return closed_on.replace(year=year)
    except ValueError:
        return closed_on.replace(year=year, day=28)


def closed_record_message() -> str:
    """What a page says when the patient tries anything but reading, exporting or reopening."""
    return _(
        "Your record is closed: you can still read it, download a copy of it and reopen it, "
        "but nothing else. Reopen it first."
    )


def _throttle() -> Throttle:
    """The password change's limit and cool-off, counted per account."""
    return Throttle(
        "record-closure",
        settings.LOGIN_FAILURES_PER_ACCOUNT,
        int(settings.LOGIN_COOLOFF.total_seconds()),
    )


def _refuse(patient: User, action: Action, reason: str, client_address: str) -> None:
    with transaction.atomic():
        policy.record_refusal(patient, patient, action, reason, client_address=client_address)


def _reauthenticate(
    patient: User,
    action: Action,
    password: str,
    otp_token: str,
    client_address: str,
    known_browser: bool,
) -> None:
    """The password and a fresh second factor, or ClosureRefused (recorded, nothing changed)."""
    throttle = _throttle()
    subject = str(patient.pk)
    waiting = throttle.attempt(subject)
    if waiting:
        raise ClosureRefused(too_many(waiting))
    if not patient.check_password(password or ""):
        _refuse(patient, action, "wrong-password", client_address)
        raise ClosureRefused(_("This is not your current password."), field="password")
    try:
        verify_second_factor(
            patient, otp_token or "", client_address=client_address, known_browser=known_browser
        )
    except LoginRefused as refusal:
        _refuse(patient, action, "second-factor-failed", client_address)
        raise ClosureRefused(refusal.message, field="otp_token") from refusal
    throttle.succeeded(subject)


def close_record(
    patient: User,
    *,
    password: str,
    otp_token: str,
    client_address: str = "",
    known_browser: bool = False,
) -> RecordClosure:
    """The patient closes their record (``known_browser``: see ``accounts``). Call it outside
    any transaction: a refusal commits with its event before ClosureRefused is raised."""
    _reauthenticate(
        patient, Action.CLOSE_RECORD, password, otp_token, client_address, known_browser
    )
    with transaction.atomic():
        lock_patients_decisions(patient.pk)
        decision = policy.authorize(
            patient, patient, Action.CLOSE_RECORD, client_address=client_address
        )
        if decision.allowed:
            closure = _close(patient, ClosureReason.PATIENT, timezone.now())
    if decision.reason == ALREADY_CLOSED:
        raise ClosureRefused(_("Your record is already closed: nothing was changed."))
    if not decision.allowed:
        raise ClosureRefused(_("This action is not possible."))
    return closure


def reopen_record(
    patient: User,
    *,
    password: str,
    otp_token: str,
    client_address: str = "",
    known_browser: bool = False,
) -> None:
    """The patient reopens the record they closed, during its archive period. Everything the
    closure ended stays ended: practitioners read again only once the patient grants again."""
    _reauthenticate(
        patient, Action.REOPEN_RECORD, password, otp_token, client_address, known_browser
    )
    with transaction.atomic():
        lock_patients_decisions(patient.pk)
        closure = RecordClosure.objects.select_for_update().filter(patient=patient).first()
        if closure is not None and (
            closure.purged_at is not None or closure.archive_until < timezone.localdate()
        ):
            # Past its archive period the record is being destroyed: nothing to reopen.
            policy.record_refusal(
                patient,
                patient,
                Action.REOPEN_RECORD,
                "archive-period-ended",
                client_address=client_address,
            )
            decision = None
        else:
            decision = policy.authorize(
                patient, patient, Action.REOPEN_RECORD, client_address=client_address
            )
            if decision.allowed and closure is not None:  # allowed: the record is closed
                closure.delete()  # the trail keeps the closure and the reopening
    if decision is None:
        raise ClosureRefused(
            _("The archive period of your record has ended: it cannot be reopened.")
        )
    if decision.reason == NOT_CLOSED:
        raise ClosureRefused(_("Your record is open: there is nothing to reopen."))
    if decision.reason == CLOSED_BY_DEATH or not decision.allowed:
        raise ClosureRefused(_("This action is not possible."))


def _close(patient: User, reason: str, now: datetime) -> RecordClosure:
    """The closure row and every link it ends; the caller holds the door's decision and
    ``lock_patients_decisions``."""
    closure = RecordClosure.objects.create(
        patient=patient,
        reason=reason,
        closed_at=now,
        archive_until=archive_end(timezone.localdate(now)),
    )
    _end_every_link(patient, now)
    return closure


def _end_every_link(patient: User, now: datetime) -> None:
    """Everything that let someone else into the record ends at ``now``. Ended rather than
    deleted (the patient still sees that they were, and until when), and never given back by a
    reopening. Blocks stay: they protect the patient, closed or not."""
    Consent.objects.unrevoked().filter(patient=patient).update(
        revoked_at=now, revoked_reason=RevocationReason.CLOSURE
    )
    AccessRequest.objects.filter(patient=patient, decided_at__isnull=True).update(
        decided_at=now, accepted=False
    )
    EmergencyAccess.objects.active(now).filter(patient=patient).update(ends_at=now)
    TreatingPhysician.objects.filter(patient=patient).delete()
    _end_representatives_and_caregivers(patient, now)


def _end_representatives_and_caregivers(patient: User, now: datetime) -> None:
    """Issue 17's representatives and caregivers: their ties to this record end here, at
    ``now``, with the others (pending invitations too). The door already refuses them both on
    a closed record; ended, they stay ended if the patient reopens it."""
    LegalRepresentation.objects.unended().filter(minor=patient).update(
        ended_at=now, ended_reason=RepresentationEndReason.CLOSURE
    )
    CaregiverGrant.objects.unrevoked().filter(patient=patient).update(
        revoked_at=now, revoked_reason=CaregiverEndReason.CLOSURE
    )


def _end_ties_held(person: User, now: datetime) -> None:
    """A death ends the ties ``person`` held on other people's records, at ``now``: their
    caregiver grants (pending ones too) and the representations where they are the
    representative, each with its death reason, whether their record was open or already closed.

    Only a death does. A patient who closes their own record is still alive and can still log in
    (to read, export or reopen): closing is about their own health data, not about the help
    they give. A caregiver grant is the other patient's choice, which that patient alone ends;
    a legal representation is a legal fact that ends at the child's majority (or by the
    registry), not because the parent closed their own record; and a closure may be undone by
    a reopening, which would not give back what it had ended."""
    CaregiverGrant.objects.unrevoked().filter(caregiver=person).update(
        revoked_at=now, revoked_reason=CaregiverEndReason.CAREGIVER_DEATH
    )
    LegalRepresentation.objects.unended().filter(representative=person).update(
        ended_at=now, ended_reason=RepresentationEndReason.REPRESENTATIVE_DEATH
    )


# --- A death, with four eyes ---------------------------------------------------------------


def propose_death(staff: User, patient_id: UUID, *, client_address: str = "") -> DeathProposal:
    """One staff member proposes the death of the person whose record this is (the admin found
    them in the registry by their NIR). Nothing changes until another staff member confirms."""
    with transaction.atomic():
        patient = User.objects.filter(pk=patient_id, kind=UserKind.PATIENT).first()
        if patient is None:
            raise ValidationError(_("This person has no record: there is nothing to close."))
        _refuse_if_recorded(patient)
        decision = policy.authorize_staff(
            staff, Action.PROPOSE_DEATH, patient=patient, client_address=client_address
        )
        if decision.allowed:
            proposal = DeathProposal.objects.create(patient=patient, proposed_by=staff)
    if not decision.allowed:
        raise StaffRefused
    return proposal


def _refuse_if_recorded(patient: User) -> None:
    if RecordClosure.objects.filter(patient=patient, reason=ClosureReason.DEATH).exists():
        raise ValidationError(_("This person's death is already recorded."))
    if DeathProposal.objects.filter(patient=patient, state=DeathProposalState.PENDING).exists():
        raise ValidationError(
            _("This person's death is already awaiting confirmation by another staff member.")
        )


def decide_death(
    staff: User, proposal_id: int, *, confirm: bool, client_address: str = ""
) -> DeathProposal:
    """Confirm (close the record for good) or reject a proposed death, as a staff member other
    than its proposer. Both are recorded as ``confirm-death`` on the person's chain."""
    with transaction.atomic():
        proposal = DeathProposal.objects.select_for_update().get(pk=proposal_id)
        if proposal.state != DeathProposalState.PENDING:
            raise ValidationError(_("This proposal was already decided."))
        lock_patients_decisions(proposal.patient_id)
        patient = User.objects.get(pk=proposal.patient_id, kind=UserKind.PATIENT)
        decision = policy.authorize_staff(
            staff,
            Action.CONFIRM_DEATH,
            patient=patient,
            proposed_by=proposal.proposed_by_id,
            client_address=client_address,
        )
        if decision.allowed:
            now = timezone.now()
            if confirm:
                _record_death(patient, staff, now, client_address)
            proposal.state = (
                DeathProposalState.CONFIRMED if confirm else DeathProposalState.REJECTED
            )
            proposal.decided_by = staff
            proposal.decided_at = now
            proposal.save(update_fields=["state", "decided_by", "decided_at"])
    if decision.reason == FOUR_EYES_OWN_PROPOSAL:
        raise ValidationError(
            _("You proposed this death: another staff member must confirm or reject it.")
        )
    if not decision.allowed:
        raise StaffRefused
    return proposal


def _record_death(patient: User, staff: User, now: datetime, client_address: str) -> None:
    """Close the record with the reason death (a record the patient had closed keeps its
    archive period, its reason becomes death: it can no longer be reopened), end every session
    and make the account unable to log in again (nor to be reactivated by post: enrolment
    reactivates active accounts only)."""
    closure = RecordClosure.objects.select_for_update().filter(patient=patient).first()
    if closure is None:
        _close(patient, ClosureReason.DEATH, now)
    else:
        closure.reason = ClosureReason.DEATH
        closure.save(update_fields=["reason"])
    _end_ties_held(patient, now)
    patient.set_unusable_password()
    patient.is_active = False
    patient.save(update_fields=["password", "is_active"])
    end_other_sessions(patient, None, actor=staff, client_address=client_address, reason="death")
