"""Passkeys: registered at /accounts/security/, used instead of the code at login, removed.

The authenticator is a software one (tests/accounts/passkey_factories.py) answering the
portal's real challenges; py_webauthn checks its answers as it would a phone's.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import PasskeyDevice
from audit.models import AuditEvent
from tests.accounts.factories import (
    PractitionerProfileFactory,
    UserFactory,
    add_backup_codes,
    add_totp,
    logged_in_client,
    next_totp_token,
    password_only_client,
    totp_token,
)
from tests.accounts.passkey_factories import SoftAuthenticator, add_passkey

pytestmark = pytest.mark.django_db

SECURITY = "/accounts/security/"
REGISTRATION_OPTIONS = "/accounts/security/passkeys/options/"
REGISTER = "/accounts/security/passkeys/add/"
LOGIN_OPTIONS = "/accounts/login/passkey/options/"
LOGIN_WITH_PASSKEY = "/accounts/login/passkey/"


def post_json(client: Client, url: str, body: dict | None = None):
    """A form post as the page's script sends it: the browser's answer as JSON in a field."""
    fields = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in (body or {}).items()
    }
    return client.post(url, fields)


def register(
    client: Client,
    authenticator: SoftAuthenticator,
    name: str = "Téléphone",
    code: str = "",
    **kw,
):
    """Both steps of adding a passkey as the page's script runs them: the options (with the
    name and the code of the app), then the key the authenticator created. The answer of the
    first step when it refused."""
    asked = post_json(client, REGISTRATION_OPTIONS, {"name": name, "otp_token": code})
    if asked.status_code != 200:
        return asked
    credential = authenticator.register(asked.json(), **kw)
    return post_json(client, REGISTER, {"name": name, "credential": credential})


def signed_in(user=None):
    """A person past both factors with their app, the client, and the app."""
    user = user or UserFactory()
    device = add_totp(user)
    return user, logged_in_client(user, device), device


def sign_in(client: Client, authenticator: SoftAuthenticator, **kw):
    options = post_json(client, LOGIN_OPTIONS).json()
    return post_json(client, LOGIN_WITH_PASSKEY, {"credential": authenticator.sign(options, **kw)})


def events(user, action: str):
    return AuditEvent.objects.filter(actor=user, action=action)


# --- Registration ----------------------------------------------------------------------------


def test_a_patient_registers_a_passkey_and_sees_it_listed():
    patient, client, app = signed_in()
    authenticator = SoftAuthenticator()

    response = register(client, authenticator, name="  Mon   téléphone ", code=next_totp_token(app))

    assert response.status_code == 200, response.content
    assert response.json() == {"redirect": SECURITY}
    device = PasskeyDevice.objects.get(user=patient)
    assert device.name == "Mon téléphone"
    assert device.credential_id == authenticator.id
    # The public key only: what the authenticator sent, nothing the portal could sign with.
    assert bytes(device.public_key) == authenticator.cose_public_key()
    page = client.get(SECURITY).content.decode()
    assert "Mon téléphone" in page
    assert f"/accounts/security/passkeys/{device.pk}/remove/" in page
    event = events(patient, "add-passkey").get()
    assert event.patient == patient and event.outcome == "allowed"  # the patient's own chain


def test_a_practitioners_passkey_is_recorded_on_the_system_chain():
    practitioner, client, app = signed_in(PractitionerProfileFactory().user)
    assert register(client, SoftAuthenticator(), code=next_totp_token(app)).status_code == 200
    event = events(practitioner, "add-passkey").get()
    assert event.patient is None and event.chain.key == "system"


@pytest.mark.parametrize("code", ["", "000000", "ABCDE-FGHJK"])
def test_adding_a_passkey_asks_the_second_factor_again(code):
    """A session left open, or relayed once, is not enough to add a key of one's own."""
    patient, client, app = signed_in()
    response = register(client, SoftAuthenticator(), code=code)
    assert response.status_code == 400
    assert "Ce code n'est pas valide" in response.json()["error"]
    # No challenge was handed out: a key created anyway cannot be added.
    options = {"challenge": "AAAA", "rp": {"id": "localhost"}}
    credential = SoftAuthenticator().register(options)
    added = post_json(client, REGISTER, {"name": "A", "credential": credential})
    assert added.status_code == 400
    assert not PasskeyDevice.objects.exists()
    # A backup code does, once.
    codes = add_backup_codes(patient)
    assert register(client, SoftAuthenticator(), code=codes[0]).status_code == 200


