"""Activating a record with the letter's code: checked, then consumed with the account.

A reactivation code (the record exists: see ``services.requests``) is checked the same way;
consuming it gives the existing account a new password, removes every second factor (the next
login sets one up again) and, through the password, ends every session of the account; the
login identifier, the record and its data key stay. Both openings are recorded on the
patient's chain and announced by post and e-mail (``services.notices``).

Every refusal (unknown number, wrong code, expired, used, superseded or burned code) gets the
same answer after the same statements and hashes (among them one refused ``activate`` event on
the system chain, reason ``bad-code``, naming neither the number nor the code), and guessing
is slowed per number whether or not the number is known. Every refusal writes the number's row
of wrong tries; when the number has a live code (expired included), that code's row is locked
and written as well, the one difference of work left (about 0.1 ms, 3 to 5 % of a try here;
see tests/enrollment/test_activation_uniform.py).

A minor's code (``CodePurpose.REPRESENTATION``, issue 17) opens nothing by itself: it
matches only for the legal representative it names, logged into their own account
(``services.representation.link_representative`` then does the rest). Typed by anyone else
logged in, it is refused like a wrong code, with the same statements, and counts as a wrong
try; typed by someone not logged in, ``LogInFirst`` asks them to log in (nothing counted: the code
matched). A minor may have one live code per representative, so a try compares the typed
code with a fixed number of slots (``_SLOTS``), the live codes padded with a dummy.
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import User, UserKind
from accounts.services.factors import remove_every_second_factor
from accounts.services.password import expire_reset_links
from accounts.services.sessions import end_other_sessions
from accounts.throttling import Throttle
from audit.models import Action, Outcome
from audit.trail import record_event
from enrollment import codes
from enrollment.models import (
    REPRESENTATIVES_AT_MOST,
    ActivationAttempts,
    Beneficiary,
    CodePurpose,
    CreationCode,
)
from enrollment.services.notices import announce_opening
from enrollment.services.registry import nir_index
from enrollment.services.requests import TryLater


class ActivationRefused(Exception):
    def __init__(self) -> None:
        super().__init__(
            _(
                "This number and this code do not match any valid code. Check what you "
                "typed, or ask for a new letter."
            )
        )
        self.message = self.args[0]


class LogInFirst(Exception):
    """A minor's right code, typed by someone not logged in: only a legal representative,
    logged into their own account, may use it. Nothing was counted or changed."""


MAX_DELAY_SECONDS = 3600  # the delay stops doubling at an hour: slowed, never locked out
FAILURE_MEMORY = timedelta(days=1)
# Compared with when no code is live, so that a refusal costs the same hashing either way.
_NO_CODE_HASH = "0" * 64
# Live codes a number can have at once: its own, or one per legal representative of a minor.
_SLOTS = REPRESENTATIVES_AT_MOST + 1
_NO_ROW_ID = 2**63 - 1
# Codes that give an existing account a new password, and what their use is recorded as: a
# reactivation's, and (issue 17) the young adult's who takes over their record at 18, never
# from within someone's session (services.majority).
EXISTING_ACCOUNT = {
    CodePurpose.REACTIVATION: Action.REACTIVATE,
    CodePurpose.MAJORITY: Action.TAKE_OVER,
}


def _wait_for(attempts: ActivationAttempts | None, now: datetime) -> int:
    """Free tries first, then a delay that doubles with each failure (1, 2, 4... minutes, at
    most an hour). Failures older than a day are forgotten."""
    if attempts is None or now - attempts.last_failed_at > FAILURE_MEMORY:
        return 0
    free = settings.ENROLLMENT_CODE_FREE_FAILURES
    if attempts.failures < free:
        return 0
    delay = min(60 * 2 ** (attempts.failures - free), MAX_DELAY_SECONDS)
    elapsed = (now - attempts.last_failed_at).total_seconds()
    return max(0, math.ceil(delay - elapsed))


def _record_failure(index: str, now: datetime) -> None:
    """Count a wrong try for this number: one upsert, the same statement whether the number is
    known or not, and atomic, so that parallel guesses cannot all count as one."""
    # In SQL: Django's bulk_create(update_conflicts=True) can only copy the new row's values
    # on a conflict, not add one to the stored count.
    table = ActivationAttempts._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (nir_index, failures, last_failed_at) VALUES (%s, 1, %s) "  # noqa: S608 - table name from the model
            f"ON CONFLICT (nir_index) DO UPDATE SET failures = CASE "
            f"WHEN {table}.last_failed_at < %s THEN 1 ELSE {table}.failures + 1 END, "
            "last_failed_at = EXCLUDED.last_failed_at",
            [index, now, now - FAILURE_MEMORY],
        )


def _count_on_codes(code_ids: list[int], now: datetime) -> None:
    """Count a wrong try on the live codes, burning each at the limit. One statement, run even
    when no code is live (it then matches no row and writes nothing), its list padded to the
    same length, so that the statements do not differ; only the writes of the codes' rows do."""
    # Padded with ids no row has (the top of the bigint sequence), all different: Django drops
    # repeated values from IN.
    padding = [_NO_ROW_ID - slot for slot in range(_SLOTS - len(code_ids))]
    CreationCode.objects.filter(pk__in=code_ids + padding).update(
        failed_attempts=F("failed_attempts") + 1,
        last_failed_at=now,
        burned_at=Case(
            When(failed_attempts__gte=settings.ENROLLMENT_CODE_MAX_FAILURES - 1, then=Value(now)),
            default=F("burned_at"),
        ),
    )


