"""/accounts/applications/: a practitioner's connected applications and the revocation of
one, which refuses the very next API call (issue 19, item 1)."""

from __future__ import annotations

from html import unescape

import pytest
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from accounts.applications import connected_applications
from audit.models import Action, AuditEvent
from fhir_api.authentication import Unauthenticated, api_caller
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, logged_in_client
from tests.accounts.oauth_factories import (
    approve,
    bearer_request,
    connect,
    make_application,
    pkce_pair,
    token_request,
)
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db
PAGE = "/accounts/applications/"


def _revoke_url(application) -> str:
    return f"/accounts/applications/{application.pk}/revoke/"


def _tokens_state() -> list:
    return [
        sorted(AccessToken.objects.values_list("pk", "expires")),
        sorted(RefreshToken.objects.values_list("pk", "revoked")),
        sorted(Grant.objects.values_list("pk", flat=True)),
    ]


def test_the_page_lists_each_application_with_its_permissions_in_french():
    practitioner = PractitionerProfileFactory.create().user
    registered = make_application(name="Cabinet Plus")
    connect(logged_in_client(practitioner), registered)
    make_application(name="Jamais autorisée")
    client = logged_in_client(practitioner)
    page = unescape(client.get(PAGE).content.decode())
    assert "Applications connectées" in page
    assert "Cabinet Plus" in page
    assert "Jamais autorisée" not in page
    assert "Rechercher un patient par son INS et lire son identité" in page
    assert "Révoquer l'accès" in page
    assert "<time datetime=" in page
    # The practitioners' menu leads there.
    assert 'href="/accounts/applications/"' in page


def test_no_application_yet():
    page = logged_in_client(PractitionerProfileFactory.create().user).get(PAGE)
    assert "Aucune application n'agit en votre nom." in unescape(page.content.decode())


def test_revoking_refuses_the_very_next_call_and_the_refresh_token():
    practitioner = PractitionerProfileFactory.create().user
    registered = make_application(name="Cabinet Plus")
    application, secret = registered
    tokens = connect(logged_in_client(practitioner), registered)
    api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")
    # An approval not redeemed yet goes too.
    approve(logged_in_client(practitioner), application, pkce_pair()[1])
    client = logged_in_client(practitioner)
    response = client.post(_revoke_url(application), follow=True)
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "L'accès de Cabinet Plus a été révoqué" in page
    assert "Aucune application n'agit en votre nom." in page
    with pytest.raises(Unauthenticated):
        api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")
    refreshed = token_request(
        application, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 400
    assert not AccessToken.objects.exists() and not Grant.objects.exists()
    event = AuditEvent.objects.get(action=Action.REVOKE_APPLICATION)
    assert event.actor == practitioner and event.patient is None
    assert event.application == application.client_id
    # Revoked already: nothing left to revoke.
    assert client.post(_revoke_url(application)).status_code == 404


def test_revoking_leaves_other_practitioners_and_applications_alone():
    practitioner, colleague = (PractitionerProfileFactory.create().user for _ in range(2))
    registered, other = make_application(name="A"), make_application(name="B")
    mine_a = connect(logged_in_client(practitioner), registered)
    mine_b = connect(logged_in_client(practitioner), other)
    theirs_a = connect(logged_in_client(colleague), registered)
    logged_in_client(practitioner).post(_revoke_url(registered[0]))
    api_caller(bearer_request(mine_b["access_token"]), "user/Patient.read")
    api_caller(bearer_request(theirs_a["access_token"]), "user/Patient.read")
    with pytest.raises(Unauthenticated):
        api_caller(bearer_request(mine_a["access_token"]), "user/Patient.read")


def test_a_third_user_revoking_gets_404_and_changes_nothing():
    practitioner = PractitionerProfileFactory.create().user
    registered = make_application()
    tokens = connect(logged_in_client(practitioner), registered)
    _patient, patient_client = patient_with_login()
    outsiders = [
        logged_in_client(PractitionerProfileFactory.create().user),
        patient_client,
        logged_in_client(StaffFactory.create()),
    ]
    before = _tokens_state()
    events = AuditEvent.objects.count()
    for outsider in outsiders:
        assert outsider.post(_revoke_url(registered[0])).status_code == 404
        assert outsider.post("/accounts/applications/999999/revoke/").status_code == 404
    assert _tokens_state() == before
    assert AuditEvent.objects.filter(action=Action.REVOKE_APPLICATION).count() == 0
    assert AuditEvent.objects.count() == events
    api_caller(bearer_request(tokens["access_token"]), "user/Patient.read")


def test_only_practitioners_have_the_page():
    _patient, patient_client = patient_with_login()
    assert patient_client.get(PAGE).status_code == 404
    assert logged_in_client(StaffFactory.create()).get(PAGE).status_code == 404


def test_since_is_the_approval_not_the_last_rotation():
    practitioner = PractitionerProfileFactory.create().user
    registered = make_application()
    application, secret = registered
    tokens = connect(logged_in_client(practitioner), registered)
    approved = RefreshToken.objects.get().created
    rotated = token_request(
        application, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert rotated.status_code == 200
    assert RefreshToken.objects.filter(revoked__isnull=True).get().created > approved
    (connected,) = connected_applications(practitioner)
    assert connected.since == approved
