"""A practitioner's sign-in through the OpenID Connect provider (issue 19, item 4): who the
provider's answer names, and whether they may come in.

The provider has checked the person (Pro Santé Connect: their CPS card or e-CPS app); the portal
decides whether that person has an account here: an active practitioner whose RPPS number the
answer names, authenticated at a level of the allow-list (``DMP_OIDC_ACR_VALUES``). It never
creates an account. Every refusal but the level's says the same thing, so that nobody learns
which RPPS numbers have an account; the trail keeps the reason (a short code, never a number).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import PractitionerProfile, User, UserKind
from accounts.services.authentication import LoginRefused
from accounts.services.events import ALLOWED, REFUSED, record_account_event

# The audit events' reasons: the login itself, and why one was refused.
SIGNED_IN = "oidc"
REFUSED_LEVEL = "oidc-acr"
REFUSED_ACCOUNT = "oidc-refused"


def _uniform_refusal() -> LoginRefused:
    return LoginRefused(
        _(
            "Sign-in with %(provider)s failed. If you have an account on this portal, log in "
            "with your identifier and password, or contact us."
        )
        % {"provider": settings.DMP_OIDC_PROVIDER_NAME}
    )


def level_refusal() -> LoginRefused:
    """The provider's authentication was not strong enough (its ``acr``): nothing about the
    account, which is not looked at before the level is."""
    return LoginRefused(
        _(
            "%(provider)s did not confirm a strong authentication (CPS card or e-CPS app). "
            "Sign in again with one of them."
        )
        % {"provider": settings.DMP_OIDC_PROVIDER_NAME}
    )


def provider_refusal() -> LoginRefused:
    """Anything else that went wrong between the provider and the portal (an error of the
    provider, a sign-in begun in another browser or already used, a token that does not hold):
    the person only needs to start again."""
    return LoginRefused(
        _("Sign-in with %(provider)s could not be completed. Start again from the login page.")
        % {"provider": settings.DMP_OIDC_PROVIDER_NAME}
    )


def rpps_of(claim: object) -> str | None:
    """The RPPS number in the provider's claim (Pro Santé Connect's SubjectNameID: "8" then the
    11 digits), or None when the claim is not of that form."""
    prefix = settings.DMP_OIDC_RPPS_PREFIX
    if not isinstance(claim, str) or not claim.startswith(prefix):
        return None
    rpps = claim[len(prefix) :]
    return rpps if len(rpps) == 11 and rpps.isascii() and rpps.isdigit() else None


def _account_with_rpps(rpps: str | None) -> User | None:
    if rpps is None:
        return None
    profile = PractitionerProfile.objects.select_related("user").filter(rpps=rpps).first()
    return profile.user if profile is not None else None


def sign_in_with_provider(*, rpps_claim: object, acr: object, client_address: str) -> User:
    """The practitioner the provider's answer names, recorded as logged in (reason ``oidc``),
    or LoginRefused, recorded too. ``rpps_claim``: the claim DMP_OIDC_RPPS_CLAIM of the user
    info; ``acr``: the ID token's, whose signature, issuer, audience, expiry and nonce the
    caller has checked."""
    user = _account_with_rpps(rpps_of(rpps_claim))
    # An account not a practitioner's is refused in no one's name (its owner did not act).
    actor = user if user is not None and user.kind == UserKind.PRACTITIONER else None
    if acr not in settings.DMP_OIDC_ACR_VALUES:
        _refused(user, actor, client_address, REFUSED_LEVEL)
        raise level_refusal()
    if actor is None or not actor.is_active:
        _refused(user, actor, client_address, REFUSED_ACCOUNT)
        raise _uniform_refusal()
    record_account_event(
        "login",
        ALLOWED,
        account=actor,
        actor=actor,
        client_address=client_address,
        reason=SIGNED_IN,
    )
    return actor


def _refused(user: User | None, actor: User | None, client_address: str, reason: str) -> None:
    record_account_event(
        "login", REFUSED, account=user, actor=actor, client_address=client_address, reason=reason
    )


def record_provider_failure(*, client_address: str, reason: str) -> None:
    """A sign-in begun here (its state matched) that the provider's answer did not complete:
    an error of the provider (``oidc-error``), or a token that does not hold (``oidc-token``:
    the exchange refused, a wrong signature, issuer, audience or nonce)."""
    _refused(None, None, client_address, reason)
