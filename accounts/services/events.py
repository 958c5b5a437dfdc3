"""The accounts' events in the audit trail: logins, logouts, ended sessions, passkeys added,
removed and used, lifted throttles, new invitations.

A patient's event goes on their own chain (their history shows it); anyone else's, and an
identifier that matches no account, on the system chain. accounts' services sit on the domain
floor, above the trail (ARCHITECTURE.md: floor 5 over floor 3), so this module calls it directly and
every account service records through it; only accounts' models and lower floors know no app
(.importlinter, accounts-knows-no-app).
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User, UserKind
from audit.models import Action, Outcome
from audit.trail import record_event

ALLOWED, REFUSED = Outcome.ALLOWED.value, Outcome.REFUSED.value


def record_account_event(
    action: str,
    outcome: str,
    *,
    account: User | None,
    actor: User | None,
    client_address: str = "",
    reason: str = "",
) -> None:
    """One event about ``account`` (None: no such account), done by ``actor`` (None: someone
    not identified, such as a refused login step), in the caller's transaction if one is open,
    else in its own. ``reason``: a short code, never an identifier, an address, a code or a
    token."""
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
