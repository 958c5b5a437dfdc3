"""Two-factor login: password, then TOTP or a backup code; replay, throttling, session ids."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.conf import settings
from django.test import Client, RequestFactory

from accounts.http import known_browser_markers
from accounts.middleware import SESSION_SEEN, SESSION_STARTED
from accounts.models import AccountSession
from accounts.sessions import SESSION_DEVICE, hash_session_key
from tests.accounts.factories import (
    PASSWORD,
    UserFactory,
    add_backup_codes,
    add_totp,
    logged_in_client,
    next_totp_token,
    totp_token,
)

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def password_step(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def stored(session_key):
    """The store's row of a session, found as the store finds it (by a keyed hash)."""
    return AccountSession.objects.filter(key_hash=hash_session_key(session_key))


def session_id(client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else None


def test_login_with_totp_reaches_a_verified_session(client):
    user = UserFactory()
    device = add_totp(user)

    response = password_step(client, user.username)
    assert response.status_code == 302 and response["Location"] == LOGIN
    # Only the password: everything but the second-factor step is out of reach.
    assert client.get("/").status_code == 302
    page = client.get(LOGIN)
    assert 'name="otp_token"' in page.content.decode()

    response = client.post(LOGIN, {"otp_token": totp_token(device)})
    # A patient lands on the summary of their record (tests/access_control/test_landing.py).
    assert response.status_code == 302 and response["Location"] == "/summary/"
    assert client.get("/summary/").status_code == 200


def test_login_with_a_backup_code_works_once(client):
    user = UserFactory()
    add_totp(user)
    codes = add_backup_codes(user)

    password_step(client, user.username)
    response = client.post(LOGIN, {"otp_token": codes[0].lower().replace("-", " ")})
    assert response.status_code == 302 and response["Location"] == "/summary/"

    other = Client()
    password_step(other, user.username)
    reused = other.post(LOGIN, {"otp_token": codes[0]})
    assert reused.status_code == 200
    assert "otp_token" in reused.context["form"].errors
    assert other.get("/").status_code == 302


def test_a_replayed_totp_token_is_refused(client):
    user = UserFactory()
    device = add_totp(user)
    token = totp_token(device)
    password_step(client, user.username)
    assert client.post(LOGIN, {"otp_token": token}).status_code == 302

    attacker = Client()
    password_step(attacker, user.username)
    replay = attacker.post(LOGIN, {"otp_token": token})
    assert replay.status_code == 200
    assert replay.context["form"].errors["otp_token"]
    assert attacker.get("/").status_code == 302


def test_unknown_identifier_and_wrong_password_get_the_same_answer(client):
    user = UserFactory()
    wrong_password = password_step(client, user.username, "not the password at all")
    unknown = password_step(Client(), "nobody-by-that-name", "not the password at all")
    assert wrong_password.status_code == unknown.status_code == 200
    assert (
        wrong_password.context["form"].non_field_errors()
        == unknown.context["form"].non_field_errors()
    )
    assert "Identifiant ou mot de passe incorrect." in wrong_password.content.decode()
    # The identifier typed is kept; the password never comes back.
    assert f'value="{user.username}"' in wrong_password.content.decode()
    assert "not the password at all" not in wrong_password.content.decode()


def test_password_guessing_locks_the_guesser_out_not_the_owner(client):
    user = UserFactory()
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False) as clock:
        for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
            password_step(guesser, user.username, "wrong password guess")
        # The guesser's address is now refused, even with the right password...
        refused = password_step(guesser, user.username)
        assert refused.status_code == 200
        assert "Trop de tentatives" in refused.content.decode()
        assert "_auth_user_id" not in guesser.session
        # ...while the owner, elsewhere, still logs in.
        assert password_step(client, user.username).status_code == 302

        clock.shift(settings.LOGIN_COOLOFF.total_seconds() - 60)
        assert "Trop de tentatives" in password_step(guesser, user.username).content.decode()
        clock.shift(61)
        assert password_step(guesser, user.username).status_code == 302


def test_guessing_spread_over_many_addresses_spares_a_known_browser():
    user = UserFactory()
    known = verified_client(user)  # completed a login before: carries the known-browser cookie
    known.post("/accounts/logout/")
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False) as clock:
        for attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT_ALL_CLIENTS):
            password_step(
                Client(REMOTE_ADDR=f"198.51.100.{attempt % 250}"),
                user.username,
                "wrong password guess",
            )
        new_browser = password_step(Client(REMOTE_ADDR="192.0.2.50"), user.username)
        assert "Trop de tentatives" in new_browser.content.decode()
        assert password_step(known, user.username).status_code == 302
        clock.shift(settings.LOGIN_COOLOFF.total_seconds() + 1)
        assert password_step(Client(REMOTE_ADDR="192.0.2.50"), user.username).status_code == 302


