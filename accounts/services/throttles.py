"""Staff lift a login throttle (issue 15, item 9): the person locked out by a cool-off (their
own mistakes, or someone guessing at their account) may try again at once."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import ThrottleLock, User
from accounts.services.events import ALLOWED, record_account_event
from accounts.throttling import lift

# What each login throttle counts, in words for staff (accounts/services/authentication.py).
SCOPE_LABELS = {
    "password-pair": _("Password: one identifier from one network"),
    "password-account": _("Password: one identifier from every network"),
    "password-client": _("Password: every identifier from one network"),
    "otp-pair": _("Security code: one account from one network"),
    "otp-account": _("Security code: one account from every network"),
    "otp-client": _("Security code: every account from one network"),
}


class ThrottleNotFound(Exception):
    """No such throttle holds now (lifted meanwhile, or ended): nothing changed."""


@transaction.atomic
def lift_throttle(lock_id: int | str, *, staff: User, client_address: str) -> None:
    """Lift the throttle: its counters leave the cache, its row goes, and the trail records it
    in ``staff``'s name (on the patient's own chain when it named a patient's account)."""
    lock = ThrottleLock.objects.select_for_update().holding().filter(pk=lock_id).first()
    if lock is None:
        raise ThrottleNotFound
    lift(lock.scope, lock.key_digest)
    account, scope = lock.account, lock.scope
    lock.delete()
    record_account_event(
        "lift-throttle",
        ALLOWED,
        account=account,
        actor=staff,
        client_address=client_address,
        reason=scope,
    )
