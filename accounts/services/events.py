"""The accounts app's events in the audit trail: logins, logouts, ended sessions, lifted
throttles, new invitations.

accounts knows no app above it (``.importlinter``: accounts-knows-no-app), and the trail sits
above it (its events point to accounts), so the recorder is named by string in settings
(``ACCOUNT_EVENTS_RECORDER``), as letters names the builders of its letters.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User

ALLOWED, REFUSED = "allowed", "refused"


def record_account_event(
    action: str,
    outcome: str,
    *,
    account: User | None,
    actor: User | None,
    client_address: str = "",
    reason: str = "",
) -> None:
    """Append one event on ``account``'s chain (a patient's own, else the system chain), in its
    own transaction, or the caller's if one is open. ``reason``: a short code, never an
    identifier, an address, a code or a token."""
    import_string(settings.ACCOUNT_EVENTS_RECORDER)(
        action=action,
        outcome=outcome,
        account=account,
        actor=actor,
        client_address=client_address,
        reason=reason,
    )
