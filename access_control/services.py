"""The patient's decisions about who reads their record, and a practitioner's requests.

Each passes the door (which records it) in the same transaction as the change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control import policy
from access_control.access_requests import lock_patients_decisions
from access_control.closure import closed_record_message
from access_control.decisions import RECORD_CLOSED
from access_control.models import (
    AccessRequest,
    Block,
    Consent,
    EmergencyAccess,
    RecordSettings,
    RevocationReason,
    TreatingPhysician,
)
from access_control.notifications import (
    NotificationKind,
    notify_patient,
    notify_treating_physician_of_emergency,
)
from access_control.selectors import beneficiary_patient
from accounts.models import User, UserKind
from accounts.services.authentication import LoginRefused, verify_second_factor
from accounts.services.contact_email import (
    ContactEmailOutcome,
    ContactEmailRefused,
    give_contact_email,
)
from accounts.services.keys import ensure_data_key
from accounts.throttling import Throttle
from audit.models import Action, Mode
from dmp_portal.queueing import enqueue_on_commit

MAX_CONSENT_DAYS = 366

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class OnBehalf:
    """Someone acting for the patient (issue 17, item 3): ``actor`` decides on ``patient``'s
    record, chosen with the switch (``access_control.acting``); the door decides with
    ``acting_for=True`` (a caregiver with ``manage`` grants and revokes, a legal representative
    also blocks) and records the helper as actor, in the tie's mode."""

    actor: User
    patient: User


