import logging
import re

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import Http404
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from dmp_portal import request_context, views
from dmp_portal.crypto.errors import DecryptionError

security_log = logging.getLogger("dmp.security")
# How Cache-Control separates its directives (the same pattern as Django's own parser).
_CACHE_CONTROL_DELIMITER = re.compile(r"\s*,\s*")


class RequestIdMiddleware:
    """Gives each request a fresh id for its log lines and the tasks it queues, and answers it
    in ``X-Request-ID`` (why never the client's own: dmp_portal/request_context.py). First of
    the stack, so that every line of the request carries it.

    The id stays bound after the response: Django writes its "Not Found" and error lines, and
    gunicorn its access line, once the middleware has returned. The next request of the thread
    binds its own (under ASGI each request has its own context anyway).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_context.new_id()
        request_context.bind(request_id)
        response = self.get_response(request)
        response[request_context.RESPONSE_HEADER] = request_id
        return response


class ChosenLanguageMiddleware(LocaleMiddleware):
    """French unless the person chose another language with the switcher (its cookie).

    Django's LocaleMiddleware would also follow the browser's Accept-Language header; a French
    public service speaks French first and offers English on request.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class DecryptionFailureMiddleware:
    """A ciphertext that does not open is a security event: log it, show a generic page.

    Nothing is written on this path, so a tampered value never spreads; the log line names the
    request, never the data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DecryptionError):
            return None
        user = getattr(request, "user", None)
        security_log.error(
            "integrity failure: method=%s path=%s user=%s",
            request.method,
            request.path,
            getattr(user, "public_id", "anonymous"),
        )
        return render(request, "errors/integrity.html", status=500)


class NoStoreForSessionsMiddleware:
    """Nothing shown to a signed-in person is kept by the browser or a proxy.

    Every response to a request with a signed-in user (the password alone is enough) or with
    session state (the enrolment steps, an expired-session notice) is marked
    ``private, no-store`` with ``Pragma: no-cache``, whatever the view said: the home and 404
    pages show the person's name and menus, and a shared computer's back button or cache must
    not give them to the next person. Static files never get here (whitenoise answers them
    above the session middleware), and anonymous public pages keep their caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if (user is not None and user.is_authenticated) or (
            session is not None and (session.modified or not session.is_empty())
        ):
            # A view that already said no-store (a download) keeps its own, stricter header.
            if "no-store" not in _CACHE_CONTROL_DELIMITER.split(response.get("Cache-Control", "")):
                add_never_cache_headers(response)
            response["Pragma"] = "no-cache"
        return response


class PortalNotFoundMiddleware:
    """With DEBUG on (development), a missing page shows the portal's 404, as in production.

    Django answers a 404 with its technical page whenever DEBUG is on, and offers no setting to
    change that; the technical 500 page, the template debugging and the rest of DEBUG stay.
    Without DEBUG the middleware removes itself: handler404 already answers.
    It sits last, so that everything above it (the second-factor gate, CommonMiddleware's
    redirect to the address with a slash) sees the same 404 as in production.
    """

    def __init__(self, get_response):
        if not settings.DEBUG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        # An address no pattern matches fails before any view runs, out of process_exception's
        # reach: resolve it here first (what the handler does next, at the same cost).
        try:
            resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404 as exc:
            return views.page_not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return views.page_not_found(request, exception)
        return None
