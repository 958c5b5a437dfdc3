"""Who calls the API: the practitioner and the application behind a bearer access token.

django-oauth-toolkit checks the token (hashed at rest, from the Authorization header only,
unexpired, unrevoked) and its scopes; this module adds the portal's own rule: the token's
owner is an active practitioner, as on the web pages. ``ApiCaller`` is what the selectors and
services are then given (plain values, never the request).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import gettext as _
from oauth2_provider.oauth2_backends import get_oauthlib_core

from accounts.models import User, UserKind


@dataclass(frozen=True)
class ApiCaller:
    practitioner: User
    # The application's client id (named by every audit event of the call) and its name
    # (shown in the patient's history: « via <name> »).
    client_id: str
    application_name: str
    scopes: frozenset[str]


class Unauthenticated(Exception):
    """401: no token, or one that is unknown, expired or revoked."""


class InsufficientScope(Exception):
    """403: a valid token without the scope this call needs."""


def api_caller(request: HttpRequest, scope: str | None) -> ApiCaller:
    """The caller of this request, who must hold ``scope`` (None: any valid token); raises
    ``Unauthenticated`` or ``InsufficientScope`` (their message is the French text of the
    OperationOutcome)."""
    core = get_oauthlib_core()
    valid, oauth_request = core.verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None) if valid else None
    user = getattr(token, "user", None)
    application = getattr(token, "application", None)
    if (
        token is None
        or application is None
        or not isinstance(user, User)
        or not user.is_active
        or user.kind != UserKind.PRACTITIONER
    ):
        raise Unauthenticated(_("A valid access token is required (Authorization: Bearer)."))
    scopes = frozenset(token.scope.split())
    if scope is not None and scope not in scopes:
        raise InsufficientScope(
            _("This access token does not allow this call: the scope %(scope)s is required.")
            % {"scope": scope}
        )
    return ApiCaller(user, application.client_id, application.name, scopes)
