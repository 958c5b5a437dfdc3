"""No staff action in the admin provisions an account that could read health data.

Practitioners come only from ``import_practitioners`` and their activation link; passwords only
from their owner. Each attempt below is what a malicious staff member (second factor done, even
a superuser) would try; the database must be unchanged afterwards.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.models import PractitionerProfile, User, UserKind
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    logged_in_client,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase 42"


@pytest.fixture
def staff_client():
    return logged_in_client(StaffFactory())


@pytest.fixture
def invited():
    """A practitioner imported but not yet activated: the account staff would like to seize."""
    profile = PractitionerProfileFactory()
    profile.user.is_active = False
    profile.user.set_unusable_password()
    profile.user.save()
    return profile


def snapshot(user: User) -> tuple:
    user = User.objects.get(pk=user.pk)
    profile = PractitionerProfile.objects.filter(user=user).values_list(
        "rpps", "profession", "last_name"
    )
    return (
        user.username,
        user.kind,
        user.email,
        user.is_active,
        user.is_staff,
        user.is_superuser,
        user.password,
        list(user.groups.all()),
        list(profile),
    )


def test_staff_cannot_add_a_user_of_any_kind(staff_client):
    before = User.objects.count()
    for kind in (UserKind.PRACTITIONER, UserKind.STAFF, UserKind.PATIENT):
        response = staff_client.post(
            "/admin/accounts/user/add/",
            {
                "username": f"intrus-{kind}",
                "kind": kind,
                "email": "intrus@example.fr",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 403
    assert User.objects.count() == before
    assert not User.objects.filter(username__startswith="intrus").exists()


def test_staff_cannot_activate_or_reshape_a_practitioner_through_the_change_form(
    staff_client, invited
):
    user = invited.user
    before = snapshot(user)
    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "kind": UserKind.PRACTITIONER,
            "email": "staff-mailbox@example.fr",
            "is_active": "on",
            "practitioner_profile-TOTAL_FORMS": "1",
            "practitioner_profile-INITIAL_FORMS": "1",
            "practitioner_profile-MIN_NUM_FORMS": "0",
            "practitioner_profile-MAX_NUM_FORMS": "1",
            "practitioner_profile-0-id": invited.pk,
            "practitioner_profile-0-user": user.pk,
            "practitioner_profile-0-rpps": "10000000017",
            "practitioner_profile-0-last_name": "Intrus",
            "practitioner_profile-0-first_name": "Camille",
            "practitioner_profile-0-profession": "pharmacien",
        },
    )
    assert response.status_code == 403
    assert snapshot(user) == before


def test_staff_cannot_turn_a_patient_into_a_practitioner(staff_client):
    patient = UserFactory()
    before = snapshot(patient)
    staff_client.post(
        f"/admin/accounts/user/{patient.pk}/change/",
        {"username": patient.username, "kind": UserKind.PRACTITIONER, "email": patient.email},
    )
    assert snapshot(patient) == before


def test_staff_cannot_set_a_password_through_the_password_url(staff_client, invited):
    for user in (invited.user, PractitionerProfileFactory().user, StaffFactory()):
        before = snapshot(user)
        response = staff_client.post(
            f"/admin/accounts/user/{user.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        assert response.status_code in (301, 302, 403, 404)
        assert snapshot(user) == before
        assert not User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_the_user_page_offers_no_password_form(staff_client):
    user = PractitionerProfileFactory().user
    page = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    assert "../password/" not in page.content.decode()
    followed = staff_client.get(f"/admin/accounts/user/{user.pk}/password/", follow=True)
    assert "password1" not in followed.content.decode()


def test_staff_cannot_add_or_edit_a_practitioner_profile(staff_client, invited):
    other = UserFactory(kind=UserKind.PRACTITIONER)
    response = staff_client.post(
        "/admin/accounts/practitionerprofile/add/",
        {
            "user": other.pk,
            "rpps": "10000000017",
            "last_name": "Intrus",
            "first_name": "Camille",
            "profession": "medecin",
        },
    )
    assert response.status_code == 403
    assert not PractitionerProfile.objects.filter(user=other).exists()
    before = snapshot(invited.user)
    response = staff_client.post(
        f"/admin/accounts/practitionerprofile/{invited.pk}/change/",
        {
            "user": invited.user.pk,
            "rpps": "10000000017",
            "last_name": "Intrus",
            "first_name": "Camille",
            "profession": "pharmacien",
        },
    )
    assert response.status_code == 403
    assert snapshot(invited.user) == before


def test_bulk_actions_change_no_account(staff_client, invited):
    patient = UserFactory()
    befores = {user.pk: snapshot(user) for user in (invited.user, patient)}
    for url, ids in (
        ("/admin/accounts/user/", [invited.user.pk, patient.pk]),
        ("/admin/accounts/practitionerprofile/", [invited.pk]),
    ):
        action = {"action": "delete_selected", "_selected_action": ids}
        staff_client.post(url, action)
        staff_client.post(url, {**action, "post": "yes"})
    for pk, before in befores.items():
        assert snapshot(User.objects.get(pk=pk)) == before


def test_staff_cannot_delete_an_account(staff_client, invited):
    before = snapshot(invited.user)
    response = staff_client.post(f"/admin/accounts/user/{invited.user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert snapshot(invited.user) == before


def test_staff_cannot_grant_themselves_permissions_through_groups(staff_client):
    response = staff_client.post("/admin/auth/group/add/", {"name": "tout", "permissions": []})
    assert response.status_code == 404
    assert not Group.objects.exists()


def test_a_staff_account_without_superuser_cannot_promote_itself():
    staff = StaffFactory(is_superuser=False)
    client = logged_in_client(staff)
    before = snapshot(staff)
    client.post(
        f"/admin/accounts/user/{staff.pk}/change/",
        {"username": staff.username, "kind": UserKind.STAFF, "is_superuser": "on"},
    )
    assert snapshot(staff) == before
    assert client.get("/admin/accounts/user/").status_code == 403


def test_the_password_form_itself_still_signs_in_with_the_old_password(staff_client, invited):
    """The patient's and practitioner's own passwords are untouched by any of the above."""
    patient = UserFactory()
    staff_client.post(
        f"/admin/accounts/user/{patient.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert User.objects.get(pk=patient.pk).check_password(PASSWORD)


def test_a_patients_e_mail_address_is_not_shown(staff_client):
    patient = UserFactory(email="lea.dupont@example.fr")
    page = staff_client.get(f"/admin/accounts/user/{patient.pk}/change/").content.decode()
    # Nor their login identifier (tests/test_admin_patient_accounts.py): the page is theirs.
    assert str(patient.pk) in page
    assert patient.username not in page and "lea.dupont@example.fr" not in page
