"""The OAuth2 authorization server of practitioners' software (issue 19; README, « FHIR API »).

django-oauth-toolkit with every RFC 9700 (OAuth 2.0 Security BCP) behaviour switched on:
authorization code with PKCE (S256) only, no implicit or password grant, tokens stored hashed,
access tokens never taken from a query string, a replayed refresh token revoking its family.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

# SMART-on-FHIR style scopes: what the practitioner lets the application do in their name,
# never more than they may do on the web pages. The toolkit needs a name → description dict;
# the pages show the translated descriptions of accounts/applications.py (SCOPE_DESCRIPTIONS),
# these plain English ones only reach the toolkit's own defaults.
SCOPES = {
    "user/Patient.read": "Search a patient by their INS and read their identity",
    "user/DocumentReference.read": "List and read the documents' entries",
    "user/DocumentReference.write": "Add documents to the record",
    "user/Binary.read": "Download the documents' content",
}

# OAUTH_APPROVAL_MAX_DAYS: how long one approval on the consent page lasts, at most, however
# often the software refreshes its tokens; then the practitioner is asked again.
APPROVAL_MAX_DAYS_DEFAULT = 30
APPROVAL_MAX_DAYS_LIMIT = 365


def approval_max_days(days: int) -> int:
    """``OAUTH_APPROVAL_MAX_DAYS``, checked: a whole number of days from 1 to 365."""
    if not 1 <= days <= APPROVAL_MAX_DAYS_LIMIT:
        raise ImproperlyConfigured(
            f"OAUTH_APPROVAL_MAX_DAYS={days} must be a whole number of days from 1 to "
            f"{APPROVAL_MAX_DAYS_LIMIT} (default {APPROVAL_MAX_DAYS_DEFAULT})."
        )
    return days


def oauth2_provider(*, allow_http_redirects: bool) -> dict[str, Any]:
    """``OAUTH2_PROVIDER``; ``allow_http_redirects`` outside production only (the tests' and a
    developer's loopback callbacks)."""
    return {
        # The portal's validator: the authorization code with PKCE S256 only, whatever an
        # application's row says, and the code itself stored hashed (accounts/oauth_validator.py).
        "OAUTH2_VALIDATOR_CLASS": "accounts.oauth_validator.PortalOAuth2Validator",
        # The consent page is shown every time: no application skips it, none is remembered.
        "REQUEST_APPROVAL_PROMPT": "force",
        "SCOPES": SCOPES,
        "DEFAULT_SCOPES": [],
        "PKCE_REQUIRED": True,
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "ROTATE_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not allow_http_redirects,
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if allow_http_redirects else ["https"],
        # Short-lived access tokens (5 minutes). A refresh token is refused 12 hours after its
        # access token expired: software left unused for a night must ask again. Each refresh
        # gives a new pair, so the 12 hours slide while the software keeps refreshing; what
        # ends that chain is OAUTH_APPROVAL_MAX_DAYS after the approval (the validator checks
        # the age of the refresh family's first token), a password reset or change, and the
        # staff's reinvitation (accounts.services.applications.revoke_every_access).
        "ACCESS_TOKEN_EXPIRE_SECONDS": 300,
        "REFRESH_TOKEN_EXPIRE_SECONDS": 12 * 3600,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    }
