from django.conf import settings


def portal(request):
    return {
        "dmp_env": settings.DMP_ENV,
        "session_idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
        "emergency_until": _emergency_until(request),
    }


def _emergency_until(request):
    """A practitioner under an emergency access sees it on every page, until it ends."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != "practitioner":
        return None
    from django.db.models import Max
    from django.utils import timezone

    from access_control.models import EmergencyAccess

    return EmergencyAccess.objects.filter(practitioner=user, ends_at__gt=timezone.now()).aggregate(
        Max("ends_at")
    )["ends_at__max"]
