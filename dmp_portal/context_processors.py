from django.conf import settings


def portal(request):
    return {
        "dmp_env": settings.DMP_ENV,
        "session_idle_minutes": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60),
        "session_idle_seconds": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
        # Issue 19: the login page's « Se connecter avec … » button, only when enabled.
        "oidc_provider_name": settings.DMP_OIDC_PROVIDER_NAME if settings.DMP_OIDC_ENABLED else "",
    }
