"""Reads of the accounts app."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import ActivationLink, PasskeyDevice, User


def hash_activation_token(token: str) -> str:
    # The token holds 256 random bits: a plain SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def usable_activation_link(
    *, token: str | None = None, link_id: int | None = None
) -> ActivationLink | None:
    """The activation link for this token (or id), if it is neither used nor expired."""
    links = ActivationLink.objects.select_related("user", "user__practitioner_profile")
    if token is not None:
        link = links.filter(token_hash=hash_activation_token(token)).first()
    elif link_id is not None:
        link = links.filter(pk=link_id).first()
    else:
        return None
    return link if link is not None and link.is_usable() else None


def has_second_factor(user: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or PasskeyDevice.objects.filter(user=user, confirmed=True).exists()
    )


def has_passkey(user: User) -> bool:
    return PasskeyDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class SecondFactors:
    """What the security page lists: never a secret, a code or a key."""

    apps: list[TOTPDevice]
    backup_codes_left: int | None  # None: no backup codes were ever made
    passkeys: list[PasskeyDevice]


def second_factors(user: User) -> SecondFactors:
    backup = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
    return SecondFactors(
        apps=list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")),
        backup_codes_left=backup.remaining() if backup is not None else None,
        passkeys=list(
            PasskeyDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")
        ),
    )