class AccessError(Exception):
    """A refusal explained in French; ``field`` names the form field it is about, if one."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def practitioner_by_rpps(rpps: str) -> User:
    practitioner = (
        User.objects.filter(
            kind=UserKind.PRACTITIONER, practitioner_profile__rpps=(rpps or "").strip()
        )
        .select_related("practitioner_profile")
        .first()
    )
    if practitioner is None:
        raise AccessError(
            _(
                "No health professional has this RPPS number. Check the 11 digits "
                "(for example 10003456786)."
            )
        )
    return practitioner


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _owner_action(
    action: Action,
) -> Callable[
    [Callable[Concatenate[User, _P], _R]], Callable[Concatenate[User | OnBehalf, _P], _R]
]:
    """The patient acting on their own record (or someone acting for them, ``OnBehalf``: issue
    17, the change is made on the patient's record): the door decides and records ``action`` in
    the transaction of the change; a refusal commits with its event, and only then is AccessError
    raised (raised inside, it would roll the event back). Call these services outside any
    transaction (the views do), so that their transaction is the one that commits.

    Each service declares the keyword ``client_address`` in its own signature, unused in its
    body: a decorator cannot add a keyword to the signature it keeps (PEP 612), and this one
    keeps it whole, so that the type checker checks every argument the callers pass."""

    def wrap(
        change: Callable[Concatenate[User, _P], _R],
    ) -> Callable[Concatenate[User | OnBehalf, _P], _R]:
        @functools.wraps(change)
        def service(record: User | OnBehalf, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            # The keyword every service declares (a str, checked at the call); ``kwargs`` is
            # typed as a plain mapping here, hence str().
            client_address = str(kwargs.get("client_address", ""))
            if isinstance(record, OnBehalf):
                actor, patient, acting_for = record.actor, record.patient, True
            else:
                actor, patient, acting_for = record, record, False
            with transaction.atomic():
                lock_patients_decisions(patient.pk)
                decision = policy.authorize(
                    actor, patient, action, client_address=client_address, acting_for=acting_for
                )
                if decision.allowed:
                    return change(patient, *args, **kwargs)
            if decision.reason == RECORD_CLOSED:
                raise AccessError(closed_record_message())
            raise AccessError(_("This action is not possible."))

        return service

    return wrap


@_owner_action(Action.GRANT)
def grant_consent(
    patient: User, rpps: str, until: date | None = None, *, client_address: str = ""
) -> Consent:
    """Let this practitioner read the record (until the end of ``until``, at most a year)."""
    practitioner = practitioner_by_rpps(rpps)
    today = timezone.localdate()
    if until is not None and not (today <= until <= today + timedelta(days=MAX_CONSENT_DAYS)):
        raise AccessError(
            _("The end date must be between today and one year from now."), field="until"
        )
    return _grant(patient, practitioner, _end_of(until) if until else None)


def _refuse_if_blocked(patient: User, practitioner: User) -> None:
    """A block overrides everything: no consent, request accepted or treating physician beside
    it (the patient lifts the block first). Checked under ``lock_patients_decisions``."""
    if Block.objects.active().filter(patient=patient, practitioner=practitioner).exists():
        raise AccessError(
            _("You blocked this professional. Lift the block first to give them access.")
        )


def _grant(patient: User, practitioner: User, expires_at: datetime | None) -> Consent:
    """The consent row and the answer to a pending request (the door was asked by the caller);
    refused beside a block."""
    _refuse_if_blocked(patient, practitioner)
    consent = (
        Consent.objects.unrevoked()
        .select_for_update()
        .filter(patient=patient, practitioner=practitioner)
        .first()
    )
    if consent is None:
        consent = Consent.objects.create(
            patient=patient, practitioner=practitioner, expires_at=expires_at
        )
    else:
        consent.expires_at = expires_at
        consent.save(update_fields=["expires_at"])
    AccessRequest.objects.filter(
        patient=patient, practitioner=practitioner, decided_at__isnull=True
    ).update(decided_at=timezone.now(), accepted=True)
    return consent


@_owner_action(Action.REVOKE)
def revoke_consent(patient: User, consent_id: int, *, client_address: str = "") -> None:
    """Effective on the practitioner's very next request: the door reads consents each time."""
    updated = (
        Consent.objects.unrevoked()
        .filter(pk=consent_id, patient=patient)
        .update(revoked_at=timezone.now(), revoked_reason=RevocationReason.PATIENT)
    )
    if not updated:
        raise AccessError(_("This access no longer exists."))


@_owner_action(Action.BLOCK)
def block_practitioner(patient: User, rpps: str, *, client_address: str = "") -> Block:
    """Refuse this practitioner everything, emergencies included, and end at once, in the
    block's transaction, all they had on the record: their consent (revoked, the reason
    recorded), their open requests (declined: one accepted later would give a consent beside
    the block), their emergency access in progress (ended now) and the treating-physician
    designation. The door already refuses a blocked practitioner; this is so that no page shows
    any of it as still running, and so that lifting the block later gives nothing back."""
    practitioner = practitioner_by_rpps(rpps)
    now = timezone.now()
    _end_everything_of(patient, practitioner, now)
    # The block's instant is the one at which what it ended ended.
    block, _created = Block.objects.active().get_or_create(
        patient=patient, practitioner=practitioner, defaults={"created_at": now}
    )
    return block


def _end_everything_of(patient: User, practitioner: User, now: datetime) -> None:
    """What a block ends (``block_practitioner``), for one pair, at ``now``; the caller holds
    ``lock_patients_decisions`` and the door's decision."""
    pair = {"patient": patient, "practitioner": practitioner}
    Consent.objects.unrevoked().filter(**pair).update(
        revoked_at=now, revoked_reason=RevocationReason.BLOCK
    )
    AccessRequest.objects.filter(decided_at__isnull=True, **pair).update(
        decided_at=now, accepted=False
    )
    # Ended, not deleted: the patient and staff still see that it happened, and until when.
    EmergencyAccess.objects.active(now).filter(**pair).update(ends_at=now)
    TreatingPhysician.objects.filter(patient=patient, physician=practitioner).delete()


@_owner_action(Action.UNBLOCK)
def lift_block(patient: User, block_id: int, *, client_address: str = "") -> None:
    """Restores nothing: what the block ended stays ended (the patient gives access again)."""
    Block.objects.active().filter(pk=block_id, patient=patient).update(lifted_at=timezone.now())


@_owner_action(Action.GRANT)
def designate_treating_physician(patient: User, rpps: str, *, client_address: str = "") -> None:
    physician = practitioner_by_rpps(rpps)
    if physician.practitioner_profile.profession != "medecin":
        raise AccessError(_("A treating physician must be a doctor."))
    _refuse_if_blocked(patient, physician)
    TreatingPhysician.objects.update_or_create(patient=patient, defaults={"physician": physician})
    # The treating physician reads the record: a live consent without end date.
    unrevoked = Consent.objects.unrevoked().filter(patient=patient, practitioner=physician)
    if not unrevoked.update(expires_at=None):
        Consent.objects.create(patient=patient, practitioner=physician)


@_owner_action(Action.REVOKE)
def remove_treating_physician(patient: User, *, client_address: str = "") -> None:
    TreatingPhysician.objects.filter(patient=patient).delete()


def request_throttle() -> Throttle:
    """Requests per practitioner, in the look-ups' window: each one adds an event to a
    patient's chain and a task, so one look-up must not be replayed at will."""
    return Throttle(
        "pro-request",
        settings.PRO_REQUESTS_PER_WINDOW,
        int(settings.PRO_LOOKUP_WINDOW.total_seconds()),
    )


def request_access(practitioner: User, nir_index: str, *, client_address: str = "") -> int:
    """A practitioner asks for the record of the NIR they looked up (its blind index).

    The door decides and records (refused when blocked, or when there is no record); the caller
    answers the same either way, so asking tells nothing. The same work runs in every case, the
    first request to a patient included: the registry query, the door's queries, one audit
    event, and one task queued on commit with that event's id (never the NIR nor its blind
    index). The task writes the request and tells the patient when the door still allows it
    (``access_requests.deliver_access_request``).

    Returns 0, or the seconds to wait: past ``PRO_REQUESTS_PER_WINDOW`` requests in
    ``PRO_LOOKUP_WINDOW``, a request is refused and recorded on the system chain before the
    registry is read, so the same whatever the NIR, and nothing is queued.
    """
    waiting = request_throttle().attempt(str(practitioner.pk))
    with transaction.atomic():
        if waiting:
            policy.record_refusal(
                practitioner,
                None,
                Action.REQUEST_ACCESS,
                "throttled",
                client_address=client_address,
            )
            return waiting
        patient = beneficiary_patient(nir_index)
        event_id = policy.authorize(
            practitioner, patient, Action.REQUEST_ACCESS, client_address=client_address
        ).event_id
        enqueue_on_commit("access_control.tasks.process_access_request", event_id)
    return 0


def answer_request(
    patient: User | OnBehalf, request_id: int, accept: bool, *, client_address: str = ""
) -> None:
    """Accepting grants access (the door records a grant), declining records a revocation."""
    answer = _accept_request if accept else _decline_request
    answer(patient, request_id, client_address=client_address)


def _pending_request(patient: User, request_id: int) -> AccessRequest:
    access_request = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("practitioner")
        .filter(pk=request_id, patient=patient, decided_at__isnull=True)
        .first()
    )
    if access_request is None:
        raise AccessError(_("This request was already answered."))
    return access_request


