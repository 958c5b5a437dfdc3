"""The admin shows nothing personal about a patient's account nor where a patient connects from.

Staff learn a patient's uuid from their own audited identity read. The user admin then showed,
without any event, the patient's login identifier (half of what signs them in), when they last
signed in, and the audit event admin the address a patient acted from. Now a patient's account
shows only what support needs (kind, active, whether a second factor is set, date joined), a
patient is never found by a login-identifier search, and an event shows its client address only
when a practitioner or staff member acted, or nobody in particular on the system chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape

import pytest
from django.db import transaction
from django.utils.translation import gettext, override

from accounts.models import User
from audit.models import AuditEvent
from audit.trail import record_event
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    logged_in_client,
)

pytestmark = pytest.mark.django_db

LAST_LOGIN = datetime(2024, 3, 17, 8, 41, tzinfo=UTC)
SECRET_HALF = "zq7-identifiant-secret"


@pytest.fixture
def staff_client():
    return logged_in_client(StaffFactory())


@pytest.fixture
def patient():
    patient = UserFactory(username=SECRET_HALF, email="lea.dupont@example.fr")
    add_totp(patient)
    User.objects.filter(pk=patient.pk).update(last_login=LAST_LOGIN)
    return patient


def shows_last_login(page: str) -> bool:
    return "2024" in page or "mars" in page


def test_a_patients_account_page_shows_no_identifier_last_login_or_e_mail(staff_client, patient):
    for url in (
        f"/admin/accounts/user/{patient.pk}/change/",
        f"/admin/accounts/user/{patient.pk}/history/",
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert SECRET_HALF not in page, url
        assert "lea.dupont" not in page, url
        assert not shows_last_login(page), url
    # What support needs is still there: the kind, active, the second factor, date joined.
    page = unescape(staff_client.get(f"/admin/accounts/user/{patient.pk}/change/").content.decode())
    for label in ("kind of account", "active", "second factor set", "date joined"):
        with override("fr"):
            assert str(gettext(label)).capitalize() in page, label


def test_the_user_list_shows_no_patients_identifier_nor_last_login(staff_client, patient):
    listing = staff_client.get("/admin/accounts/user/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert f"/admin/accounts/user/{patient.pk}/change/" in page  # the patient is listed...
    assert SECRET_HALF not in page  # ...without their identifier
    assert not shows_last_login(page)


def test_a_login_identifier_search_never_finds_a_patient(staff_client, patient):
    found = staff_client.get("/admin/accounts/user/", {"q": SECRET_HALF}).content.decode()
    assert f"/admin/accounts/user/{patient.pk}/change/" not in found
    found = staff_client.get("/admin/accounts/user/", {"q": SECRET_HALF[:6]}).content.decode()
    assert f"/admin/accounts/user/{patient.pk}/change/" not in found
    # Support reaches a patient's account by the id their audited identity read gave them.
    by_id = staff_client.get("/admin/accounts/user/", {"q": str(patient.pk)}).content.decode()
    assert f"/admin/accounts/user/{patient.pk}/change/" in by_id


def test_a_practitioners_account_still_shows_identifier_and_last_login(staff_client):
    practitioner = PractitionerProfileFactory().user
    User.objects.filter(pk=practitioner.pk).update(last_login=LAST_LOGIN)
    page = staff_client.get(f"/admin/accounts/user/{practitioner.pk}/change/").content.decode()
    assert practitioner.username in page and shows_last_login(page)
    found = staff_client.get("/admin/accounts/user/", {"q": practitioner.username})
    assert f"/admin/accounts/user/{practitioner.pk}/change/" in found.content.decode()


def event(actor, patient, address, **extra) -> AuditEvent:
    with transaction.atomic():
        return record_event(
            actor=actor,
            patient=patient,
            action=extra.pop("action", "view-history"),
            outcome="allowed",
            client_address=address,
            **extra,
        )


def test_an_event_shows_the_address_of_practitioners_and_staff_never_of_a_patient(
    staff_client, patient
):
    practitioner = PractitionerProfileFactory().user
    own = event(patient, patient, "203.0.113.77")
    read = event(practitioner, patient, "198.51.100.23", action="list")
    by_staff = event(StaffFactory(), patient, "198.51.100.42", action="view-identity")
    activation = event(None, None, "203.0.113.78", action="lookup", registry_id=4242)
    probe = event(None, None, "192.0.2.99", action="lookup")

    def page(ev):
        response = staff_client.get(f"/admin/audit/auditevent/{ev.pk}/change/")
        assert response.status_code == 200
        return response.content.decode()

    assert "203.0.113.77" not in page(own)
    # Nobody signed in, on a person's registry chain: most likely the person themselves.
    assert "203.0.113.78" not in page(activation)
    assert "198.51.100.23" in page(read)
    assert "198.51.100.42" in page(by_staff)
    assert "192.0.2.99" in page(probe)
    listing = staff_client.get("/admin/audit/auditevent/").content.decode()
    assert "203.0.113.77" not in listing and "203.0.113.78" not in listing