def forget_failures(index: str) -> None:
    """A new code was issued, or the record activated: earlier wrong tries no longer count."""
    ActivationAttempts.objects.filter(nir_index=index).delete()


def forget_old_failures() -> int:
    """Wrong tries older than a day count for nothing any more: delete them."""
    deleted, _by_model = ActivationAttempts.objects.filter(
        last_failed_at__lt=timezone.now() - FAILURE_MEMORY
    ).delete()
    return deleted


def _registry_id(user: User | None) -> int | None:
    """The registry row of a logged-in person, asked whatever the code (one statement per try
    of a logged-in client), so that a refusal's work does not tell a minor's right code."""
    if user is None:
        return None
    return Beneficiary.objects.filter(patient_id=user.pk).values_list("pk", flat=True).first()


def _matching(live: list[CreationCode], typed_hash: str, now: datetime) -> CreationCode | None:
    """The usable live code the typed one is, after one constant-time comparison per slot."""
    found = None
    for slot in range(_SLOTS):
        code = live[slot] if slot < len(live) else None
        usable = code is not None and code.is_usable(now)
        stored = code.code_hash if code is not None and usable else _NO_CODE_HASH
        if hmac.compare_digest(stored, typed_hash) and usable:
            found = code
    return found


def check_code(
    client: str,
    normalised_nir: str,
    typed_code: str,
    user: User | None = None,
    *,
    signed_in: bool = False,
) -> int:
    """The id of the creation code that this number and code open; raises otherwise.
    ``user``: who is logged in with both factors (None: nobody), for a minor's code (see the
    module's docstring); ``signed_in``: any session at all, which refuses a takeover code.

    Every refusal runs the same keyed hashes and the same statements in the same order (read
    the tries, read and lock the live code, count the try for the number, count it on the
    code), whatever the registry holds, so that neither the answer nor its timing (within
    noise) tells whether the number is known or has a live code. The rows written differ in
    one way: the live code's row, when there is one (see the module's docstring).
    """
    client_wait = Throttle(
        "enrol-code-client", settings.ENROLLMENT_CODE_TRIES_PER_CLIENT, 3600
    ).attempt(client)
    index = nir_index(normalised_nir)
    typed_hash = codes.hash_code(typed_code)
    now = timezone.now()
    own_registry_id = _registry_id(user)
    attempts = ActivationAttempts.objects.filter(nir_index=index).first()
    wait = max(client_wait, _wait_for(attempts, now))
    if wait:
        raise TryLater(wait)
    with transaction.atomic():
        live = list(
            CreationCode.objects.select_for_update()
            .filter(beneficiary__nir_index=index)
            .live()
            .order_by("-created_at")[:_SLOTS]
        )
        # Always the same constant-time comparisons, against a dummy where no code is live.
        found = _matching(live, typed_hash, now)
        # A takeover code within someone's session is refused as a wrong one (services.majority).
        if found is not None and signed_in and found.purpose == CodePurpose.MAJORITY:
            found = None
        if found is not None and found.purpose != CodePurpose.REPRESENTATION:
            return found.pk
        if found is not None and user is None:
            raise LogInFirst
        if found is not None and found.representative_id == own_registry_id:
            return found.pk
        # Anything else, a minor's code typed by someone it does not name included.
        _record_failure(index, now)
        _count_on_codes([code.pk for code in live], now)
        # One refused event on the system chain, in no one's name, the same for every number
        # (no number, no code, no record named): the trail keeps the try without a clue.
        record_event(
            actor=None,
            patient=None,
            action=Action.ACTIVATE,
            outcome=Outcome.REFUSED,
            reason="bad-code",
            client_address=client,
        )
    raise ActivationRefused()


