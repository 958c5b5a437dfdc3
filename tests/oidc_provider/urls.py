"""The tests' provider: the toolkit's authorization and token endpoints under /oauth/, its
OpenID Connect ones (discovery, JWKS, user info) beside them, and a plain login page."""

from django.contrib.auth.views import LoginView
from django.urls import include, path
from oauth2_provider import urls as toolkit

urlpatterns = [
    path("login/", LoginView.as_view(template_name="provider/login.html"), name="login"),
    path(
        "oauth/",
        include(
            (toolkit.base_urlpatterns + toolkit.oidc_urlpatterns, "oauth2_provider"),
            namespace="oauth2_provider",
        ),
    ),
]
