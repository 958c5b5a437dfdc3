from django.contrib import admin
from django.urls import include, path

from dmp_portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("enrollment/", include("enrollment.urls")),
    path("records/", include("records.urls")),
    path("", include("access_control.urls")),
    path("", include("public_pages.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