@_owner_action(Action.GRANT)
def _accept_request(patient: User, request_id: int, *, client_address: str = "") -> None:
    _grant(patient, _pending_request(patient, request_id).practitioner, None)


@_owner_action(Action.REVOKE)
def _decline_request(patient: User, request_id: int, *, client_address: str = "") -> None:
    access_request = _pending_request(patient, request_id)
    access_request.decided_at = timezone.now()
    access_request.accepted = False
    access_request.save(update_fields=["decided_at", "accepted"])


MIN_REASON_LENGTH = 15


def declare_emergency(
    practitioner: User,
    nir_index: str,
    reason: str,
    otp_token: str,
    *,
    client_address: str = "",
    known_browser: bool = False,
) -> EmergencyAccess:
    """Open a time-boxed emergency access ("bris de glace") to the record of the NIR the
    practitioner looked up, after a fresh second factor (``known_browser``: this browser
    completed a login of this account, see ``accounts``).

    The door decides and records: refused when the patient blocked this practitioner or opted
    out of emergency access, and when there is no record, with the same answer. The patient and
    their treating physician are told of an allowed one.
    """
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise AccessError(
            _("Give the reason for the emergency (at least %(count)d characters).")
            % {"count": MIN_REASON_LENGTH}
        )
    try:
        verify_second_factor(
            practitioner, otp_token, client_address=client_address, known_browser=known_browser
        )
    except LoginRefused as refused:
        factor_refused: LoginRefused | None = refused
    else:
        factor_refused = None
    with transaction.atomic():
        patient = beneficiary_patient(nir_index)
        if factor_refused is not None:
            decision = policy.record_refusal(
                practitioner,
                patient,
                Action.EMERGENCY,
                "second-factor-failed",
                mode=Mode.EMERGENCY,
                client_address=client_address,
            )
        else:
            decision = policy.authorize(
                practitioner, patient, Action.EMERGENCY, client_address=client_address
            )
        if decision.allowed and patient is not None:  # allowed: the record exists
            now = timezone.now()
            access = EmergencyAccess.objects.create(
                patient=patient,
                practitioner=practitioner,
                reason=reason,
                started_at=now,
                ends_at=now + timedelta(minutes=settings.EMERGENCY_ACCESS_MINUTES),
            )
            notify_patient(NotificationKind.EMERGENCY, patient)
            notify_treating_physician_of_emergency(patient)
    # Raised once the refusal is committed, so that it stays recorded.
    if factor_refused is not None:
        raise AccessError(factor_refused.message) from factor_refused
    if not decision.allowed:
        raise AccessError(_("The patient does not allow emergency access to their record."))
    return access


@_owner_action(Action.GRANT)
def update_record_settings(
    patient: User,
    *,
    emergency_opt_out: bool,
    contact_email: str,
    notify: dict[str, bool],
    client_address: str = "",
) -> ContactEmailOutcome:
    """The record's settings; the contact address goes through its confirmation link
    (``accounts.services.contact_email``): the outcome says whether one was sent."""
    ensure_data_key(patient)
    record_settings, _created = RecordSettings.objects.get_or_create(patient=patient)
    record_settings.emergency_opt_out = emergency_opt_out
    for name, value in notify.items():
        setattr(record_settings, name, value)
    record_settings.save()
    try:
        return give_contact_email(patient, contact_email, client_address=client_address)
    except ContactEmailRefused as refusal:
        raise AccessError(refusal.message, field="contact_email") from refusal
