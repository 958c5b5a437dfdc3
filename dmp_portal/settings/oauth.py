"""The OAuth2 authorization server of practitioners' software (issue 19; README, « FHIR API »).

django-oauth-toolkit with every RFC 9700 (OAuth 2.0 Security BCP) behaviour switched on:
authorization code with PKCE (S256) only, no implicit or password grant, tokens stored hashed,
access tokens never taken from a query string, a replayed refresh token revoking its family.
"""

from __future__ import annotations

from typing import Any

# SMART-on-FHIR style scopes: what the practitioner lets the application do in their name,
# never more than they may do on the web pages.
SCOPES = {
    "user/Patient.read": "Rechercher un patient par son INS et lire son identité",
    "user/DocumentReference.read": "Lister et lire les fiches des documents",
    "user/DocumentReference.write": "Ajouter des documents au dossier",
    "user/Binary.read": "Télécharger le contenu des documents",
}


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
        # Short-lived access tokens (5 minutes); a refresh token lasts a working day.
        "ACCESS_TOKEN_EXPIRE_SECONDS": 300,
        "REFRESH_TOKEN_EXPIRE_SECONDS": 12 * 3600,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    }
