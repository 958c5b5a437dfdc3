"""A practitioner's security changes end every access of their software (issue 19, review M1):
a password reset, a password change, the staff's reinvitation (the one path that deactivates a
practitioner and removes their second factors). After each: the old access token is refused by
the API, the old refresh token and a code not redeemed yet get invalid_grant, each application
that lost something has its REVOKE_APPLICATION event saying why; another practitioner's tokens
still work. And the token endpoint itself refuses a deactivated practitioner's refresh or code,
whoever deactivated them."""

from __future__ import annotations

import pytest
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from accounts.models import User
from accounts.services.applications import revoke_every_access
from accounts.services.password import (
    PasswordRefused,
    change_password,
    issue_reset_link,
    open_reset_link,
)
from accounts.services.password import reset_password as reset_with_link
from accounts.services.reinvite import reinvite_practitioner
from audit.models import SYSTEM_CHAIN_KEY, Action, AuditEvent
from fhir_api.authentication import Unauthenticated, api_caller
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    add_totp,
    logged_in_client,
    next_totp_token,
)
from tests.accounts.oauth_factories import (
    bearer_request,
    code_for,
    connect,
    exchange,
    make_application,
    token_request,
)

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "une longue phrase de printemps"
ADDRESS = "203.0.113.7"


def _refresh(registered, tokens):
    application, secret = registered
    return token_request(
        application, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )


def _refused(registered, tokens) -> None:
    with pytest.raises(Unauthenticated):
        api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")
    refreshed = _refresh(registered, tokens)
    assert refreshed.status_code == 400, refreshed.content
    assert refreshed.json()["error"] == "invalid_grant"


def _works(registered, tokens, practitioner: User) -> None:
    caller = api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")
    assert caller.practitioner == practitioner
    assert _refresh(registered, tokens).status_code == 200


class World:
    """Practitioner ``who`` holding tokens of two applications and a code not redeemed yet;
    ``other``, another practitioner, holding tokens of the first application."""

    def __init__(self) -> None:
        self.who = PractitionerProfileFactory.create().user
        self.device = add_totp(self.who)
        self.client = logged_in_client(self.who, self.device)
        self.first = make_application(name="Logiciel de cabinet")
        self.second = make_application(name="Logiciel hospitalier")
        self.first_tokens = connect(self.client, self.first)
        self.second_tokens = connect(self.client, self.second)
        self.code, self.verifier = code_for(self.client, self.first[0])
        self.other = PractitionerProfileFactory.create().user
        self.other_tokens = connect(logged_in_client(self.other), self.first)

    def check_all_ended(self, reason: str, actor: User | None) -> None:
        _refused(self.first, self.first_tokens)
        _refused(self.second, self.second_tokens)
        late = exchange(*self.first, self.code, self.verifier)
        assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
        assert not AccessToken.objects.filter(user=self.who).exists()
        assert not Grant.objects.filter(user=self.who).exists()
        assert not RefreshToken.objects.filter(user=self.who, revoked__isnull=True).exists()
        events = AuditEvent.objects.filter(
            action=Action.REVOKE_APPLICATION, chain__key=SYSTEM_CHAIN_KEY
        ).order_by("application")
        assert [event.application for event in events] == sorted(
            [self.first[0].client_id, self.second[0].client_id]
        )
        for event in events:
            assert event.reason.split()[0] == reason
            assert event.actor == actor
            if actor != self.who:
                assert event.reason.endswith(f"account:{self.who.pk}")
        _works(self.first, self.other_tokens, self.other)


def test_a_password_reset_ends_every_access_of_the_practitioners_software():
    world = World()
    link = open_reset_link(client_address=ADDRESS, token=issue_reset_link(world.who))
    assert link is not None
    reset_with_link(link.pk, NEW_PASSWORD, client_address=ADDRESS)
    world.check_all_ended("password-reset", actor=None)


def test_a_password_change_ends_every_access_of_the_practitioners_software():
    world = World()
    change_password(
        world.who,
        old_password=PASSWORD,
        new_password=NEW_PASSWORD,
        otp_token=next_totp_token(world.device),
        client_address=ADDRESS,
        known_browser=True,
    )
    world.check_all_ended("password-change", actor=world.who)


def test_a_refused_password_change_ends_nothing():
    world = World()
    with pytest.raises(PasswordRefused):
        change_password(
            world.who,
            old_password="pas le bon mot de passe",
            new_password=NEW_PASSWORD,
            otp_token=next_totp_token(world.device),
            client_address=ADDRESS,
            known_browser=True,
        )
    _works(world.first, world.first_tokens, world.who)
    assert not AuditEvent.objects.filter(action=Action.REVOKE_APPLICATION).exists()


def test_the_staffs_reinvitation_deactivation_and_factor_reset_ends_every_access():
    world = World()
    staff = StaffFactory.create()
    reinvite_practitioner(world.who.pk, staff=staff, client_address=ADDRESS)
    world.check_all_ended("reinvite", actor=staff)


def test_nothing_to_end_records_nothing():
    practitioner = PractitionerProfileFactory.create().user
    assert (
        revoke_every_access(
            practitioner, reason="password-change", actor=practitioner, client_address=ADDRESS
        )
        == 0
    )
    assert not AuditEvent.objects.filter(action=Action.REVOKE_APPLICATION).exists()


def test_the_token_endpoint_refuses_a_deactivated_practitioners_refresh_and_code():
    """Whatever deactivated the account (here a direct update, no service called): no new
    token for it, and none again if it is reactivated while the code has expired."""
    world = World()
    User.objects.filter(pk=world.who.pk).update(is_active=False)
    refreshed = _refresh(world.first, world.first_tokens)
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    late = exchange(*world.first, world.code, world.verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    _works(world.first, world.other_tokens, world.other)
