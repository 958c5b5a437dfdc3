"""Staff reach the admin only from a session confirmed with a passkey (issue 15, item 7).

A code typed into a look-alike site can be relayed to the real one; a passkey signs the origin
of the page, so it cannot. A staff member logged in with a code is sent to the security page,
adds a passkey there if they have none, confirms the session with it, and goes back.
"""

from __future__ import annotations

import json

import pytest

from accounts.models import PasskeyDevice
from tests.accounts.factories import StaffFactory, add_totp, logged_in_client, next_totp_token
from tests.accounts.passkey_factories import SoftAuthenticator, add_passkey, staff_enrolment_code

pytestmark = pytest.mark.django_db


def post_json(client, url, body=None):
    """A form post as the page's script sends it: the browser's answer as JSON in a field."""
    fields = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in (body or {}).items()
    }
    return client.post(url, fields)


def test_staff_logged_in_with_a_code_are_sent_to_the_security_page():
    staff = StaffFactory()
    client = logged_in_client(staff, add_totp(staff))
    response = client.get("/admin/accounts/user/", follow=True)
    assert (
        response.redirect_chain[-1][0] == "/accounts/security/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    )
    page = response.content.decode()
    assert 'data-testid="staff-passkey-notice"' in page
    assert "data-passkey-login" not in page  # no passkey yet: add one first
    assert staff.username not in client.get("/admin/accounts/user/").content.decode()


def test_a_staff_member_adds_a_passkey_confirms_the_session_and_reaches_the_admin():
    staff = StaffFactory()
    app = add_totp(staff)
    client = logged_in_client(staff, app)
    client.get("/admin/", follow=True)
    authenticator = SoftAuthenticator()
    # The first key needs the one-time code an operator gave (test_staff_passkey_enrolment.py).
    fields = {
        "name": "Clé",
        "otp_token": next_totp_token(app),
        "enrolment_code": staff_enrolment_code(staff),
    }
    options = post_json(client, "/accounts/security/passkeys/options/", fields).json()
    credential = authenticator.register(options)
    added = post_json(
        client, "/accounts/security/passkeys/add/", {"name": "Clé", "credential": credential}
    )
    assert added.status_code == 200
    # Added, but this session was opened with a code: still not the admin.
    assert client.get("/admin/").status_code == 302
    page = client.get("/accounts/security/").content.decode()
    assert "data-passkey-login" in page

    options = post_json(client, "/accounts/login/passkey/options/").json()
    confirmed = post_json(
        client, "/accounts/login/passkey/", {"credential": authenticator.sign(options)}
    )

    assert confirmed.status_code == 200
    assert confirmed.json() == {"redirect": "/admin/"}  # back where the admin sent them
    assert client.get("/admin/").status_code == 200


def test_staff_logged_in_with_a_passkey_reach_the_admin():
    staff = StaffFactory()
    device, _authenticator = add_passkey(staff)
    assert logged_in_client(staff, device).get("/admin/").status_code == 200


def test_a_staff_member_with_a_passkey_adds_another_only_from_a_passkey_session():
    """Else whoever relayed a password and a code through a look-alike site could add a key of
    their own and open the admin with it."""
    staff = StaffFactory()
    device, _authenticator = add_passkey(staff)
    app = add_totp(staff)
    client = logged_in_client(staff, app)
    fields = {"name": "X", "otp_token": next_totp_token(app)}
    refused = post_json(client, "/accounts/security/passkeys/options/", fields)
    assert refused.status_code == 400
    assert "connectez-vous d'abord" in refused.json()["error"]
    assert list(PasskeyDevice.objects.filter(user=staff)) == [device]

    with_passkey = logged_in_client(staff, device)
    options = post_json(with_passkey, "/accounts/security/passkeys/options/", {"name": "Y"}).json()
    credential = SoftAuthenticator().register(options)
    added = post_json(
        with_passkey, "/accounts/security/passkeys/add/", {"name": "Y", "credential": credential}
    )
    assert added.status_code == 200
    assert PasskeyDevice.objects.filter(user=staff).count() == 2
