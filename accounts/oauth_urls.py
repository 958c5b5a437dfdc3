"""The OAuth2 authorization server's addresses under /oauth/ (issue 19; README, « FHIR API »).

The consent page is the portal's (accounts/views_oauth.py). Only the endpoints of the
authorization code flow: never django-oauth-toolkit's management
pages (anyone signed in could register an application there) nor its device flow. Staff
register applications in the admin. The namespace is the toolkit's own, which it reverses.
"""

from django.urls import path
from oauth2_provider import views as oauth_views

from accounts.views_oauth import PortalAuthorizationView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", PortalAuthorizationView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
]
