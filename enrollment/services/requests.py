"""Asking for a creation code: one answer for every number, the decision taken in the back.

The web request validates the format, stores the request with the NIR's blind index and queues
a task, the same work whatever the registry holds; the task decides whether a letter goes out:
a creation letter, or, when the person's record already exists, a reactivation letter (a new
code that lets its holder choose a new password; the account works as before until then).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.throttling import Throttle
from audit.models import Action, Outcome
from audit.trail import record_event
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.queueing import enqueue, enqueue_on_commit
from enrollment.models import Beneficiary, CreationCode, EnrollmentRequest, RequestOutcome
from enrollment.services.minors import is_minor, minor_outcome, request_representative_letters
from enrollment.services.registry import (
    CODE_LETTERS,
    CREATION_LETTER,
    REACTIVATION_LETTER,
    nir_index,
)
from letters.models import Letter, LetterState
from letters.services import request_letter

ADULT_AGE = 18


class TryLater(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def request_code(client: str, normalised_nir: str) -> None:
    """Record a valid request from ``client`` (its address). Raises TryLater when this client
    asked too often."""
    client_wait = Throttle(
        "enrol-client", settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR, 3600
    ).attempt(client)
    if client_wait:
        raise TryLater(client_wait)
    index = nir_index(normalised_nir)
    # Beyond a few requests a day for one number, nothing more is recorded; the answer is the
    # same, so this tells nothing either.
    if Throttle("enrol-nir", settings.ENROLLMENT_REQUESTS_PER_NIR_PER_DAY, 86400).attempt(index):
        return
    with transaction.atomic():
        enrollment_request = EnrollmentRequest.objects.create(nir_index=index)
        request_id = enrollment_request.pk
        enqueue_on_commit("enrollment.tasks.process_enrollment_request", request_id)


def process_request(request_id: int) -> str:
    """Decide, in the background, whether a letter goes out; idempotent."""
    with transaction.atomic():
        enrollment_request = (
            EnrollmentRequest.objects.select_for_update().filter(pk=request_id).first()
        )
        if enrollment_request is None or enrollment_request.processed_at is not None:
            return ""
        beneficiary = (
            Beneficiary.objects.select_for_update(of=("self",))
            .select_related("data_key", "patient")
            .filter(nir_index=enrollment_request.nir_index)
            .first()
        )
        outcome = _outcome(beneficiary)
        if outcome == RequestOutcome.REPRESENTATIVES and beneficiary is not None:
            request_representative_letters(beneficiary, timezone.now())
        elif outcome == RequestOutcome.LETTER and beneficiary is not None:  # a letter: a person
            request_letter(CREATION_LETTER, beneficiary.uid, beneficiary.data_key)
        elif outcome == RequestOutcome.REACTIVATION and beneficiary is not None:
            request_letter(REACTIVATION_LETTER, beneficiary.uid, beneficiary.data_key)
            # On the patient's own chain, so that their history shows that someone asked.
            record_event(
                actor=None,
                patient=beneficiary.patient,
                action=Action.REQUEST_REACTIVATION,
                outcome=Outcome.ALLOWED,
            )
        enrollment_request.outcome = outcome
        enrollment_request.processed_at = timezone.now()
        enrollment_request.save(update_fields=["outcome", "processed_at"])
    return outcome


def _outcome(beneficiary: Beneficiary | None) -> str:
    if beneficiary is None:
        return RequestOutcome.UNKNOWN
    # First: an opposed person gets no letter of any kind (the page said the same to them as
    # to anyone, and the web request did the same work).
    if beneficiary.opposed_at is not None:
        return RequestOutcome.OPPOSED
    # A minor (their record opened by a representative or not): letters to the legal
    # representatives only, never a code of their own (services.minors).
    if is_minor(beneficiary, timezone.localdate()):
        return minor_outcome(beneficiary, timezone.now())
    if beneficiary.patient is not None:
        if not beneficiary.patient.is_active or is_destroyed(beneficiary.address):
            return RequestOutcome.ENROLLED
        if _letter_recently_sent(beneficiary):
            return RequestOutcome.CODE_PENDING
        return RequestOutcome.REACTIVATION
    if is_destroyed(beneficiary.birth_date):
        return RequestOutcome.UNKNOWN
    if beneficiary.age_on(timezone.localdate()) < ADULT_AGE:
        return RequestOutcome.MINOR
    if _letter_recently_sent(beneficiary):
        return RequestOutcome.CODE_PENDING
    return RequestOutcome.LETTER


def _letter_recently_sent(beneficiary: Beneficiary) -> bool:
    """A letter is on its way, or a code was sent less than the resend delay ago and is still
    valid or was burned by wrong tries (a burned code must not start a letter at once)."""
    now = timezone.now()
    since = now - timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS)
    in_flight = Letter.objects.filter(
        kind__in=CODE_LETTERS,
        subject_uid=beneficiary.uid,
        requested_at__gte=since,
        state=LetterState.REQUESTED,
    ).exists()
    recent_code = (
        CreationCode.objects.filter(beneficiary=beneficiary)
        .holding_back_letters(since, now)
        .exists()
    )
    return in_flight or recent_code


def requeue_stalled(older_than_minutes: int = 15) -> int:
    """Queue again the requests whose task was lost (processing is idempotent)."""
    since = timezone.now() - timedelta(minutes=older_than_minutes)
    stalled = list(
        EnrollmentRequest.objects.filter(
            processed_at__isnull=True, created_at__lt=since
        ).values_list("pk", flat=True)[:1000]
    )
    for request_id in stalled:
        enqueue("enrollment.tasks.process_enrollment_request", request_id)
    return len(stalled)
