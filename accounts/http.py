"""What the login steps read from an HTTP request, for the views to hand to the services as
plain values: the "known browser" cookie (signed, so that no one forges it)."""

from __future__ import annotations

from django.http import HttpRequest

KNOWN_BROWSER_COOKIE = "dmp_known_browser"
KNOWN_BROWSER_SALT = "accounts.known-browser"


def known_browser_markers(request: HttpRequest) -> str:
    """The markers of the accounts that completed a login in this browser ("" when none, or
    when the cookie's signature does not hold)."""
    return (
        request.get_signed_cookie(
            KNOWN_BROWSER_COOKIE, default=None, salt=KNOWN_BROWSER_SALT, max_age=None
        )
        or ""
    )