def test_throttling_per_client_spans_identifiers(client):
    users = UserFactory.create_batch(3)
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False):
        for attempt in range(settings.LOGIN_FAILURES_PER_CLIENT):
            password_step(client, f"guess-{attempt}", "wrong password guess")
        refused = password_step(client, users[0].username)
        assert "Trop de tentatives" in refused.content.decode()
        # Another client is not affected by this one's guesses.
        assert password_step(Client(REMOTE_ADDR="192.0.2.7"), users[1].username).status_code == 302


def test_second_factor_guessing_is_throttled_then_cools_off(client):
    user = UserFactory()
    device = add_totp(user)
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False) as clock:
        password_step(client, user.username)
        for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
            client.post(LOGIN, {"otp_token": "000000"})
        refused = client.post(LOGIN, {"otp_token": totp_token(device, at=time.time())})
        assert "Trop de tentatives" in refused.content.decode()
        assert client.get("/").status_code == 302

        clock.shift(settings.LOGIN_COOLOFF.total_seconds() + 1)
        # The idle session ended meanwhile: the person starts again, and now gets in.
        password_step(client, user.username)
        accepted = client.post(LOGIN, {"otp_token": totp_token(device, at=time.time())})
        assert accepted.status_code == 302 and accepted["Location"] == "/summary/"


