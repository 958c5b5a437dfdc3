"""Practitioners' software seen from the practitioner (issue 19; README, « FHIR API »): who may
approve an application, what its permissions mean, which applications hold a live access in
their name and since when.

Reads only (the selectors' floor): the writes, recorded in the audit trail, are in
``accounts.services.applications``. The tokens are django-oauth-toolkit's rows, stored hashed:
nothing here reads or returns a token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The toolkit's own models (the portal swaps none of them): typed, unlike its getters.
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.models import User, UserKind


def may_approve_applications(user: User) -> bool:
    """Only an active practitioner lets an application act in their name: a patient's or a
    staff member's token would open nothing on the API, and must not exist."""
    return user.is_active and user.kind == UserKind.PRACTITIONER


def practitioner_name(user: User) -> str:
    """The name the consent page shows: the directory's, else the login identifier."""
    try:
        profile = user.practitioner_profile
    except ObjectDoesNotExist:
        return user.get_username()
    return f"{profile.first_name} {profile.last_name}"


# What each permission lets the application do, as the consent page and the connected
# applications page say it (the settings' SCOPES keep plain English for the toolkit).
SCOPE_DESCRIPTIONS = {
    "user/Patient.read": _("Search a patient by their INS and read their identity"),
    "user/DocumentReference.read": _("List and read the documents' entries"),
    "user/DocumentReference.write": _("Add documents to the record"),
    "user/Binary.read": _("Download the documents' content"),
}


def scope_descriptions(scopes: Iterable[str]) -> list[str]:
    """What each permission lets the application do, in the reader's language, in the order
    of the settings (an unknown scope is never described: the toolkit refuses it first)."""
    wanted = set(scopes)
    return [
        str(SCOPE_DESCRIPTIONS[name])
        for name in settings.OAUTH2_PROVIDER["SCOPES"]
        if name in wanted and name in SCOPE_DESCRIPTIONS
    ]


@dataclass(frozen=True)
class ConnectedApplication:
    application_id: int
    name: str
    client_id: str
    scopes: list[str]
    since: datetime


def _live_refresh_tokens(practitioner: User) -> QuerySet[RefreshToken]:
    """Refresh tokens not revoked and still usable: the toolkit accepts one until
    REFRESH_TOKEN_EXPIRE_SECONDS after its access token expired, and the portal's validator
    while its family's first token is younger than OAUTH_APPROVAL_MAX_DAYS
    (accounts.oauth_validator.approval_expired)."""
    now = timezone.now()
    lifetime = settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"]
    cutoff = now - timedelta(seconds=lifetime)
    approved_before = now - timedelta(days=settings.OAUTH_APPROVAL_MAX_DAYS)
    # No NULL family in the list: NOT IN with a NULL would keep no row at all.
    expired_families = (
        RefreshToken.objects.filter(user=practitioner, token_family__isnull=False)
        .values("token_family")
        .annotate(first=Min("created"))
        .filter(first__lte=approved_before)
        .values("token_family")
    )
    return RefreshToken.objects.filter(
        user=practitioner, revoked__isnull=True, access_token__expires__gt=cutoff
    ).exclude(token_family__in=expired_families)


def connected_applications(practitioner: User) -> list[ConnectedApplication]:
    """Each application holding a live access or refresh token of ``practitioner``, with the
    permissions of those tokens and the time of the approval they come from (the first token
    of their refresh family: rotation makes new rows, not a new approval)."""
    now = timezone.now()
    access = AccessToken.objects.filter(user=practitioner, expires__gt=now).select_related(
        "application"
    )
    refresh = _live_refresh_tokens(practitioner).select_related("application", "access_token")
    found: dict[int, dict] = {}
    for token in access:
        if token.application is None:
            continue
        entry = found.setdefault(
            token.application.pk,
            {"application": token.application, "scopes": set(), "since": token.created},
        )
        entry["scopes"].update(token.scope.split())
        entry["since"] = min(entry["since"], token.created)
    families = {}
    for token in refresh:
        entry = found.setdefault(
            token.application.pk,
            {"application": token.application, "scopes": set(), "since": token.created},
        )
        if token.access_token is not None:
            entry["scopes"].update(token.access_token.scope.split())
        entry["since"] = min(entry["since"], token.created)
        if token.token_family:
            families[token.token_family] = token.application.pk
    if families:
        firsts = (
            RefreshToken.objects.filter(user=practitioner, token_family__in=families)
            .values("token_family")
            .annotate(first=Min("created"))
        )
        for row in firsts:
            entry = found[families[row["token_family"]]]
            entry["since"] = min(entry["since"], row["first"])
    return sorted(
        (
            ConnectedApplication(
                application_id=entry["application"].pk,
                name=entry["application"].name or entry["application"].client_id,
                client_id=entry["application"].client_id,
                scopes=scope_descriptions(entry["scopes"]),
                since=entry["since"],
            )
            for entry in found.values()
        ),
        key=lambda item: (item.name.casefold(), item.application_id),
    )


def has_live_access(practitioner: User, application_id: int) -> bool:
    """Whether ``application_id`` holds a live token of ``practitioner`` (what the revocation
    of someone else's application, or of an unknown one, is told apart by: 404)."""
    now = timezone.now()
    return (
        AccessToken.objects.filter(
            user=practitioner, application_id=application_id, expires__gt=now
        ).exists()
        or _live_refresh_tokens(practitioner).filter(application_id=application_id).exists()
    )