def test_a_session_opened_with_a_passkey_adds_another_without_a_code():
    patient = UserFactory()
    device, _authenticator = add_passkey(patient)
    client = logged_in_client(patient, device)
    assert (
        'name="otp_token"' not in client.get(SECURITY, HTTP_HOST="localhost:8000").content.decode()
    )
    assert register(client, SoftAuthenticator(), name="Clé USB").status_code == 200
    assert PasskeyDevice.objects.filter(user=patient).count() == 2


def test_the_registration_options_name_the_portal_and_exclude_known_keys():
    patient, client, app = signed_in()
    _device, authenticator = add_passkey(patient)
    options = post_json(
        client, REGISTRATION_OPTIONS, {"name": "A", "otp_token": next_totp_token(app)}
    ).json()
    assert options["rp"]["id"] == "localhost"  # DMP_SITE_URL http://127.0.0.1:8000 in tests
    assert [c["id"] for c in options["excludeCredentials"]] == [authenticator.id]


@pytest.mark.parametrize(
    "origin", ["https://dmp.example.evil", "http://localhost:8001", "http://127.0.0.1:8000"]
)
def test_a_passkey_created_for_another_origin_is_refused(origin):
    patient, client, app = signed_in()
    response = register(client, SoftAuthenticator(), code=next_totp_token(app), origin=origin)
    assert response.status_code == 400
    assert "n'a pas été acceptée" in response.json()["error"]
    assert not PasskeyDevice.objects.filter(user=patient).exists()
    assert not events(patient, "add-passkey").exists()


def test_an_answer_without_a_challenge_of_this_session_is_refused():
    patient, client, app = signed_in()
    fields = {"name": "A", "otp_token": next_totp_token(app)}
    options = post_json(client, REGISTRATION_OPTIONS, fields).json()
    credential = SoftAuthenticator().register(options)
    assert post_json(client, REGISTER, {"name": "A", "credential": credential}).status_code == 200
    # The challenge was given back once: the same answer again is refused.
    again = post_json(client, REGISTER, {"name": "B", "credential": credential})
    assert again.status_code == 400
    assert PasskeyDevice.objects.filter(user=patient).count() == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "Clé\x00USB", "Clé\x1bUSB"])
def test_a_passkey_needs_a_name_of_1_to_64_characters(name):
    """Said before the person goes through their authenticator, and again at the end."""
    patient, client, app = signed_in()
    response = register(client, SoftAuthenticator(), name=name, code=next_totp_token(app))
    assert response.status_code == 400
    assert "1 à 64 caractères" in response.json()["error"]
    options = post_json(
        client, REGISTRATION_OPTIONS, {"name": "Bon nom", "otp_token": next_totp_token(app)}
    ).json()
    credential = SoftAuthenticator().register(options)
    added = post_json(client, REGISTER, {"name": name, "credential": credential})
    assert added.status_code == 400
    assert "1 à 64 caractères" in added.json()["error"]
    assert not PasskeyDevice.objects.exists()


def test_malformed_answers_are_refused_with_a_message():
    patient, client, app = signed_in()
    for credential in ("garbage", '["not", "an", "object"]', '{"id": 5}', "", '{"id": "AAAA"}'):
        fields = {"name": "A", "otp_token": next_totp_token(app)}
        assert post_json(client, REGISTRATION_OPTIONS, fields).status_code == 200
        response = post_json(client, REGISTER, {"name": "A", "credential": credential})
        assert response.status_code == 400
        assert "Recommencez" in response.json()["error"]
    raw = client.post(REGISTER, b"\xff\xfe not a form", content_type="application/json")
    assert raw.status_code == 400
    assert not PasskeyDevice.objects.exists()


def test_one_authenticator_cannot_be_registered_to_two_accounts():
    _first, first_client, first_app = signed_in()
    _second, second_client, second_app = signed_in()
    authenticator = SoftAuthenticator()
    assert register(first_client, authenticator, code=next_totp_token(first_app)).status_code == 200
    response = register(second_client, authenticator, code=next_totp_token(second_app))
    assert response.status_code == 400
    assert PasskeyDevice.objects.get().user == _first


