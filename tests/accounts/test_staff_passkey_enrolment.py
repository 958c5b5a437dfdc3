"""A staff member's first passkey needs a one-time enrolment code (review of issue 15, G10).

A password and an authenticator code can be relayed through a look-alike site: if they were
enough to register the first key, whoever relayed them would register their own and open the
administration. The code comes from an operator (``manage.py issue_passkey_enrolment``).
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import PasskeyDevice
from accounts.passkeys import StaffPasskeyEnrolment
from accounts.services.passkey_enrolment import (
    EnrolmentRefused,
    issue_enrolment_code,
    needs_enrolment_code,
)
from audit.models import AuditEvent
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_backup_codes,
    add_totp,
    logged_in_client,
    next_totp_token,
)
from tests.accounts.passkey_factories import SoftAuthenticator, add_passkey

pytestmark = pytest.mark.django_db

OPTIONS = "/accounts/security/passkeys/options/"
ADD = "/accounts/security/passkeys/add/"
NOT_VALID = "Ce code d'enrôlement n'est pas valide"


def post(client: Client, url: str, fields: dict):
    return client.post(
        url, {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    )


def staff_with_code_session():
    staff = StaffFactory()
    app = add_totp(staff)
    return staff, app, logged_in_client(staff, app)


def issue(username: str) -> str:
    out = io.StringIO()
    call_command("issue_passkey_enrolment", username, stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("code=") and line.endswith("valid_hours=24")
    return line.split()[0].removeprefix("code=")


def add_first_key(client: Client, app, code: str, otp_token: str | None = None):
    """Both steps as the page's script runs them; the first step's answer when it refused."""
    fields = {
        "name": "Clé",
        "otp_token": otp_token or next_totp_token(app),
        "enrolment_code": code,
    }
    asked = post(client, OPTIONS, fields)
    if asked.status_code != 200:
        return asked
    credential = SoftAuthenticator().register(asked.json())
    return post(client, ADD, {"name": "Clé", "credential": credential})


def test_a_relayed_password_and_code_no_longer_register_a_staff_members_first_key():
    staff, app, client = staff_with_code_session()
    refused = add_first_key(client, app, "")
    assert refused.status_code == 400
    assert NOT_VALID in refused.json()["error"]
    assert not PasskeyDevice.objects.filter(user=staff).exists()
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(
        action="add-passkey", outcome="refused", reason="enrolment-code", patient=None
    ).exists()


def test_the_security_page_asks_staff_without_a_passkey_for_the_code():
    staff, _app, client = staff_with_code_session()
    page = client.get("/accounts/security/", HTTP_HOST="localhost:8000").content.decode()
    assert 'name="enrolment_code"' in page
    assert 'data-testid="staff-enrolment-notice"' in page


@pytest.mark.parametrize("kind", ["patient", "practitioner"])
def test_patients_and_practitioners_are_not_asked_for_a_code(kind):
    user = UserFactory() if kind == "patient" else PractitionerProfileFactory().user
    app = add_totp(user)
    client = logged_in_client(user, app)
    assert (
        'name="enrolment_code"'
        not in client.get("/accounts/security/", HTTP_HOST="localhost:8000").content.decode()
    )
    assert add_first_key(client, app, "").status_code == 200
    assert PasskeyDevice.objects.filter(user=user).count() == 1


def test_the_operators_code_registers_the_first_key_once_and_is_audited():
    staff, app, client = staff_with_code_session()
    code = issue(staff.username)

    stored = StaffPasskeyEnrolment.objects.get(user=staff)
    assert code.replace("-", "") not in stored.code_hash and stored.issued_by is None
    event = AuditEvent.objects.get(action="issue-passkey-enrolment")
    assert event.patient is None and event.actor is None and event.outcome == "allowed"
    assert code not in event.reason

    assert add_first_key(client, app, code.lower()).status_code == 200
    assert PasskeyDevice.objects.filter(user=staff).count() == 1
    stored.refresh_from_db()
    assert stored.used_at is not None


def test_a_used_code_cannot_serve_again():
    staff, app, client = staff_with_code_session()
    code = issue(staff.username)
    assert add_first_key(client, app, code).status_code == 200
    PasskeyDevice.objects.filter(user=staff).delete()  # say the key was lost and removed
    refused = add_first_key(client, app, code)
    assert refused.status_code == 400 and NOT_VALID in refused.json()["error"]
    assert not PasskeyDevice.objects.filter(user=staff).exists()


@pytest.mark.parametrize("case", ["wrong", "expired", "superseded", "another-staff-members"])
def test_wrong_expired_superseded_or_anothers_code_gets_one_answer(case):
    staff, app, client = staff_with_code_session()
    code = issue(staff.username)
    if case == "wrong":
        code = "0000-0000-0000" if code != "0000-0000-0000" else "1111-1111-1111"
    elif case == "expired":
        StaffPasskeyEnrolment.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "superseded":
        issue(staff.username)
    else:
        code = issue(StaffFactory().username)
    refused = add_first_key(client, app, code)
    assert refused.status_code == 400
    assert NOT_VALID in refused.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_a_code_checked_then_stopped_before_the_key_comes_registers_nothing():
    staff, app, client = staff_with_code_session()
    code = issue(staff.username)
    fields = {"name": "Clé", "otp_token": next_totp_token(app), "enrolment_code": code}
    options = post(client, OPTIONS, fields).json()
    issue(staff.username)  # a newer code stops this one meanwhile
    credential = SoftAuthenticator().register(options)
    refused = post(client, ADD, {"name": "Clé", "credential": credential})
    assert refused.status_code == 400 and NOT_VALID in refused.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_enrolment_code_tries_are_throttled_like_the_code_step():
    staff, app, client = staff_with_code_session()
    backup = add_backup_codes(staff)
    code = issue(staff.username)
    for index in range(5):
        refused = add_first_key(client, app, "ABCD-EFGH-JKMN", otp_token=backup[index])
        assert NOT_VALID in refused.json()["error"]
    # The sixth try is refused before it is checked, even with the right code.
    refused = add_first_key(client, app, code, otp_token=backup[5])
    assert refused.status_code == 400 and "Trop de tentatives" in refused.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_the_command_refuses_anyone_but_an_active_staff_member():
    patient = UserFactory()
    for username in (patient.username, "nobody"):
        with pytest.raises(CommandError):
            call_command("issue_passkey_enrolment", username, stdout=io.StringIO())
    assert not StaffPasskeyEnrolment.objects.exists()
    assert not AuditEvent.objects.filter(action="issue-passkey-enrolment").exists()


def test_a_staff_member_cannot_issue_their_own_code():
    staff = StaffFactory()
    with pytest.raises(EnrolmentRefused):
        issue_enrolment_code(staff.username, issued_by=staff)
    colleague = StaffFactory()
    assert issue_enrolment_code(staff.username, issued_by=colleague)
    assert StaffPasskeyEnrolment.objects.get().issued_by == colleague


# --- Issued by another staff member in the admin --------------------------------------------


def enrolment_path(user) -> str:
    return f"/admin/accounts/user/{user.pk}/passkey-enrolment/"


def test_a_colleague_issues_the_code_in_the_admin_and_sees_it_once():
    newcomer, app, newcomer_client = staff_with_code_session()
    colleague = StaffFactory()
    admin = logged_in_client(colleague)  # with a passkey: the admin's rule
    change_page = admin.get(f"/admin/accounts/user/{newcomer.pk}/change/").content.decode()
    assert enrolment_path(newcomer) in change_page
    confirm = admin.get(enrolment_path(newcomer))
    assert confirm.status_code == 200 and "<form" in confirm.content.decode()
    assert not StaffPasskeyEnrolment.objects.exists()  # a GET issues nothing

    shown = admin.post(enrolment_path(newcomer))
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    code = re.search(r'data-testid="enrolment-code">([0-9A-Z-]+)<', shown.content.decode())[1]
    event = AuditEvent.objects.get(action="issue-passkey-enrolment")
    assert event.actor == colleague and event.patient is None
    assert add_first_key(newcomer_client, app, code).status_code == 200


def test_no_one_issues_their_own_code_nor_one_for_a_patient():
    staff = StaffFactory()
    own = logged_in_client(staff)
    own_page = own.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    assert enrolment_path(staff) not in own_page
    refused = own.post(enrolment_path(staff)).content.decode()
    assert 'data-testid="enrolment-code"' not in refused
    assert "doit être émis par un autre membre du personnel" in refused
    patient = UserFactory()
    assert own.post(enrolment_path(patient)).status_code == 404
    assert not StaffPasskeyEnrolment.objects.exists()
    assert not AuditEvent.objects.filter(action="issue-passkey-enrolment").exists()


def test_a_third_user_is_refused_and_nothing_is_issued():
    newcomer = StaffFactory()
    outsider = logged_in_client(PractitionerProfileFactory().user)
    refused = outsider.post(enrolment_path(newcomer))
    assert refused.status_code == 302 and "login" in refused["Location"]
    assert not StaffPasskeyEnrolment.objects.exists()
    assert not AuditEvent.objects.filter(action="issue-passkey-enrolment").exists()


def test_an_operator_lets_a_staff_member_who_lost_every_passkey_enrol_again():
    """Losing one's only passkey would otherwise lock a staff member out of the admin for good:
    adding a key needs a session opened with one. ``--passkeys-lost`` removes them (and ends the
    account's sessions, one may have been opened with the lost key), then issues the code."""
    staff, app, client = staff_with_code_session()
    add_passkey(staff)
    bystander = StaffFactory()
    add_passkey(bystander)
    assert not needs_enrolment_code(staff)

    out = io.StringIO()
    call_command("issue_passkey_enrolment", staff.username, "--passkeys-lost", stdout=out)
    code = out.getvalue().split()[0].removeprefix("code=")

    assert not PasskeyDevice.objects.filter(user=staff).exists()
    assert PasskeyDevice.objects.filter(user=bystander).count() == 1  # nobody else's
    assert needs_enrolment_code(staff)
    removed = AuditEvent.objects.get(action="remove-passkey", reason="lost")
    assert removed.actor_id is None  # the operator's command: no staff account did it
    # The session opened before is over; a new login with the app and the code enrols a key.
    assert client.get("/accounts/security/")["Location"].startswith("/accounts/login/")
    fresh = logged_in_client(staff, app)
    assert add_first_key(fresh, app, code).status_code == 200
    assert PasskeyDevice.objects.filter(user=staff).count() == 1


def test_without_the_flag_a_staff_member_keeps_their_passkeys():
    staff, _app, _client = staff_with_code_session()
    add_passkey(staff)
    issue(staff.username)
    assert PasskeyDevice.objects.filter(user=staff).count() == 1
