"""/accounts/sessions/: a person's open sessions, ending one or all others, for real (a kept
cookie is refused), and the store that never holds a session's key in clear."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import AccountSession
from accounts.services.sessions import browser_summary, end_other_sessions, network_of
from accounts.sessions import hash_session_key
from audit.models import Action, AuditEvent, Outcome
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    logged_in_client,
    next_totp_token,
)

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
SESSIONS = "/accounts/sessions/"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def browser_login(user, device, *, agent: str, address: str) -> Client:
    """Both login forms, from a browser of its own (its User-Agent and address)."""
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    client.get(LOGIN)
    response = client.post(LOGIN, {"otp_token": next_totp_token(device)})
    assert response.status_code == 302, response
    return client


def key_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def signed_in(client: Client) -> bool:
    return client.get("/records/").status_code == 200


def test_the_page_lists_each_open_session_with_browser_network_and_times():
    patient = UserFactory()
    device = add_totp(patient)
    laptop = browser_login(patient, device, agent=FIREFOX_WINDOWS, address="192.0.2.77")
    phone = browser_login(patient, device, agent=SAFARI_IPHONE, address="2001:db8:42:7::15")

    page = laptop.get(SESSIONS).content.decode()

    assert page.count('data-testid="session"') == 2
    assert "Firefox, Windows" in page and "Safari, iOS" in page
    # A network, named so: no GeoIP database, so no place is claimed.
    assert "<dt>Réseau</dt>" in page and "Lieu" not in page
    assert "<dd>192.0.2.x</dd>" in page and "<dd>2001:db8:42::/48</dd>" in page
    assert "Ce n'est pas un lieu" in html.unescape(page)
    # Never the full address, not even the person's own.
    assert "192.0.2.77" not in page and "2001:db8:42:7::15" not in page
    # The current session first, marked; only the other one has its own button.
    first = page.index('data-testid="session"')
    assert page.index("cette session") < page.index('data-testid="session"', first + 1)
    assert page.count("Mettre fin à cette session") == 1
    assert "Mettre fin à toutes les autres sessions" in page
    assert signed_in(phone)


def test_the_page_is_one_step_from_the_menu_of_every_role():
    """The menu's « Sécurité du compte » leads to the security page, which links here."""
    for user in (PractitionerProfileFactory().user, UserFactory()):
        client = logged_in_client(user)
        assert 'href="/accounts/security/"' in client.get("/accounts/sessions/").content.decode()
        assert f'href="{SESSIONS}"' in client.get("/accounts/security/").content.decode()


def test_ending_a_session_refuses_its_kept_cookie_at_once():
    patient = UserFactory()
    device = add_totp(patient)
    mine = browser_login(patient, device, agent=FIREFOX_WINDOWS, address="192.0.2.1")
    stolen = browser_login(patient, device, agent=SAFARI_IPHONE, address="198.51.100.9")
    kept_cookie = key_of(stolen)

    response = mine.post(SESSIONS + "end/", {"session": hash_session_key(kept_cookie)})

    assert response.status_code == 302 and response["Location"] == SESSIONS
    assert not AccountSession.objects.filter(key_hash=hash_session_key(kept_cookie)).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = kept_cookie
    assert replay.get("/records/")["Location"].startswith(LOGIN)
    assert signed_in(mine)
    event = AuditEvent.objects.filter(action=Action.END_SESSION).get()
    assert (event.patient, event.actor, event.outcome) == (patient, patient, Outcome.ALLOWED)


def test_ending_all_others_keeps_only_this_one():
    patient = UserFactory()
    device = add_totp(patient)
    mine = browser_login(patient, device, agent=FIREFOX_WINDOWS, address="192.0.2.1")
    others = [logged_in_client(patient, device) for _ in range(2)]

    response = mine.post(SESSIONS + "end-others/")

    assert response.status_code == 302
    assert not any(signed_in(other) for other in others)
    assert signed_in(mine)
    assert "Aucune autre session n'est ouverte." in mine.get(SESSIONS).content.decode()
    assert AccountSession.objects.filter(user=patient).count() == 1


