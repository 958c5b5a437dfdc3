"""Cross-cutting pages: home, health check."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get the public home page; a signed-in user, the page of their kind of account
    (named by string in settings: the ground knows no app)."""
    user = request.user
    landing = settings.LANDING_URL_NAMES.get(getattr(user, "kind", ""))
    if user.is_authenticated and landing:
        return redirect(landing)
    return render(request, "home.html")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def _broker_ok() -> bool:
    url = settings.CELERY_BROKER_URL
    if not url:  # no broker configured while tasks are not run in-process: not healthy
        return False
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return bool(client.ping())
    except (redis.RedisError, ValueError):
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok" if _database_ok() else "error"}
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = "ok" if _broker_ok() else "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )
