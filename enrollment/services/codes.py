"""Creation codes: issued (hashed) for a letter, superseded by a newer one or a returned letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from enrollment import codes
from enrollment.models import (
    ActivationAttempts,
    Beneficiary,
    CodePurpose,
    CreationCode,
    CreationCodeQuerySet,
)
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
        .values_list(*_PREVIOUS_COLUMNS)
        .first()
    )
    return _trouble(previous)


# What the previous code's trouble is read from (``_trouble``), in this order.
_PREVIOUS_COLUMNS = ("used_at", "burned_at", "superseded_at", "last_failed_at", "failed_attempts")


# The previous code's ``_PREVIOUS_COLUMNS``.
_Previous = tuple[datetime | None, datetime | None, datetime | None, datetime | None, int]


def _trouble(previous: _Previous | None) -> tuple[date | None, date | None]:
    """``_previous_trouble`` from the previous code's ``_PREVIOUS_COLUMNS`` (None: no code)."""
    if previous is None:
        return None, None
    used_at, burned_at, superseded_at, last_failed_at, failed_attempts = previous
    if used_at is not None:
        return None, None
    if burned_at is not None:
        return timezone.localdate(burned_at), None
    if (
        superseded_at is None
        and last_failed_at is not None
        and failed_attempts >= settings.ENROLLMENT_CODE_FREE_FAILURES
    ):
        return None, timezone.localdate(last_failed_at)
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
    issued_on = timezone.localdate(now)
    expires_on = issued_on + timedelta(days=settings.ENROLLMENT_CODE_VALIDITY_DAYS)
    # Valid until the end of the printed day, in France's time zone.
    expires_at = timezone.make_aware(datetime.combine(expires_on + timedelta(days=1), time.min))
    code = codes.generate()
    new = CreationCode(
        beneficiary=beneficiary,
        code_hash=codes.hash_code(code),
        purpose=purpose,
        representative=representative,
        created_at=now,
        expires_at=expires_at,
    )
    if transaction.get_connection().vendor == "postgresql":
        previous_blocked_on, previous_tried_on = _issue_in_one_statement(new, beneficiary)
    else:
        # The development SQLite database has no data-modifying WITH: one statement each.
        previous_blocked_on, previous_tried_on = _previous_trouble(beneficiary, representative)
        older = _live(beneficiary)
        if representative is not None:
            older = older.filter(representative=representative)
        older.update(superseded_at=now)
        new.save()
        forget_failures(beneficiary.nir_index)
    return IssuedCode(
        code=code,
        issued_on=issued_on,
        expires_on=expires_on,
        previous_blocked_on=previous_blocked_on,
        previous_tried_on=previous_tried_on,
    )


# ``issue_code`` on PostgreSQL: the previous code read, the older live codes superseded, the new
# code inserted (its hash only) and the number's wrong tries forgotten, in one round trip
# instead of four (issue 20, item 8). Every part of a WITH sees the same snapshot, taken before
# any of them writes: ``previous`` reads the codes as they were before the supersede, as the
# read before the UPDATE did, and the UPDATE does not see the inserted row. Data-modifying parts
# run to completion whether or not the main query reads them. The placeholders {previous_rep}
# and {older_rep} choose the representative's condition (none for the older codes of a person's
# own letter, as ``_live`` without a filter); the table and column names come from the models.
# Lock order: PostgreSQL runs the parts no one reads last first, which deleted (and locked) the
# number's wrong tries before the live codes, the reverse of a wrong try (``check_code``: the
# live codes locked, then the tries' row), and the two deadlocked. The DELETE reads
# ``superseded`` so that the codes are locked first, as the four statements did.
_ISSUE_SQL = """
WITH previous AS (
    SELECT {columns} FROM {codes}
    WHERE beneficiary_id = %s AND {previous_rep}
    ORDER BY created_at DESC LIMIT 1
), superseded AS (
    UPDATE {codes} SET superseded_at = %s
    WHERE beneficiary_id = %s AND used_at IS NULL AND superseded_at IS NULL
        AND burned_at IS NULL{older_rep}
    RETURNING 1
), issued AS (
    INSERT INTO {codes} (
        beneficiary_id, code_hash, purpose, representative_id, created_at, expires_at,
        used_at, superseded_at, burned_at, failed_attempts, last_failed_at
    )
    VALUES (%s, %s, %s, %s, %s, %s, NULL, NULL, NULL, 0, NULL)
), forgotten AS (
    DELETE FROM {attempts} WHERE nir_index = %s AND (SELECT count(*) FROM superseded) >= 0
)
SELECT {columns} FROM previous
"""


def _issue_in_one_statement(
    new: CreationCode, beneficiary: Beneficiary
) -> tuple[date | None, date | None]:
    """Write ``new`` as ``issue_code`` does, in one statement (``_ISSUE_SQL``); returns the
    previous code's trouble (``_previous_trouble``)."""
    rep = new.representative_id
    sql = _ISSUE_SQL.format(
        columns=", ".join(_PREVIOUS_COLUMNS),
        codes=CreationCode._meta.db_table,
        attempts=ActivationAttempts._meta.db_table,
        previous_rep="representative_id IS NULL" if rep is None else "representative_id = %s",
        older_rep="" if rep is None else " AND representative_id = %s",
    )
    rep_param = [] if rep is None else [rep]
    params = [
        beneficiary.pk,
        *rep_param,
        new.created_at,
        beneficiary.pk,
        *rep_param,
        beneficiary.pk,
        new.code_hash,
        new.purpose,
        rep,
        new.created_at,
        new.expires_at,
        beneficiary.nir_index,
    ]
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return _trouble(cursor.fetchone())


def letter_returned(subject_uid: UUID) -> None:
    """The letter came back undelivered: its code must not be usable by whoever holds it."""
    beneficiary = Beneficiary.objects.filter(uid=subject_uid).first()
    if beneficiary is not None:
        _live(beneficiary).update(superseded_at=timezone.now())
