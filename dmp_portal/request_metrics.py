"""How long each request takes, by the name of the route that answered it (issue 18,
``dmp_request_seconds``): second in MIDDLEWARE, so that it times nearly the whole stack.

The route's name, never the path: a path can hold an id or a token. A static file (answered by
WhiteNoise before any route is looked up) is "static"; any other path that matches no route is
"unmatched". Costs one clock read and one histogram observation a request (microseconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from dmp_portal.metrics import REQUEST_SECONDS, method_label


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL or "/static/"

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_SECONDS.labels(
            view=self._view(request),
            method=method_label(request.method),
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
        return response

    def _view(self, request: HttpRequest) -> str:
        match = getattr(request, "resolver_match", None)
        if match is not None:
            return match.view_name
        return "static" if request.path.startswith(self.static_prefix) else "unmatched"
