"""A person's open sessions: what identifies each one to them, and ending them.

A session is one row of the store (``accounts.sessions``): deleting the row ends it for real,
so the cookie it was given is refused at its very next request.
"""

from __future__ import annotations

import ipaddress

from django.db import transaction

from accounts.models import AccountSession, User
from accounts.services.events import ALLOWED, record_account_event
from accounts.services.places import parse_address, place_of
from accounts.sessions import hash_session_key

# The User-Agent header, summarised by hand rather than with a parser library (ua-parser and
# its regular expressions): the page needs a browser family and a system, to let the person
# say "that is my phone"; browsers now freeze or trim their versions (User-Agent reduction),
# and a dependency with a database of thousands of patterns to keep up to date would add no
# truth to that. Order matters: Edge, Opera and Samsung Internet also say "Chrome", Chrome
# also says "Safari", and iOS browsers say "Safari" and "Mac OS X".
BROWSERS = (
    ("EdgiOS/", "Edge"),
    ("EdgA/", "Edge"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def browser_summary(user_agent: str) -> str:
    """ "Firefox, Windows", "Safari, iOS", "Chrome", "" when nothing is recognised."""
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    return ", ".join(part for part in (browser, system) if part)


def network_of(client_address: str) -> str:
    """The network the address belongs to, never the address: "192.0.2.x" (an IPv4 /24) or
    "2001:db8:42::/48" (an IPv6 /48), "" when the address is unknown.

    The person needs only to recognise a network ("my home box", "the office"), beside the
    place a GeoIP database may name (``place_of``). The full address would say more (for an
    IPv6 one, often one device) for no use of theirs: data minimisation (GDPR, art. 5(1)(c));
    the audit trail keeps the full address of each login for security."""
    address = parse_address(client_address)
    if address is None:
        return ""
    if isinstance(address, ipaddress.IPv4Address):
        return ".".join(str(address).split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{address}/48", strict=False))


def describe_device(user_agent: str, client_address: str) -> dict[str, str]:
    """What the login writes into its session (``accounts.sessions.SESSION_DEVICE``): the place
    is looked up here, once per session, and kept with it."""
    return {
        "browser": browser_summary(user_agent),
        "network": network_of(client_address),
        "place": place_of(client_address),
    }


class SessionNotFound(Exception):
    """No such open session of this account (someone else's, already ended, or this one)."""


def forget_stale_sessions(user: User) -> int:
    """Delete the sessions of ``user`` past a timeout whose cookie never came back (the
    middleware ends the others at their next request). Called at each login."""
    deleted, _per_model = AccountSession.objects.filter(user=user).stale().delete()
    return deleted


@transaction.atomic
def end_session(
    user: User, key_hash: str, *, current_session_key: str, client_address: str
) -> None:
    """End one other session of ``user``: its row leaves the store, its cookie is refused.
    Another account's session, an unknown one or the current one: SessionNotFound, nothing
    changes (the current one ends by logging out)."""
    current = hash_session_key(current_session_key) if current_session_key else ""
    deleted, _per_model = (
        AccountSession.objects.filter(user=user, key_hash=key_hash)
        .exclude(key_hash=current)
        .delete()
    )
    if not deleted:
        raise SessionNotFound
    record_account_event(
        "end-session",
        ALLOWED,
        account=user,
        actor=user,
        client_address=client_address,
        reason="one",
    )


@transaction.atomic
def end_other_sessions(
    user: User,
    keep_session_key: str | None,
    *,
    actor: User | None = None,
    client_address: str = "",
    reason: str = "others",
    unproven: bool = False,
) -> int:
    """End every session of ``user`` but the one whose key is ``keep_session_key`` (None: every
    one). Returns how many ended; records it when any did. For the sessions page ("end all
    others"), a password change or reset (``reason`` "password"), a new invitation by staff
    (``actor``: the staff member). Django's session auth hash already refuses the sessions of a
    changed password at their next request; this also takes them out of the store and of the
    list at once. ``unproven``: done by someone not signed in (the holder of a reactivation
    code), so the event is in no one's name, like the reactivation itself."""
    sessions = AccountSession.objects.filter(user=user)
    if keep_session_key:
        sessions = sessions.exclude(key_hash=hash_session_key(keep_session_key))
    deleted, _per_model = sessions.delete()
    if deleted:
        record_account_event(
            "end-session",
            ALLOWED,
            account=user,
            actor=None if unproven else (actor if actor is not None else user),
            client_address=client_address,
            reason=reason,
        )
    return deleted
