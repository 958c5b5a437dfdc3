from django.conf import settings


def portal(request):
    return {
        "dmp_env": settings.DMP_ENV,
        "session_idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
        "session_idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
    }
