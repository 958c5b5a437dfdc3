"""Removing an account's second factors, when a stronger proof than them was given.

Used by the postal reactivation (enrolment's letter to the Vitale address): whoever holds the
new code proves more than any factor the account had, and the factors may be lost or in other
hands. Confirmed or pending, every one goes, so that the next login forces a new setup.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import BackupCodeDevice, PasskeyDevice, TOTPDevice, User


@transaction.atomic
def remove_every_second_factor(user: User) -> int:
    """Delete every authenticator app, passkey and set of backup codes of ``user`` (the codes
    with their set); returns how many devices went. Call in the caller's transaction."""
    removed = 0
    for model in (TOTPDevice, PasskeyDevice, BackupCodeDevice):
        _total, by_model = model.objects.filter(user=user).delete()
        removed += by_model.get(model._meta.label, 0)
    return removed
