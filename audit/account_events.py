"""Logins, logouts and ended sessions in the audit trail.

The accounts app knows no app above it, so it names this recorder by string
(``settings.ACCOUNT_EVENTS_RECORDER``), as letters names its builders. The chain is the
account's: a patient's own chain (their history shows it), the system chain for everyone else
and for an identifier that matches no account.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User, UserKind
from audit.models import Action, Outcome
from audit.trail import record_event


def record_account_event(
    *,
    action: str,
    outcome: str,
    account: User | None,
    actor: User | None,
    client_address: str = "",
    reason: str = "",
) -> None:
    """One event about ``account`` (None: no such account), done by ``actor`` (None: someone
    not identified, such as a refused login). ``reason``: a short code, never an identifier,
    an address, a code or a token."""
    patient = account if account is not None and account.kind == UserKind.PATIENT else None
    with transaction.atomic():
        record_event(
            actor=actor,
            patient=patient,
            action=Action(action),
            outcome=Outcome(outcome),
            reason=reason,
            client_address=client_address,
        )
