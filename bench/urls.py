"""The portal's URLs plus two bare views behind the same session and second factor: the
baseline that the load benchmark compares each path with. Loaded by bench.settings only."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from dmp_portal.urls import urlpatterns as portal_urlpatterns

ONE_MIB = b"\x00" * (1024 * 1024)


@login_required
def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def baseline_one_mib(request: HttpRequest) -> HttpResponse:
    """Sending 1 MiB through the same stack, without decryption: the download's floor."""
    return HttpResponse(ONE_MIB, content_type="application/octet-stream")


urlpatterns = [
    path("bench/baseline/", baseline),
    path("bench/baseline-1mib/", baseline_one_mib),
    *portal_urlpatterns,
]
