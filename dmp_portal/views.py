"""Cross-cutting pages: home, health check, and the error pages (README, "Error pages")."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from dmp_portal import health


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get the public home page; a signed-in user, the page of their kind of account
    (named by string in settings: the ground knows no app)."""
    user = request.user
    landing = settings.LANDING_URL_NAMES.get(getattr(user, "kind", ""))
    if user.is_authenticated and landing:
        return redirect(landing)
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok" if health.database_ok() else "error"}
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = "ok" if health.broker_ok() else "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


# --- Error pages (handler400/403/404/500 in urls.py, CSRF_FAILURE_VIEW in settings) -------------
# 429 has no handler in Django: a view that throttles answers with too_many_attempts below.
# The 400, 403, 404 and CSRF pages extend base.html (an error raised before the authentication
# middleware shows it as to an anonymous person). requires_csrf_token: the header's forms need a
# token even when the error came before the CSRF middleware ran (a 400 for an unknown Host).
# Each page speaks the language the person chose, even when the error came before the middleware
# that sets it: otherwise it would speak whatever the thread's previous request spoke.


def _chosen_language(request: HttpRequest) -> str:
    """French unless the switcher's cookie names another language of the portal (as
    ChosenLanguageMiddleware decides), read from the request alone."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    supported = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in supported else settings.LANGUAGE_CODE


def _in_chosen_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override(_chosen_language(request)):
            return view(request, *args, **kwargs)

    return wrapper


@_in_chosen_language
@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "400.html", status=400)


@_in_chosen_language
@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", status=403)


@_in_chosen_language
@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


@_in_chosen_language
def server_error(request: HttpRequest) -> HttpResponse:
    """A page that needs nothing that may be what failed: no database, session, user or
    context processor, only the template and the stylesheet's address."""
    try:
        stylesheet = static("css/portal.css")
    except ValueError:  # a manifest without the entry: an unstyled page beats no page
        stylesheet = f"{settings.STATIC_URL}css/portal.css"
    return HttpResponseServerError(
        loader.get_template("500.html").render({"stylesheet": stylesheet})
    )


@never_cache
@_in_chosen_language
@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a missing or stale token: most often a form opened before a new login
    (the token changes at each login), after the idle timeout or in another tab. The page says
    so and offers a way back; it shows neither the reason (it helps an attacker, not the
    person) nor anything that was sent."""
    return render(
        request, "errors/csrf.html", {"previous_page": _previous_page(request)}, status=403
    )


def too_many_attempts(request: HttpRequest, seconds: int) -> HttpResponse:
    """The portal's 429, for every throttled form: how long to wait, in minutes rounded up (a
    person reads minutes, not seconds), and the same wait in Retry-After for programs."""
    minutes = max(1, (seconds + 59) // 60)
    message = ngettext(
        "Too many attempts from this connection. Please try again in %(minutes)d minute.",
        "Too many attempts from this connection. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _previous_page(request: HttpRequest) -> str:
    """The path of the portal's page the form came from (nothing of its query), or "" when it
    came from elsewhere or from the login page, which the page already offers."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    path = urlsplit(referer).path
    return "" if path == reverse("accounts:login") else path
