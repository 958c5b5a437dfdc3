"""French addresses, as a French public service names them; no login needed."""

from django.urls import path

from public_pages import views

app_name = "public"

urlpatterns = [
    path("mentions-legales/", views.legal_notice, name="legal"),
    path("donnees-personnelles/", views.privacy, name="privacy"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("aide/", views.help_page, name="help"),
]
