"""Activating a record with the letter's code: checked, then consumed with the account.

Every refusal (unknown number, wrong code, expired, used, superseded or burned code) gets the
same answer, and guessing is slowed per number whether or not the number is known.
"""

from __future__ import annotations

import hmac
import math
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.models import User, UserKind
from accounts.throttling import Throttle
from dmp_portal.http import client_address
from enrollment import codes
from enrollment.models import Beneficiary, CreationCode
from enrollment.services.registry import nir_index
from enrollment.services.requests import TryLater


class ActivationRefused(Exception):
    def __init__(self) -> None:
        super().__init__(
            _(
                "This number and this code do not match a valid creation code. Check "
                "what you typed, or ask for a new code."
            )
        )
        self.message = self.args[0]


MAX_DELAY_SECONDS = 3600  # the delay stops doubling at an hour: slowed, never locked out
FAILURE_MEMORY_SECONDS = 86400


def _failure_keys(index: str) -> tuple[str, str]:
    return f"enrol-code-failures:{index}", f"enrol-code-last-failure:{index}"


def _wait_for(index: str) -> int:
    """Free tries first, then a delay that doubles with each failure (1, 2, 4... minutes, at
    most an hour)."""
    count_key, last_key = _failure_keys(index)
    failures = cache.get(count_key, 0)
    free = settings.ENROLLMENT_CODE_FREE_FAILURES
    if failures < free:
        return 0
    delay = min(60 * 2 ** (failures - free), MAX_DELAY_SECONDS)
    return max(0, math.ceil(cache.get(last_key, 0.0) + delay - time.time()))


def _record_failure(index: str) -> None:
    count_key, last_key = _failure_keys(index)
    # incr is atomic: a burst of parallel guesses cannot all see the same count.
    cache.add(count_key, 0, timeout=FAILURE_MEMORY_SECONDS)
    try:
        cache.incr(count_key)
    except ValueError:
        cache.set(count_key, 1, timeout=FAILURE_MEMORY_SECONDS)
    cache.set(last_key, time.time(), timeout=FAILURE_MEMORY_SECONDS)


def forget_failures(index: str) -> None:
    """A new code was issued, or the record activated: earlier wrong tries no longer count."""
    cache.delete_many(_failure_keys(index))


def check_code(request: HttpRequest, normalised_nir: str, typed_code: str) -> int:
    """The id of the creation code that this number and code open; raises otherwise."""
    client_wait = Throttle(
        "enrol-code-client", settings.ENROLLMENT_CODE_TRIES_PER_CLIENT, 3600
    ).attempt(client_address(request))
    index = nir_index(normalised_nir)
    wait = max(client_wait, _wait_for(index))
    if wait:
        raise TryLater(wait)
    code = codes.normalise(typed_code)
    with transaction.atomic():
        live = (
            CreationCode.objects.select_for_update()
            .filter(
                beneficiary__nir_index=index,
                used_at__isnull=True,
                superseded_at__isnull=True,
                burned_at__isnull=True,
            )
            .order_by("-created_at")
            .first()
        )
        if (
            live is not None
            and live.is_usable()
            and hmac.compare_digest(live.code_hash, codes.hash_code(code))
        ):
            return live.pk
        _record_failure(index)
        if live is not None:
            live.failed_attempts += 1
            live.last_failed_at = timezone.now()
            if live.failed_attempts >= settings.ENROLLMENT_CODE_MAX_FAILURES:
                live.burned_at = live.last_failed_at
            live.save(update_fields=["failed_attempts", "last_failed_at", "burned_at"])
    raise ActivationRefused()


def password_holder(code_id: int) -> User:
    """An unsaved patient account carrying what the password must not contain."""
    code = CreationCode.objects.select_related("beneficiary__data_key").get(pk=code_id)
    beneficiary = code.beneficiary
    holder = User(kind=UserKind.PATIENT, username="")
    holder._password_personal_data = [
        beneficiary.nir,
        beneficiary.birth_date,
        beneficiary.first_name,
        beneficiary.last_name,
    ]
    return holder


def _new_identifier() -> str:
    """A login identifier: 10 digits, easy to type, not derived from anything about the person."""
    while True:
        candidate = f"{secrets.randbelow(9 * 10**9) + 10**9}"
        if not User.objects.filter(username=candidate).exists():
            return candidate


@sensitive_variables("password")
def activate(code_id: int, password: str) -> User:
    """Consume the code and create the patient account in one transaction.

    The code row is locked: two simultaneous activations with one code create one account.
    """
    with transaction.atomic():
        code = (
            CreationCode.objects.select_for_update()
            .select_related("beneficiary")
            .filter(pk=code_id)
            .first()
        )
        if code is None or not code.is_usable():
            raise ActivationRefused()
        beneficiary = (
            Beneficiary.objects.select_for_update()
            .select_related("data_key")
            .get(pk=code.beneficiary_id)
        )
        if beneficiary.patient_id is not None:
            raise ActivationRefused()
        now = timezone.now()
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    _new_identifier(),
                    password,
                    kind=UserKind.PATIENT,
                    data_key=beneficiary.data_key,
                )
        except IntegrityError as exc:  # the identifier was taken between check and insert
            raise ActivationRefused() from exc
        Beneficiary.objects.filter(pk=beneficiary.pk).update(patient=user)
        code.used_at = now
        code.save(update_fields=["used_at"])
        CreationCode.objects.filter(
            beneficiary=beneficiary, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
    forget_failures(beneficiary.nir_index)
    return user
