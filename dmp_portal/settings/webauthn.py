"""The relying party of passkeys (WebAuthn), derived from the portal's address.

A browser signs, with each passkey, the origin of the page that asked for it and the hash of
the relying party's identifier (a domain): the portal accepts only its own. Both follow from
``DMP_SITE_URL`` unless ``WEBAUTHN_RP_ID`` and ``WEBAUTHN_ORIGINS`` say otherwise.

Browsers refuse an IP address as a relying party identifier, but treat ``localhost`` as a
secure context even over plain HTTP: in development (``http://127.0.0.1:PORT``) passkeys work
at ``http://localhost:PORT``, which is then the identifier and the accepted origin.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def relying_party(
    site_url: str, rp_id: str | None = None, origins: list[str] | None = None
) -> tuple[str, list[str]]:
    """The identifier and the accepted origins (scheme://host[:port], no trailing slash)."""
    parts = urlsplit(site_url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    if _is_loopback_address(host):
        host = "localhost"
    derived_origin = f"{parts.scheme}://{host}{port}"
    return (rp_id or host), [origin.rstrip("/") for origin in (origins or [derived_origin])]


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an address
        return False
