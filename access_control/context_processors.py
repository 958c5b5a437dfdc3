"""The emergency banner: what every page shows a practitioner under an emergency access.

Here rather than in the ground package: it asks the door, and the ground knows no app (settings
name this processor by its dotted path)."""

from __future__ import annotations

from access_control.models import EmergencyAccess
from access_control.policy import decide
from audit.models import Action


def emergency(request):
    return {"emergency_until": _emergency_until(request)}


def _emergency_until(request):
    """A practitioner under an emergency access sees it on every page, until it ends, wherever
    the door would let it through (not after a block or an opt-out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != "practitioner":
        return None
    ends = []
    for access in (
        EmergencyAccess.objects.active().filter(practitioner=user).select_related("patient")
    ):
        decision = decide(user, access.patient, Action.LIST)
        if decision.allowed and decision.mode == "emergency":
            ends.append(access.ends_at)
    return max(ends, default=None)
