"""The accounts' events in the audit trail: a patient's on their own chain, anyone else's on the
system chain.

accounts sits under every app and imports none of them (.importlinter), the audit trail
included: the recorder is named in settings (``ACCOUNTS_AUDIT_RECORDER``, the trail's
``record_event``), as letters name the builders of their content. Call it inside the
transaction of the change it records.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User

ALLOWED = "allowed"
REFUSED = "refused"


def record_account_event(user: User, action: str, outcome: str, *, client_address: str) -> None:
    """Append ``action`` (a value of ``audit.models.Action``) by ``user`` about their own
    account. Never a code, a key or an address in it: the action and the outcome say it all."""
    record = import_string(settings.ACCOUNTS_AUDIT_RECORDER)
    record(
        actor=user,
        patient=user if user.is_patient else None,
        action=action,
        outcome=outcome,
        client_address=client_address,
    )
