"""Liveness and readiness (issue 18): what an orchestrator asks before restarting a process or
sending it traffic. ``/healthz`` stays as README documents it (dmp_portal/views.py)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dmp_portal import health


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is asked, so that a database outage never makes an
    orchestrator restart every web process at once."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Every service a request may need answers, and a worker ran the heartbeat recently."""
    checks = {
        "database": health.database_ok(),
        "cache": health.cache_ok(),
        "storage": health.storage_ok(),
    }
    # Tasks run in-process (make run): there is neither broker nor worker to ask.
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = health.broker_ok()
        checks["worker"] = health.worker_ok()
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "checks": {name: "ok" if passed else "error" for name, passed in checks.items()},
        },
        status=200 if healthy else 503,
    )