def test_the_security_page_and_its_steps_need_a_complete_login():
    patient = UserFactory()
    add_totp(patient)
    half = password_only_client(patient)
    for response in (half.get(SECURITY), post_json(half, REGISTRATION_OPTIONS)):
        assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    anonymous = Client()
    assert anonymous.get(SECURITY).status_code == 302
    assert post_json(anonymous, REGISTER, {"name": "A"}).status_code == 302
    assert not PasskeyDevice.objects.exists()


def test_the_security_page_lists_the_factors_and_says_what_to_do_without_javascript():
    patient = UserFactory()
    device = add_totp(patient)
    client = logged_in_client(patient, device)
    page = client.get(SECURITY, HTTP_HOST="localhost:8000").content.decode()
    assert "Application d'authentification configurée le" in page
    assert "nécessite JavaScript" in page
    assert "data-passkey-register" in page
    assert 'src="/static/js/passkeys.js"' in page
    assert "<script>" not in page  # no inline script: the CSP would block it


def test_at_another_address_the_security_page_links_to_the_portals_own():
    """Browsers sign passkeys for the portal's address only: in development, localhost."""
    client = logged_in_client(UserFactory())
    page = client.get(SECURITY, HTTP_HOST="127.0.0.1:8000").content.decode()
    assert 'href="http://localhost:8000/accounts/security/"' in page
    assert "data-passkey-register" not in page


# --- Login with a passkey --------------------------------------------------------------------


def test_a_passkey_replaces_the_code_at_login():
    patient = UserFactory()
    add_totp(patient)
    device, authenticator = add_passkey(patient)
    client = password_only_client(patient)
    assert "Se connecter avec une clé d'accès" in client.get("/accounts/login/").content.decode()

    response = sign_in(client, authenticator)

    assert response.status_code == 200, response.content
    assert response.json() == {"redirect": "/summary/"}
    assert client.get("/summary/").status_code == 200
    device.refresh_from_db()
    assert device.sign_count == 1 and device.last_used_at is not None
    event = events(patient, "login-passkey").get()
    assert event.patient == patient and event.outcome == "allowed"


def test_the_code_page_offers_no_passkey_to_someone_without_one():
    patient = UserFactory()
    add_totp(patient)
    page = password_only_client(patient).get("/accounts/login/").content.decode()
    assert "data-passkey-login" not in page


@pytest.mark.parametrize(
    "change",
    [
        {"origin": "https://dmp.example.evil"},
        {"origin": "http://127.0.0.1:8000"},
        {"rp_id": "dmp.example.evil"},
    ],
)
def test_an_assertion_for_another_origin_or_site_is_refused(change):
    patient = UserFactory()
    add_totp(patient)
    device, authenticator = add_passkey(patient)
    client = password_only_client(patient)
    response = sign_in(client, authenticator, **change)
    assert response.status_code == 400
    assert "n'a pas été acceptée" in response.json()["error"]
    assert client.get("/summary/").status_code == 302  # still at the second step
    device.refresh_from_db()
    assert device.sign_count == 0
    # On the patient's own chain, in no one's name: the person is not proven (as a wrong code).
    refused = AuditEvent.objects.get(patient=patient, action="login-passkey")
    assert refused.outcome == "refused" and refused.actor_id is None


@pytest.mark.parametrize("count", [5, 3])
def test_a_replayed_or_lower_signature_counter_is_refused(count):
    patient = UserFactory()
    add_totp(patient)
    device, authenticator = add_passkey(patient)
    PasskeyDevice.objects.filter(pk=device.pk).update(sign_count=5)
    client = password_only_client(patient)
    assert sign_in(client, authenticator, count=count).status_code == 400
    assert client.get("/summary/").status_code == 302
    device.refresh_from_db()
    assert device.sign_count == 5
    # The next signature of the genuine authenticator goes through.
    assert sign_in(client, authenticator, count=6).status_code == 200
    device.refresh_from_db()
    assert device.sign_count == 6


def test_the_same_assertion_posted_twice_is_refused_the_second_time():
    patient = UserFactory()
    add_totp(patient)
    _device, authenticator = add_passkey(patient)
    client = password_only_client(patient)
    options = post_json(client, LOGIN_OPTIONS).json()
    assertion = authenticator.sign(options)
    assert post_json(client, LOGIN_WITH_PASSKEY, {"credential": assertion}).status_code == 200
    other = password_only_client(patient)
    post_json(other, LOGIN_OPTIONS)
    assert post_json(other, LOGIN_WITH_PASSKEY, {"credential": assertion}).status_code == 400
    assert other.get("/summary/").status_code == 302


