"""A practitioner's approvals of applications and their revocation (issue 19; README,
« FHIR API »), each recorded on the system chain with the application's client id.

Never a code or a token in an event: the application and the practitioner are all it names.
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


def _record(action: Action, practitioner: User, client_id: str, client_address: str) -> None:
    record_event(
        actor=practitioner,
        patient=None,
        action=action,
        outcome=Outcome.ALLOWED,
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