def test_another_person_cannot_end_a_session_that_is_not_theirs():
    patient, stranger = UserFactory(), UserFactory()
    victim = logged_in_client(patient)
    key_hash = hash_session_key(key_of(victim))
    third = logged_in_client(stranger)
    before = list(AccountSession.objects.values_list("key_hash", "session_data").order_by("pk"))

    assert third.post(SESSIONS + "end/", {"session": key_hash}).status_code == 404
    assert third.post(SESSIONS + "end/", {"session": "not a session"}).status_code == 404
    # "End all others" ends the stranger's own others only.
    assert third.post(SESSIONS + "end-others/").status_code == 302

    after = list(AccountSession.objects.values_list("key_hash", "session_data").order_by("pk"))
    assert after == before
    assert signed_in(victim)
    assert not AuditEvent.objects.filter(action=Action.END_SESSION).exists()


def test_the_current_session_is_not_ended_by_its_own_button():
    patient = UserFactory()
    client = logged_in_client(patient)
    current = hash_session_key(key_of(client))
    assert client.post(SESSIONS + "end/", {"session": current}).status_code == 404
    assert signed_in(client)


def test_logging_out_removes_the_session_from_the_list_and_the_store():
    patient = UserFactory()
    stays, leaves = logged_in_client(patient), logged_in_client(patient)
    leaving_key = hash_session_key(key_of(leaves))
    leaves.post("/accounts/logout/")
    assert not AccountSession.objects.filter(key_hash=leaving_key).exists()
    assert stays.get(SESSIONS).content.decode().count('data-testid="session"') == 1
    event = AuditEvent.objects.get(action=Action.LOGOUT)
    assert (event.patient, event.actor) == (patient, patient)


def test_the_store_never_holds_a_session_key_in_clear():
    patient = UserFactory()
    client = logged_in_client(patient)
    key = key_of(client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_accountsession")
        stored = repr(cursor.fetchall())
    assert key not in stored
    assert hash_session_key(key) in stored
    assert signed_in(client)


def test_a_password_changed_elsewhere_ends_the_other_sessions():
    """The service the password change and reset call, and Django's own session hash: a kept
    cookie of the old password is refused, and the list no longer shows it."""
    patient = UserFactory()
    old = logged_in_client(patient)
    kept_cookie = key_of(old)
    current = logged_in_client(patient)
    patient.set_password("a brand new passphrase for the record")
    patient.save()

    ended = end_other_sessions(patient, key_of(current), reason="password")

    assert ended == 1  # the old one; the current one is kept
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = kept_cookie
    assert replay.get("/records/")["Location"].startswith(LOGIN)
    event = AuditEvent.objects.get(action=Action.END_SESSION)
    assert event.reason == "password"


def test_a_session_of_an_old_password_is_not_listed_even_before_its_cookie_returns():
    patient = UserFactory()
    logged_in_client(patient)
    patient.set_password("a brand new passphrase for the record")
    patient.save()
    fresh = logged_in_client(patient)
    assert fresh.get(SESSIONS).content.decode().count('data-testid="session"') == 1


def test_last_activity_is_written_at_most_once_a_minute_and_stale_sessions_go_at_login():
    patient = UserFactory()
    client = logged_in_client(patient)
    row = AccountSession.objects.get(user=patient)
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        client.get("/records/")
    assert AccountSession.objects.get(pk=row.pk).last_seen_at == row.last_seen_at
    with time_machine.travel(timezone.now() + timedelta(seconds=90)):
        client.get("/records/")
    assert AccountSession.objects.get(pk=row.pk).last_seen_at > row.last_seen_at

    # Idle for good: not listed; the next login takes it out of the store.
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        fresh = logged_in_client(patient)
        assert fresh.get(SESSIONS).content.decode().count('data-testid="session"') == 1
    assert not AccountSession.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (FIREFOX_WINDOWS, "Firefox, Windows"),
        (SAFARI_IPHONE, "Safari, iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge, Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome, Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "Safari, macOS",
        ),
        ("curl/8.5.0", ""),
        ("", ""),
    ],
)
def test_browser_summary(agent, summary):
    assert browser_summary(agent) == summary


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.77", "192.0.2.x"),
        ("::ffff:198.51.100.4", "198.51.100.x"),
        ("2001:db8:42:7::15", "2001:db8:42::/48"),
        ("fe80::1%eth0", "fe80::/48"),
        ("", ""),
        ("not an address", ""),
    ],
)
def test_network_of_keeps_the_network_only(address, network):
    assert network_of(address) == network
    assert not re.search(r"\.\d+$", network_of(address))


def test_clearsessions_removes_expired_rows_of_the_store():
    patient = UserFactory()
    client = logged_in_client(patient)
    AccountSession.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    call_command("clearsessions")
    assert not AccountSession.objects.exists()
    assert client.get("/records/")["Location"].startswith(LOGIN)
