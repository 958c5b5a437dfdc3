"""Reads of the accounts app."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare

from accounts.contact import email_lookup
from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import (
    AccountSession,
    ActivationLink,
    ContactEmail,
    ContactEmailChange,
    PasskeyDevice,
    PasswordResetLink,
    User,
    UserKind,
)
from accounts.sessions import hash_session_key


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


def verified_email(user: User) -> str | None:
    """The one address the portal may write to for ``user``: the contact address they
    confirmed by its link, else None. Every sender of e-mail to a person asks here (an address
    given and not yet confirmed receives its confirmation link, nothing else)."""
    contact = ContactEmail.objects.select_related("user__data_key").filter(user=user).first()
    if contact is None or not contact.address:  # none, or its data key was destroyed
        return None
    return str(contact.address)


def accounts_with_verified_email(address: str) -> list[User]:
    """The active patient and practitioner accounts whose verified contact address is
    ``address`` (found by its blind index; several accounts may share one)."""
    return [
        contact.user
        for contact in ContactEmail.objects.select_related("user").filter(
            lookup=email_lookup(address),
            user__is_active=True,
            user__kind__in=[UserKind.PATIENT, UserKind.PRACTITIONER],
        )
    ]


def pending_contact_email(user: User) -> ContactEmailChange | None:
    """The address ``user`` gave and has not confirmed yet, if any (the latest)."""
    return (
        ContactEmailChange.objects.select_related("user__data_key")
        .filter(
            user=user,
            done_at__isnull=True,
            superseded_at__isnull=True,
            address__isnull=False,
        )
        .order_by("-created_at")
        .first()
    )


def usable_contact_change(
    *, token: str | None = None, change_id: int | None = None
) -> ContactEmailChange | None:
    """The pending contact address change of this confirmation token (or id), if its link is
    neither used, superseded nor expired."""
    return _usable(ContactEmailChange.objects.select_related("user"), token, change_id)


def usable_reset_link(
    *, token: str | None = None, link_id: int | None = None
) -> PasswordResetLink | None:
    """The password reset link of this token (or id), if it is neither used nor expired."""
    return _usable(PasswordResetLink.objects.select_related("user"), token, link_id)


Link = TypeVar("Link", ContactEmailChange, PasswordResetLink)


def _usable(links: QuerySet[Link], token: str | None, pk: int | None) -> Link | None:
    """The row an e-mailed token (found by its hash) or, once the token left the address bar,
    an id kept in the session names, if its link still works."""
    if token is not None:
        link = links.filter(token_hash=hash_activation_token(token)).first()
    elif pk is not None:
        link = links.filter(pk=pk).first()
    else:
        return None
    return link if link is not None and link.is_usable() else None


@dataclass(frozen=True)
class OpenSession:
    key_hash: str  # the store's key (a keyed hash): what "end this session" posts
    browser: str  # "Firefox, Windows", or "" when not recognised
    network: str  # "192.0.2.x" or "2001:db8:42::/48", or "" when unknown
    place: str  # "Lyon, France", "France", or "" (no place database, or no place for it)
    started_at: datetime | None
    last_seen_at: datetime | None
    current: bool  # the session this page is shown in


def open_sessions(user: User, current_session_key: str | None) -> list[OpenSession]:
    """The sessions of ``user`` the portal would still accept, the current one first, then the
    latest active. A session signed in with a password since changed is left out: Django
    refuses it at its next request (the session auth hash), so it is not open."""
    current = hash_session_key(current_session_key) if current_session_key else ""
    auth_hash = user.get_session_auth_hash()
    rows = [
        row
        for row in AccountSession.objects.filter(user=user).alive().order_by("-last_seen_at")
        if constant_time_compare(row.session_auth_hash(), auth_hash)
    ]
    rows.sort(key=lambda row: row.key_hash != current)  # stable: the rest stay in order
    return [
        OpenSession(
            key_hash=row.key_hash,
            browser=row.browser,
            network=row.network,
            place=row.place,
            started_at=row.started_at,
            last_seen_at=row.last_seen_at,
            current=row.key_hash == current,
        )
        for row in rows
    ]
