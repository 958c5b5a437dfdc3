"""A practitioner's approvals of applications and their revocation (issue 19; README,
« FHIR API »), each recorded on the system chain with the application's client id.

Never a code or a token in an event: the application and the practitioner are all it names.

``revoke_every_access`` ends every application's access at once, when the account's security
changes (a password reset or change, the staff's reinvitation that deactivates the account and
removes its second factors): a token taken with the old password must not outlive it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from accounts.applications import has_live_access
from accounts.models import User
from audit.models import Action, Outcome
from audit.trail import record_event

Application = get_application_model()


class ApplicationNotFound(Exception):
    """No live access of this practitioner for this application (someone else's, revoked
    already, or unknown): the page answers 404 and nothing changes."""


# Why every access of a practitioner ended (the reason of each REVOKE_APPLICATION event).
REVOKED_BY_PASSWORD_RESET = "password-reset"
REVOKED_BY_PASSWORD_CHANGE = "password-change"
# The staff's reinvitation (accounts.services.reinvite): the account is deactivated and its
# second factors removed, the one path that does either to a practitioner.
REVOKED_BY_REINVITATION = "reinvite"


def _record(
    action: Action,
    actor: User | None,
    client_id: str,
    client_address: str,
    *,
    reason: str = "",
) -> None:
    record_event(
        actor=actor,
        patient=None,
        action=action,
        outcome=Outcome.ALLOWED,
        reason=reason,
        client_address=client_address,
        application=client_id,
    )


def record_approval(practitioner: User, client_id: str, *, client_address: str) -> None:
    """The practitioner approved the application on the consent page: called in the
    transaction that saved its authorization code."""
    with transaction.atomic():
        _record(Action.APPROVE_APPLICATION, practitioner, client_id, client_address)


def record_refusal(practitioner: User, client_id: str, *, client_address: str) -> None:
    """The practitioner refused the application on the consent page (nothing was granted)."""
    with transaction.atomic():
        _record(Action.REFUSE_APPLICATION, practitioner, client_id, client_address)


def revoke_application(practitioner: User, application_id: int, *, client_address: str) -> str:
    """Ends every access of ``application_id`` in ``practitioner``'s name: access tokens and
    ID tokens deleted (the toolkit's own revocation), refresh tokens revoked (a replay is then
    refused), authorization codes not redeemed yet deleted. Returns the application's name.
    Raises ``ApplicationNotFound`` when it holds no live access of theirs."""
    with transaction.atomic():
        application = Application.objects.filter(pk=application_id).first()
        if application is None or not has_live_access(practitioner, application_id):
            raise ApplicationNotFound
        mine = {"user": practitioner, "application": application}
        now = timezone.now()
        get_refresh_token_model().objects.filter(revoked__isnull=True, **mine).update(
            revoked=now, updated=now, access_token=None
        )
        get_access_token_model().objects.filter(**mine).delete()
        get_id_token_model().objects.filter(**mine).delete()
        get_grant_model().objects.filter(**mine).delete()
        _record(Action.REVOKE_APPLICATION, practitioner, application.client_id, client_address)
        return application.name or application.client_id


def revoke_every_access(
    practitioner: User, *, reason: str, actor: User | None, client_address: str
) -> int:
    """Ends every access any application holds in ``practitioner``'s name, as
    ``revoke_application`` does for one: access and ID tokens deleted, refresh tokens revoked,
    authorization codes not redeemed yet deleted. One REVOKE_APPLICATION event per application
    that held something, saying ``reason`` (``REVOKED_BY_*``), in ``actor``'s name (None: no
    one proven, as for a password reset) and naming the account when the actor is not them.
    Call it in the transaction of the change that causes it. Returns how many applications."""
    tokens = {
        "access": get_access_token_model().objects.filter(user=practitioner),
        "refresh": get_refresh_token_model().objects.filter(
            user=practitioner, revoked__isnull=True
        ),
        "id": get_id_token_model().objects.filter(user=practitioner),
        "grant": get_grant_model().objects.filter(user=practitioner),
    }
    with transaction.atomic():
        held: set[int] = set()
        for rows in tokens.values():
            held.update(rows.exclude(application=None).values_list("application_id", flat=True))
        now = timezone.now()
        tokens["refresh"].update(revoked=now, updated=now, access_token=None)
        for kind in ("access", "id", "grant"):
            tokens[kind].delete()
        if actor is None or actor.pk != practitioner.pk:
            reason = f"{reason} account:{practitioner.pk}"
        client_ids = Application.objects.filter(pk__in=held).values_list("client_id", flat=True)
        for client_id in sorted(client_ids):
            _record(Action.REVOKE_APPLICATION, actor, client_id, client_address, reason=reason)
        return len(held)
