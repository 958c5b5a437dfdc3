"""The bare views alone, for ``bench.minimal_settings``: the same ``login_required`` view and
small body as ``bench.urls``'s baseline, without the portal's URLs or middleware."""

from django.urls import path

from bench.urls import baseline

urlpatterns = [path("bench/baseline/", baseline)]
