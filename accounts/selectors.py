"""Reads of the accounts app."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.utils.crypto import constant_time_compare

from accounts.devices import TOTPDevice
from accounts.models import AccountSession, ActivationLink, User
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
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class OpenSession:
    key_hash: str  # the store's key (a keyed hash): what "end this session" posts
    browser: str  # "Firefox, Windows", or "" when not recognised
    network: str  # "192.0.2.x" or "2001:db8:42::/48", or "" when unknown
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
            started_at=row.started_at,
            last_seen_at=row.last_seen_at,
            current=row.key_hash == current,
        )
        for row in rows
    ]
