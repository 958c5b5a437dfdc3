"""Creation codes: issued (hashed) for a letter, superseded by a newer one or a returned letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from enrollment import codes
from enrollment.models import Beneficiary, CodePurpose, CreationCode, CreationCodeQuerySet
from enrollment.services.activation import forget_failures


@dataclass(frozen=True)
class IssuedCode:
    code: str  # in clear: printed in the letter, then forgotten
    issued_on: date
    expires_on: date
    # What wrong tries did to the code this one replaces, for the letter to tell its holder.
    previous_blocked_on: date | None = None
    previous_tried_on: date | None = None


def _live(beneficiary: Beneficiary) -> CreationCodeQuerySet:
    return CreationCode.objects.filter(beneficiary=beneficiary).live()


def _previous_trouble(
    beneficiary: Beneficiary, representative: Beneficiary | None = None
) -> tuple[date | None, date | None]:
    """(day the previous code was burned, day of its last wrong try if it was slowed down).

    Only the latest code counts: an earlier one was already reported by the letter that
    replaced it. A code replaced by a returned letter never reached its holder: nothing to say.
    Nor when the latest code was used (the record was opened or reactivated with it): what
    happened to codes before it is over.
    """
    previous = (
        CreationCode.objects.filter(beneficiary=beneficiary, representative=representative)
        .order_by("-created_at")
        .first()
    )
    if previous is None or previous.used_at is not None:
        return None, None
    if previous.burned_at is not None:
        return timezone.localdate(previous.burned_at), None
    if (
        previous.superseded_at is None
        and previous.last_failed_at is not None
        and previous.failed_attempts >= settings.ENROLLMENT_CODE_FREE_FAILURES
    ):
        return None, timezone.localdate(previous.last_failed_at)
    return None, None


def issue_code(
    beneficiary: Beneficiary,
    purpose: str = CodePurpose.CREATION,
    representative: Beneficiary | None = None,
) -> IssuedCode:
    """A new code for this person (call inside the letter's transaction, the row locked):
    ``purpose`` says whether it creates the record or reactivates its account; a minor's code
    names the ``representative`` it is for (``CodePurpose.REPRESENTATION``).

    Older codes stop working (a representative's code: only that representative's older ones,
    each representative has their own letter), and earlier wrong tries on this number are
    forgotten, so that a stranger's guesses cannot keep the person from using the code of
    their new letter.
    """
    now = timezone.now()
    previous_blocked_on, previous_tried_on = _previous_trouble(beneficiary, representative)
    older = _live(beneficiary)
    if representative is not None:
        older = older.filter(representative=representative)
    older.update(superseded_at=now)
    issued_on = timezone.localdate(now)
    expires_on = issued_on + timedelta(days=settings.ENROLLMENT_CODE_VALIDITY_DAYS)
    # Valid until the end of the printed day, in France's time zone.
    expires_at = timezone.make_aware(datetime.combine(expires_on + timedelta(days=1), time.min))
    code = codes.generate()
    CreationCode.objects.create(
        beneficiary=beneficiary,
        code_hash=codes.hash_code(code),
        purpose=purpose,
        representative=representative,
        created_at=now,
        expires_at=expires_at,
    )
    forget_failures(beneficiary.nir_index)
    return IssuedCode(
        code=code,
        issued_on=issued_on,
        expires_on=expires_on,
        previous_blocked_on=previous_blocked_on,
        previous_tried_on=previous_tried_on,
    )


def letter_returned(subject_uid: UUID) -> None:
    """The letter came back undelivered: its code must not be usable by whoever holds it."""
    beneficiary = Beneficiary.objects.filter(uid=subject_uid).first()
    if beneficiary is not None:
        _live(beneficiary).update(superseded_at=timezone.now())
