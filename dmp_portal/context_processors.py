from django.conf import settings


def portal(request):
    return {
        "dmp_env": settings.DMP_ENV,
        "session_idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
        "session_idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        "emergency_until": _emergency_until(request),
    }


def _emergency_until(request):
    """A practitioner under an emergency access sees it on every page, until it ends, wherever
    the door would let it through (not after a block or an opt-out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != "practitioner":
        return None

    from access_control.models import EmergencyAccess
    from access_control.policy import decide

    ends = []
    for access in (
        EmergencyAccess.objects.active().filter(practitioner=user).select_related("patient")
    ):
        decision = decide(user, access.patient, "list")
        if decision.allowed and decision.mode == "emergency":
            ends.append(access.ends_at)
    return max(ends, default=None)