def is_representation(code_id: int) -> bool:
    """Whether this (checked) code is a minor's, for the logged-in representative."""
    return CreationCode.objects.filter(pk=code_id, purpose=CodePurpose.REPRESENTATION).exists()


def is_reactivation(code_id: int) -> bool:
    """Whether this (checked) code reactivates an existing account rather than creates one."""
    return CreationCode.objects.filter(pk=code_id, purpose=CodePurpose.REACTIVATION).exists()


def password_holder(code_id: int) -> User:
    """The account the password is for, carrying what the password must not contain: the
    existing one for a reactivation (not changed here), else an unsaved patient account."""
    code = CreationCode.objects.select_related("beneficiary__data_key", "beneficiary__patient").get(
        pk=code_id
    )
    beneficiary = code.beneficiary
    holder = User(kind=UserKind.PATIENT, username="")
    if code.purpose in EXISTING_ACCOUNT and beneficiary.patient is not None:
        holder = beneficiary.patient
    holder._password_personal_data = [
        beneficiary.nir,
        beneficiary.birth_date,
        beneficiary.first_name,
        beneficiary.last_name,
    ]
    return holder


def new_identifier() -> str:
    """A login identifier: 10 digits, easy to type, not derived from anything about the person."""
    while True:
        candidate = f"{secrets.randbelow(9 * 10**9) + 10**9}"
        if not User.objects.filter(username=candidate).exists():
            return candidate


@sensitive_variables("password")
def activate(
    code_id: int, password: str, client_address: str = "", *, signed_in: bool = False
) -> User:
    """Consume the code and create the patient account, or reactivate it, in one transaction.

    The code row is locked: two simultaneous activations with one code open one account.
    """
    with transaction.atomic():
        code = (
            CreationCode.objects.select_for_update()
            .select_related("beneficiary")
            .filter(pk=code_id)
            .first()
        )
        # A minor's code creates no login: only services.representation uses it.
        if code is None or not code.is_usable() or code.purpose == CodePurpose.REPRESENTATION:
            raise ActivationRefused()
        if signed_in and code.purpose == CodePurpose.MAJORITY:
            raise ActivationRefused()
        beneficiary = (
            Beneficiary.objects.select_for_update(of=("self",))
            .select_related("data_key", "patient")
            .get(pk=code.beneficiary_id)
        )
        if code.purpose in EXISTING_ACCOUNT:
            user = _reactivate(beneficiary, password, client_address)
            action = EXISTING_ACCOUNT[CodePurpose(code.purpose)]
        else:
            user, action = _create(beneficiary, password), Action.ACTIVATE
        now = timezone.now()
        code.used_at = now
        code.save(update_fields=["used_at"])
        CreationCode.objects.filter(
            beneficiary=beneficiary, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        forget_failures(beneficiary.nir_index)
        # No actor: whoever held the letter's code, not yet logged in. So the event is among
        # what others did, where the patient looks first.
        event = record_event(
            actor=None,
            patient=user,
            action=action,
            outcome=Outcome.ALLOWED,
            client_address=client_address,
        )
        announce_opening(beneficiary, event)
    return user


@sensitive_variables("password")
def _create(beneficiary: Beneficiary, password: str) -> User:
    if beneficiary.patient_id is not None:
        raise ActivationRefused()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                new_identifier(),
                password,
                kind=UserKind.PATIENT,
                data_key=beneficiary.data_key,
            )
    except IntegrityError as exc:  # the identifier was taken between check and insert
        raise ActivationRefused() from exc
    Beneficiary.objects.filter(pk=beneficiary.pk).update(patient=user)
    return user


@sensitive_variables("password")
def _reactivate(beneficiary: Beneficiary, password: str, client_address: str) -> User:
    """The same account, identifier, record and data key; a new password (which ends every
    session: Django's session auth hash), no second factor any more, and no password reset link
    left: one asked before (perhaps by whoever holds the mailbox, the reason to reactivate)
    would otherwise set a password on an account with no factor, whose holder sets up theirs."""
    user = beneficiary.patient
    if user is None or not user.is_active:
        raise ActivationRefused()
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    remove_every_second_factor(user)
    expire_reset_links(user)
    # Out of the store at once (the new password already makes Django refuse them).
    end_other_sessions(
        user, None, client_address=client_address, reason="reactivation", unproven=True
    )
    return user