def test_first_login_forces_second_factor_setup(client):
    user = UserFactory()
    response = password_step(client, user.username)
    assert response["Location"] == "/accounts/2fa/setup/"
    assert client.get("/").status_code == 302
    assert client.get("/").headers["Location"] == LOGIN
    assert client.get(LOGIN).headers["Location"] == "/accounts/2fa/setup/"

    page = client.get("/accounts/2fa/setup/")
    secret = page.context["secret"]
    assert f'data-testid="totp-secret">{secret}<' in page.content.decode()
    device = user.totpdevice_set.get(confirmed=False)

    wrong = client.post("/accounts/2fa/setup/", {"otp_token": "123"})
    assert wrong.context["form"].errors["otp_token"]
    assert wrong.context["secret"] == secret  # the same secret until confirmed

    done = client.post("/accounts/2fa/setup/", {"otp_token": totp_token(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == settings.BACKUP_CODE_COUNT
    assert "no-store" in done["Cache-Control"]
    assert client.get("/summary/").status_code == 200


def test_session_id_changes_at_each_factor(client):
    user = UserFactory()
    device = add_totp(user)
    client.get(LOGIN)
    client.session.save()
    anonymous_id = session_id(client)
    password_step(client, user.username)
    after_password = session_id(client)
    client.post(LOGIN, {"otp_token": totp_token(device)})
    after_code = session_id(client)
    assert None not in (after_password, after_code)
    assert len({anonymous_id, after_password, after_code}) == 3
    assert not stored(after_password).exists()


def verified_client(user) -> Client:
    client = Client()
    device = add_totp(user) if not user.totpdevice_set.exists() else user.totpdevice_set.get()
    password_step(client, user.username)
    assert client.post(LOGIN, {"otp_token": totp_token(device)}).status_code == 302
    return client


def test_idle_session_expires_after_15_minutes():
    user = UserFactory()
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False) as clock:
        client = verified_client(user)
        clock.shift(14 * 60)
        assert client.get("/summary/").status_code == 200  # activity extends the session
        clock.shift(14 * 60)
        assert client.get("/summary/").status_code == 200
        clock.shift(15 * 60 + 1)
        expired = client.get("/")
        assert expired.status_code == 200
        assert user.username not in expired.content.decode()
        page = client.get(LOGIN)
        assert "Votre session a expiré" in page.content.decode()


def test_session_ends_after_12_hours_even_when_active():
    user = UserFactory()
    with time_machine.travel("2026-11-28 08:00 +0000", tick=False) as clock:
        client = verified_client(user)
        for _step in range(12 * 6 + 1):
            clock.shift(10 * 60)
            response = client.get("/")
        assert user.username not in response.content.decode()


def test_logout_ends_the_session_on_the_server_and_clears_site_data():
    user = UserFactory()
    client = verified_client(user)
    key = session_id(client)
    assert stored(key).exists()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert not stored(key).exists()
    assert user.username not in client.get("/").content.decode()


def test_login_form_refuses_a_post_without_csrf_token():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session

    page = client.get(LOGIN)
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(
        LOGIN, {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302


def test_next_is_followed_only_when_it_stays_on_this_site(client):
    user = UserFactory()
    device = add_totp(user)
    client.get(LOGIN + "?next=https://evil.example/steal")
    password_step(client, user.username)
    assert client.post(LOGIN, {"otp_token": totp_token(device)})["Location"] == "/summary/"

    other = Client()
    other.get(LOGIN + "?next=/healthz")
    password_step(other, user.username)
    assert other.post(LOGIN, {"otp_token": next_totp_token(device)})["Location"] == ("/healthz")


def test_second_factor_setup_refuses_anonymous_and_already_equipped_users():
    anonymous = Client().get("/accounts/2fa/setup/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    user = UserFactory()
    client = verified_client(user)
    device = user.totpdevice_set.get()
    # A verified user cannot make the page reveal a new secret, nor the existing one.
    page = client.get("/accounts/2fa/setup/")
    assert page.status_code == 302 and page["Location"] == "/"
    assert user.totpdevice_set.count() == 1
    assert device.base32_secret not in client.get("/").content.decode()


def test_session_id_changes_when_the_second_factor_is_set_up(client):
    user = UserFactory()
    password_step(client, user.username)
    after_password = session_id(client)
    client.get("/accounts/2fa/setup/")
    device = user.totpdevice_set.get(confirmed=False)
    client.post("/accounts/2fa/setup/", {"otp_token": totp_token(device)})
    assert session_id(client) not in (None, after_password)
    assert not stored(after_password).exists()


def test_logout_needs_a_post_with_a_csrf_token():
    user = UserFactory()
    client = verified_client(user)
    assert client.get("/accounts/logout/").status_code == 200
    assert client.get("/summary/").status_code == 200  # a GET shows a button, it does not log out
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    assert csrf_client.post("/accounts/logout/").status_code == 403
    assert user.username in client.get("/summary/").content.decode()


def test_a_person_warned_of_the_idle_timeout_can_extend_the_session():
    user = UserFactory()
    with time_machine.travel("2026-11-28 10:00 +0000", tick=False) as clock:
        client = verified_client(user)
        page = client.get("/summary/").content.decode()
        assert 'data-session-idle-seconds="900"' in page
        assert 'id="session-warning"' in page and "/static/js/session.js" in page
        clock.shift(13 * 60)
        assert client.post("/accounts/session/extend/").status_code == 204
        clock.shift(13 * 60)  # 26 minutes after the last page, 13 after extending
        assert user.username in client.get("/summary/").content.decode()
        assert client.get("/accounts/session/extend/").status_code == 405
    assert Client().post("/accounts/session/extend/").status_code == 302


def known_browser(client: Client) -> str:
    """The accounts the browser's "known browser" cookie names, as the login reads them (its
    signature holds a time, so the cookies themselves differ)."""
    request = RequestFactory().get(LOGIN)
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return known_browser_markers(request)


def test_the_tests_shortcut_leaves_the_session_and_cookies_of_the_real_login(client):
    """logged_in_client (bench.world.verified_client) stands in for the two forms in every other
    test: it must leave what they leave, or those tests would pass on a session no real login
    makes. The session's times, the session id and the CSRF secret differ by nature: only
    their keys and the cookies' names are compared."""
    user = UserFactory()
    device = add_totp(user)
    client.get(LOGIN)
    password_step(client, user.username)
    client.get(LOGIN)
    assert client.post(LOGIN, {"otp_token": totp_token(device)}).status_code == 302
    shortcut = logged_in_client(user, device)

    real_session, short_session = dict(client.session), dict(shortcut.session)
    assert set(short_session) == set(real_session)
    # The browser and network come from the request, which the shortcut has not.
    by_key_only = {SESSION_STARTED, SESSION_SEEN, SESSION_DEVICE}
    assert {k: v for k, v in short_session.items() if k not in by_key_only} == {
        k: v for k, v in real_session.items() if k not in by_key_only
    }
    assert set(shortcut.cookies) == set(client.cookies)
    assert known_browser(shortcut) == known_browser(client) != ""
    # And the shortcut's session is one the portal accepts as complete.
    assert shortcut.get("/summary/").context["user"] == user
