"""``/metrics`` (issue 18): the Prometheus text, for the scraper that sends
``Authorization: Bearer <METRICS_TOKEN>``; for everyone else the portal's 404, as for any
unknown path, so that the page does not even tell it exists. Without the setting, 404 always."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache

from dmp_portal.metrics import exposition


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _space, sent = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time: the answer's timing tells nothing of the token.
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token or not _bearer_matches(request, token):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body, content_type = exposition(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
