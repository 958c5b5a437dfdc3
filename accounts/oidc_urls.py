"""/oidc/: the sign-in of practitioners through the OpenID Connect provider (issue 19). Always
wired, 404 while ``DMP_OIDC_ENABLED`` is off: the addresses do not depend on the settings the
URL configuration was loaded with, and the authorization matrix classifies them either way."""

from django.urls import path

from accounts import views_oidc

app_name = "oidc"

urlpatterns = [
    path("authenticate/", views_oidc.begin, name="begin"),
    path("callback/", views_oidc.callback, name="callback"),
]
