"""The OAuth2 validator of the portal's authorization server (issue 19; README, « FHIR API »).

django-oauth-toolkit's validator, narrowed to the one flow the portal allows: the authorization
code with PKCE (S256), approved by a practitioner, and its rotating refresh tokens. Every other
grant (client credentials, password, implicit, device code, hybrid) is refused whatever an
Application row says: a token must always stand for a practitioner who approved it.

The toolkit stores access and refresh tokens as hashes (COMPLIANT_BCP_RFC9700_TOKEN_STORAGE) but
the authorization code in clear (``Grant.code``): here the code is stored as a keyed hash
(``dmp_portal.crypto.hashing.keyed_hash``, as the activation links and letters' codes are), and
every look-up of a grant hashes the code presented first. Someone who reads the table cannot
redeem a code of the last minute.

The practitioner behind a code or a refresh token is asked about again at the token endpoint:
an account deactivated (or no longer a practitioner's) gets no new token, whatever it holds.
A refresh family (the tokens rotated from one approval) lasts OAUTH_APPROVAL_MAX_DAYS after
its first token at most: then the practitioner approves the software again.

Kept friendly to subclasses (the OpenID Connect mode of the tests' provider extends it): each
override calls ``super()`` with the hashed code rather than rewriting the toolkit's rules.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from accounts.applications import may_approve_applications
from accounts.models import User, UserKind
from dmp_portal.crypto.hashing import keyed_hash

CODE_PURPOSE = "oauth-authorization-code"
# The only PKCE method accepted (RFC 9700 section 2.1.1): "plain" gives an eavesdropper the
# verifier itself.
PKCE_METHOD = "S256"
# The token endpoint's grants for an application registered for the authorization code.
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


def code_key(code: str) -> str:
    """What ``Grant.code`` holds for an authorization code: its keyed hash."""
    return keyed_hash(CODE_PURPOSE, code)


def _for_active_practitioner(request: Request) -> bool:
    """Whether the token's user (set by the toolkit from the code or refresh token) is still an
    active practitioner: a deactivated account's software gets nothing more."""
    user = getattr(request, "user", None)
    return isinstance(user, User) and may_approve_applications(user)


def approval_expired(token: RefreshToken) -> bool:
    """Whether the approval ``token`` comes from is older than OAUTH_APPROVAL_MAX_DAYS: the
    age of its refresh family's first token (rotation makes new rows, never a new approval).
    The toolkit's ``cleartokens`` would delete a family's old revoked rows and make it look
    younger: the portal does not schedule it (README, « FHIR API »)."""
    first = token.created
    if token.token_family is not None:
        oldest = RefreshToken.objects.filter(token_family=token.token_family).aggregate(
            first=Min("created")
        )["first"]
        first = min(first, oldest or first)
    return first + timedelta(days=settings.OAUTH_APPROVAL_MAX_DAYS) <= timezone.now()


def _is_code_application(client: Any) -> bool:
    return getattr(client, "authorization_grant_type", None) == (
        AbstractApplication.GRANT_AUTHORIZATION_CODE
    )


class PortalOAuth2Validator(OAuth2Validator):
    # --- Which flows ----------------------------------------------------------------------
    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Request, *args, **kwargs
    ) -> bool:
        """Only the authorization code and its refresh, and only for an application
        registered for the authorization code: never client credentials, password or device
        code, even when an Application row says so."""
        if grant_type not in ALLOWED_GRANT_TYPES or not _is_code_application(request.client):
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Request, *args, **kwargs
    ) -> bool:
        """``code`` only: the implicit and hybrid flows put a token in the address bar."""
        return response_type == "code" and _is_code_application(client)

    def validate_user(self, *args, **kwargs) -> bool:
        """The password grant: never (a practitioner types their password on the portal
        only, with their second factor)."""
        return False

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        return True

    # --- The authorization code, stored hashed --------------------------------------------
    def _create_authorization_code(self, request: Request, code: dict, expires: Any = None):
        """The grant of an approval: S256 only, a practitioner's only, the code hashed."""
        if request.code_challenge_method != PKCE_METHOD or not request.code_challenge:
            raise errors.InvalidRequestError(
                description="PKCE with code_challenge_method=S256 is required.", request=request
            )
        if getattr(request.user, "kind", None) != UserKind.PRACTITIONER:
            raise errors.AccessDeniedError(request=request)
        hashed = {**code, "code": code_key(code["code"])}
        return super()._create_authorization_code(request, hashed, expires)

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Request, *args, **kwargs
    ) -> bool:
        valid = super().validate_code(client_id, code_key(code), client, request, *args, **kwargs)
        return valid and _for_active_practitioner(request)

    # --- The refresh token: its practitioner and its approval's age -----------------------
    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Request, *args, **kwargs
    ) -> bool:
        """The toolkit's checks (known, not revoked, not expired, this client's; a replay
        revokes the family), then: its practitioner still active, its approval not older than
        OAUTH_APPROVAL_MAX_DAYS. A refusal is the token endpoint's invalid_grant."""
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        if not _for_active_practitioner(request):
            return False
        return not approval_expired(request.refresh_token_instance)

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client: Any, *args, **kwargs
    ) -> bool:
        return super().confirm_redirect_uri(
            client_id, code_key(code), redirect_uri, client, *args, **kwargs
        )

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Request, *args, **kwargs
    ) -> None:
        super().invalidate_authorization_code(client_id, code_key(code), request, *args, **kwargs)

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        return super().get_code_challenge(code_key(code), request)

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        return super().get_code_challenge_method(code_key(code), request)

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request: Request
    ) -> list[str]:
        return super().get_authorization_code_scopes(
            client_id, code_key(code), redirect_uri, request
        )

    def get_authorization_code_nonce(
        self, client_id: str, code: str, redirect_uri: str, request: Request
    ) -> str | None:
        return super().get_authorization_code_nonce(
            client_id, code_key(code), redirect_uri, request
        )

    def _check_and_set_request_resource(self, request: Request) -> None:
        """The toolkit reads the grant by ``request.code`` here (RFC 8707 resources): it is
        given the hashed code for that look-up only, then the presented one back."""
        if request.grant_type != "authorization_code" or not request.code:
            super()._check_and_set_request_resource(request)
            return
        presented = request.code
        request.code = code_key(presented)
        try:
            super()._check_and_set_request_resource(request)
        finally:
            request.code = presented
