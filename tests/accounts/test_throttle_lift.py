"""Staff see the login throttles that hold, without an identifier or an address in clear, and
lift one (audited) so that the person may log in again at once (issue 15, item 9)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ThrottleLock
from audit.models import Action, AuditEvent
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    logged_in_client,
    verified_staff_client,
)

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
LIST = "/admin/accounts/throttlelock/"


@pytest.fixture
def tight(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2


def lock_out(username: str, address: str = "192.0.2.77") -> Client:
    client = Client(REMOTE_ADDR=address)
    for _ in range(3):
        client.post(LOGIN, {"username": username, "password": "wrong password here"})
    return client


def test_staff_see_the_throttle_by_account_and_network_only(tight):
    patient = UserFactory()
    lock_out(patient.username)
    lock_out("nobody-by-that-name", "198.51.100.4")

    page = verified_staff_client().get(LIST).content.decode()

    assert ThrottleLock.objects.count() == 2
    assert "Compte patient" in page and "192.0.2.x" in page and "198.51.100.x" in page
    for secret in (patient.username, "nobody-by-that-name", "192.0.2.77", "198.51.100.4"):
        assert secret not in page


def test_lifting_lets_the_person_in_at_once_and_is_recorded(tight):
    patient = UserFactory()
    add_totp(patient)
    client = lock_out(patient.username)
    refused = client.post(LOGIN, {"username": patient.username, "password": PASSWORD})
    assert refused.status_code == 200  # the right password, still throttled
    lock = ThrottleLock.objects.get()

    staff = verified_staff_client()
    assert "Lever ce blocage" in staff.get(f"{LIST}{lock.pk}/change/").content.decode()
    lifted = staff.post(f"{LIST}{lock.pk}/lift/")

    assert lifted.status_code == 302
    assert not ThrottleLock.objects.exists()
    allowed = client.post(LOGIN, {"username": patient.username, "password": PASSWORD})
    assert allowed.status_code == 302
    event = AuditEvent.objects.select_related("chain").get(action=Action.LIFT_THROTTLE)
    assert event.chain.key == f"patient:{patient.pk}" and event.actor_role == "staff"
    assert event.reason == "password-pair"


def test_nobody_else_lifts_a_throttle(tight):
    patient = UserFactory()
    lock_out(patient.username)
    lock = ThrottleLock.objects.get()
    outsiders = {
        "practitioner": logged_in_client(PractitionerProfileFactory().user),
        "patient": logged_in_client(patient),
        "staff without permission": logged_in_client(StaffFactory(is_superuser=False)),
    }
    for who, client in outsiders.items():
        response = client.post(f"{LIST}{lock.pk}/lift/")
        assert response.status_code in (302, 403), who
        assert ThrottleLock.objects.filter(pk=lock.pk).exists(), who
    assert verified_staff_client().post(f"{LIST}999999/lift/").status_code == 404
    assert not AuditEvent.objects.filter(action=Action.LIFT_THROTTLE).exists()
