"""The consent page of practitioners' software: /oauth/authorize/ (issue 19; README, « FHIR API »).

django-oauth-toolkit's authorization view, with the portal's rules around it:
- only a signed-in practitioner past the second factor approves (anyone else signed in gets a
  French refusal page; someone not signed in goes to the portal's login, which brings them back
  with the whole request, code_challenge included);
- the consent page is always shown: the toolkit's shortcuts (an application's
  ``skip_authorization``, a client's ``approval_prompt=auto``) are not offered;
- an invalid request (unknown application, return address not registered, no PKCE or not S256,
  unknown permission) is explained on a French page and never sent to any address;
- approving and refusing are recorded in the audit trail, in the transaction of the grant.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from accounts.applications import may_approve_applications, practitioner_name, scope_descriptions
from accounts.oauth_validator import PKCE_METHOD
from accounts.oidc import second_factor_passed
from accounts.services import applications as services
from dmp_portal.http import client_address

ERROR_TEMPLATE = "oauth2_provider/authorize_error.html"
REFUSAL_TEMPLATE = "oauth2_provider/authorize_refused.html"


def _error_message(error: BaseException | None) -> str:
    """The French explanation of an invalid authorization request (never the toolkit's)."""
    if isinstance(error, oauth_errors.MissingClientIdError | oauth_errors.InvalidClientIdError):
        return _("This application is not registered on the portal.")
    if isinstance(
        error,
        oauth_errors.MissingRedirectURIError
        | oauth_errors.InvalidRedirectURIError
        | oauth_errors.MismatchingRedirectURIError,
    ):
        return _(
            "The return address given by the application is not one registered for it: the "
            "request is refused and nothing was sent to that address."
        )
    if error is None or isinstance(
        error,
        oauth_errors.MissingCodeChallengeError | oauth_errors.UnsupportedCodeChallengeMethodError,
    ):
        return _(
            "The application must protect its request with PKCE: a code_challenge computed "
            "with the S256 method (code_challenge_method=S256)."
        )
    if isinstance(error, oauth_errors.InvalidScopeError):
        return _("The application asks for a permission that the portal does not know.")
    if isinstance(
        error,
        oauth_errors.MissingResponseTypeError
        | oauth_errors.UnsupportedResponseTypeError
        | oauth_errors.UnauthorizedClientError,
    ):
        return _("The portal accepts only the authorization code flow (response_type=code).")
    return _("The application's request is invalid.")


def _approved(uri: str | None) -> bool:
    """Whether the toolkit's answer carries an authorization code (oauthlib answers some
    invalid requests with an error in the same redirect instead of raising)."""
    query = parse_qs(urlparse(uri or "").query)
    return "code" in query and "error" not in query


@method_decorator(never_cache, name="dispatch")
class PortalAuthorizationView(AuthorizationView):
    template_name = "oauth2_provider/authorize.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            # The second-factor gate (accounts.middleware) already sends a password-only
            # session to the login page; asked again here, where an approval is at stake: a
            # code, a passkey, or the OpenID Connect provider's strong authentication.
            if not second_factor_passed(request):
                return redirect_to_login(request.get_full_path())
            if not may_approve_applications(user):
                return render(request, REFUSAL_TEMPLATE, status=403)
        return super().dispatch(request, *args, **kwargs)

    # --- GET: the consent page --------------------------------------------------------------
    def get(self, request, *args, **kwargs):
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self._error_page(error.oauthlib_error)
        if credentials.get("code_challenge_method") != PKCE_METHOD:
            return self._error_page(None)
        if not scopes:
            return self._error_page(oauth_errors.InvalidScopeError())
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        self.oauth2_data = {
            "scopes": scopes,
            "client_id": credentials["client_id"],
            "redirect_uri": credentials["redirect_uri"],
            "response_type": credentials["response_type"],
            "state": credentials["state"],
            "code_challenge": credentials["code_challenge"],
            "code_challenge_method": credentials["code_challenge_method"],
            "nonce": credentials.get("nonce"),
        }
        response = self.render_to_response(
            {
                "form": self.get_form(self.get_form_class()),
                "application": application,
                "scopes": scopes,
                "scopes_descriptions": scope_descriptions(scopes),
                "practitioner_name": practitioner_name(request.user),
            }
        )
        # The answer to this form redirects to the application's address (checked above as
        # registered): browsers hold a form's redirects to the page's form-action too, so
        # without its origin Chromium blocks the approval (tests/e2e/test_fhir_acceptance.py).
        redirect = urlparse(credentials["redirect_uri"])
        response._csp_update = {"form-action": [f"{redirect.scheme}://{redirect.netloc}"]}
        return response

    # --- POST: approve or refuse ----------------------------------------------------------
    def form_valid(self, form):
        data = form.cleaned_data
        application = get_application_model().objects.filter(client_id=data["client_id"]).first()
        # The hidden fields come back from the browser: checked again before anything is
        # sent anywhere (the toolkit sends a refusal to the posted address unchecked).
        if application is None:
            return self._error_page(oauth_errors.InvalidClientIdError())
        if not application.redirect_uri_allowed(data["redirect_uri"]):
            return self._error_page(oauth_errors.MismatchingRedirectURIError())
        if data.get("code_challenge_method") != PKCE_METHOD or not data.get("code_challenge"):
            return self._error_page(None)
        address = client_address(self.request)
        with transaction.atomic():
            self.approved = False
            response = super().form_valid(form)
            if data.get("allow") and self.approved:
                services.record_approval(
                    self.request.user, application.client_id, client_address=address
                )
            elif not data.get("allow"):
                services.record_refusal(
                    self.request.user, application.client_id, client_address=address
                )
        return response

    def form_invalid(self, form):
        return self._error_page(oauth_errors.InvalidRequestError())

    def create_authorization_response(self, request, scopes, credentials, allow):
        uri, headers, body, status = super().create_authorization_response(
            request, scopes, credentials, allow
        )
        self.approved = _approved(uri)
        return uri, headers, body, status

    def error_response(self, error, application, **kwargs):
        """A fatal error (unknown application, unregistered address) on the French page; the
        others of an approval (the refusal's access_denied first) go back to the address
        checked in ``form_valid``, as OAuth 2.0 says."""
        if self.request.method != "POST" or isinstance(error, FatalClientError):
            return self._error_page(error.oauthlib_error)
        return super().error_response(error, application, **kwargs)

    def _error_page(self, error: BaseException | None) -> HttpResponse:
        return render(self.request, ERROR_TEMPLATE, {"message": _error_message(error)}, status=400)