def test_a_passkey_of_another_account_is_refused():
    victim, intruder = UserFactory(), UserFactory()
    add_totp(victim)
    _intruder_device, intruder_key = add_passkey(intruder)
    add_passkey(victim)
    client = password_only_client(victim)
    response = sign_in(client, intruder_key)
    assert response.status_code == 400
    assert client.get("/summary/").status_code == 302
    assert PasskeyDevice.objects.get(user=intruder).sign_count == 0


def test_passkey_tries_are_throttled_with_the_codes():
    patient = UserFactory()
    totp = add_totp(patient)
    _device, authenticator = add_passkey(patient)
    client = password_only_client(patient)
    for _try in range(5):
        assert sign_in(client, authenticator, origin="https://dmp.example.evil").status_code == 400
    # The sixth try is refused before it is checked, be it a good passkey or a good code.
    refused = sign_in(client, authenticator)
    assert refused.status_code == 400
    assert "Trop de tentatives" in refused.json()["error"]
    page = client.post("/accounts/login/", {"otp_token": totp_token(totp)})
    assert page.status_code == 200
    assert client.get("/summary/").status_code == 302


def test_login_options_name_only_the_persons_own_keys():
    patient, other = UserFactory(), UserFactory()
    add_totp(patient)
    _mine, my_key = add_passkey(patient)
    _theirs, their_key = add_passkey(other)
    options = post_json(password_only_client(patient), LOGIN_OPTIONS).json()
    assert [c["id"] for c in options["allowCredentials"]] == [my_key.id]
    assert options["rpId"] == "localhost"


def test_a_person_with_only_a_passkey_is_asked_for_it_not_for_a_new_app():
    patient = UserFactory()
    _device, authenticator = add_passkey(patient)
    client = password_only_client(patient)
    assert client.get("/accounts/login/").status_code == 200
    assert sign_in(client, authenticator).status_code == 200
    assert client.get("/summary/").status_code == 200


# --- Removal ---------------------------------------------------------------------------------


def test_a_person_removes_one_of_their_passkeys():
    patient = UserFactory()
    totp = add_totp(patient)
    device, _authenticator = add_passkey(patient)
    client = logged_in_client(patient, totp)
    response = client.post(f"/accounts/security/passkeys/{device.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == SECURITY
    assert not PasskeyDevice.objects.filter(pk=device.pk).exists()
    assert events(patient, "remove-passkey").get().patient == patient


def test_the_last_second_factor_cannot_be_removed():
    patient = UserFactory()
    device, _authenticator = add_passkey(patient)
    client = logged_in_client(patient, device)
    response = client.post(f"/accounts/security/passkeys/{device.pk}/remove/", follow=True)
    assert PasskeyDevice.objects.filter(pk=device.pk).exists()
    assert "votre seul second facteur" in response.content.decode()
    assert not events(patient, "remove-passkey").exists()
    # With a second passkey, the first may go.
    add_passkey(patient, name="Clé USB")
    client.post(f"/accounts/security/passkeys/{device.pk}/remove/")
    assert not PasskeyDevice.objects.filter(pk=device.pk).exists()


def test_a_third_user_cannot_remove_someone_elses_passkey():
    owner, stranger = UserFactory(), UserFactory()
    add_totp(owner)
    device, _authenticator = add_passkey(owner)
    client = logged_in_client(stranger)
    response = client.post(f"/accounts/security/passkeys/{device.pk}/remove/")
    assert response.status_code == 404
    assert PasskeyDevice.objects.filter(pk=device.pk, user=owner).exists()
    assert not AuditEvent.objects.filter(action="remove-passkey").exists()
    assert client.post("/accounts/security/passkeys/999999/remove/").status_code == 404


def test_removal_is_a_post():
    patient = UserFactory()
    add_totp(patient)
    device, _authenticator = add_passkey(patient)
    client = logged_in_client(patient)
    assert client.get(f"/accounts/security/passkeys/{device.pk}/remove/").status_code == 405
    assert PasskeyDevice.objects.filter(pk=device.pk).exists()
