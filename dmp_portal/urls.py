from django.contrib import admin
from django.urls import include, path

from dmp_portal import views, views_health, views_metrics

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("enrollment/", include("enrollment.urls")),
    path("records/", include("records.urls")),
    path("", include("access_control.urls")),
    path("", include("public_pages.urls")),
    path("i18n/", include("accounts.language_urls")),
    path("admin/", admin.site.urls),
    # Issue 18: liveness and readiness, beside /healthz (README, Deployment).
    path("healthz/live", views_health.live, name="healthz-live"),
    path("healthz/ready", views_health.ready, name="healthz-ready"),
    # Issue 18: Prometheus metrics, 404 without the scraper's bearer token (README, Metrics).
    path("metrics", views_metrics.metrics, name="metrics"),
    # Issue 19: the FHIR R4 API of practitioners' software (README, « FHIR API »).
    path("fhir/", include("fhir_api.urls")),
    path("oauth/", include("accounts.oauth_urls")),
    # Issue 19: practitioners' sign-in through an OpenID Connect provider (404 unless enabled).
    path("oidc/", include("accounts.oidc_urls")),
]

# The portal's own pages for every error, never Django's (README, "Error pages").
handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
