"""The portal's URLs and error handlers, plus views that fail on purpose (error page tests).

The handlers are imported by name: without them in dmp_portal.urls this module, and the tests
that use it, fail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import path

from dmp_portal.urls import handler400, handler403, handler404, handler500
from dmp_portal.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def _fails(exception: Exception):
    def view(request):
        raise exception

    return view


urlpatterns = [
    path("test-errors/bad/", _fails(SuspiciousOperation("a malformed request"))),
    path("test-errors/forbidden/", _fails(PermissionDenied())),
    path("test-errors/missing/", _fails(Http404("nothing here"))),
    path("test-errors/broken/", _fails(RuntimeError("a bug"))),
    *portal_urlpatterns,
]
