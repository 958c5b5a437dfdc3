"""Practitioners' sign-in through an OpenID Connect provider (issue 19, item 4), against a real
provider on the loopback: a second process of this project's django-oauth-toolkit in OIDC mode
(tests/oidc_provider/), the portal under test (pytest-django's live server) as relying party,
and a plain HTTP client as the browser (tests/oidc_provider/flow.py)."""

from __future__ import annotations

import html
import time

import pytest
from stdnum import luhn

from accounts.middleware import SESSION_SEEN
from accounts.models import AccountSession, PractitionerProfile, User, UserKind
from accounts.sessions import SessionStore
from audit.models import AuditEvent
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, UserFactory, add_totp
from tests.oidc_provider.flow import (
    PASSWORD,
    at_provider,
    browser,
    query_of,
    sign_in,
    to_provider,
    with_query,
)
from tests.oidc_provider.server import running_provider

pytestmark = pytest.mark.django_db(transaction=True)


def _rpps(partial: str) -> str:
    return partial + luhn.calc_check_digit(partial)


RPPS_MARTIN = _rpps("1990000001")
RPPS_UNKNOWN = _rpps("1990000002")
RPPS_ON_PATIENT = _rpps("1990000003")
RPPS_ON_STAFF = _rpps("1990000004")
# Who the provider knows: (username, password, acr, SubjectNameID).
PROVIDER_USERS = [
    ("dr.martin", PASSWORD, "eidas1", "8" + RPPS_MARTIN),
    # The same practitioner, authenticated at a level the portal does not accept.
    ("dr.martin.faible", PASSWORD, "mot-de-passe", "8" + RPPS_MARTIN),
    ("dr.inconnu", PASSWORD, "eidas1", "8" + RPPS_UNKNOWN),
    ("compte.patient", PASSWORD, "eidas1", "8" + RPPS_ON_PATIENT),
    ("compte.personnel", PASSWORD, "eidas1", "8" + RPPS_ON_STAFF),
    # The RPPS without Pro Santé Connect's "8": not the form the portal reads.
    ("sans.prefixe", PASSWORD, "eidas1", RPPS_MARTIN),
]
UNIFORM = "La connexion avec Pro Santé Connect n'a pas abouti."
STARTED_OVER = "La connexion avec Pro Santé Connect n'a pas pu aboutir."
WEAK_LEVEL = "Pro Santé Connect n'a pas confirmé une authentification forte"


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    with running_provider(
        f"{live_server.url}/oidc/callback/", PROVIDER_USERS, tmp_path_factory.mktemp("oidc")
    ) as running:
        yield running


@pytest.fixture
def site(live_server, provider, settings):
    """The portal with the sign-in enabled, naming the tests' provider."""
    for name, value in provider.portal_settings().items():
        setattr(settings, name, value)
    return live_server.url


@pytest.fixture
def martin():
    user = PractitionerProfileFactory.create(rpps=RPPS_MARTIN).user
    add_totp(user)  # the portal's second factor exists, and is not asked for
    return user


def _login_events(outcome: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="login", outcome=outcome).order_by("pk"))


def _refusal_shown(client, site: str, answer) -> str:
    """The portal sent the browser back to its login page: the page's text."""
    assert answer.status_code == 302, answer.status_code
    assert answer.headers["Location"] == "/accounts/login/"
    page = client.get(f"{site}/accounts/login/")
    assert page.status_code == 200
    return html.unescape(page.text)


def test_a_practitioner_signs_in_through_the_provider_without_the_portal_second_factor(
    site, martin
):
    client = browser()
    authorize = to_provider(client, site)
    sent = query_of(authorize)
    # State, nonce and PKCE (S256) go to the provider, with the levels asked for.
    assert len(sent["state"]) >= 32 and len(sent["nonce"]) >= 32
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["acr_values"] == "eidas1" and sent["scope"] == "openid scope_all"
    assert sent["redirect_uri"] == f"{site}/oidc/callback/"
    before = client.cookies.get("sessionid")

    callback = at_provider(client, authorize, "dr.martin")
    answer = client.get(callback, allow_redirects=False)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/pro/workspace/"
    assert client.cookies.get("sessionid") != before  # a new session id once signed in
    workspace = client.get(f"{site}/pro/workspace/", allow_redirects=False)
    assert workspace.status_code == 200
    [event] = _login_events("allowed")
    assert (event.actor, event.reason) == (martin, "oidc")
    # One of the account's open sessions, as after a password login.
    assert AccountSession.objects.filter(user=martin).count() == 1
    martin.refresh_from_db()
    assert martin.last_login is not None


def test_a_level_outside_the_allow_list_is_refused(site, martin):
    client = browser()
    answer = sign_in(client, site, "dr.martin.faible")

    assert WEAK_LEVEL in _refusal_shown(client, site, answer)
    assert client.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 302
    assert _login_events("allowed") == []
    [event] = _login_events("refused")
    assert (event.actor, event.reason) == (martin, "oidc-acr")


def test_the_level_is_that_of_the_allow_list_in_the_settings(site, settings, martin):
    """The same provider user, accepted once its level is in the list: the list decides."""
    settings.DMP_OIDC_ACR_VALUES = ("eidas1", "mot-de-passe")
    client = browser()
    answer = sign_in(client, site, "dr.martin.faible")
    assert answer.headers["Location"] == "/pro/workspace/"


@pytest.mark.parametrize(
    "provider_user", ["dr.inconnu", "compte.patient", "compte.personnel", "sans.prefixe"]
)
def test_an_account_not_an_active_practitioner_gets_one_same_answer(site, provider_user):
    """An unknown RPPS, a patient's or a staff member's account (a profile on it by mistake),
    a claim of another form: the same words, nothing signed in, nothing about which it was."""
    patient = UserFactory.create(kind=UserKind.PATIENT)
    PractitionerProfile.objects.create(
        user=patient, rpps=RPPS_ON_PATIENT, last_name="X", first_name="Y", profession="medecin"
    )
    staff = StaffFactory.create()
    PractitionerProfile.objects.create(
        user=staff, rpps=RPPS_ON_STAFF, last_name="X", first_name="Y", profession="medecin"
    )
    client = browser()
    answer = sign_in(client, site, provider_user)

    page = _refusal_shown(client, site, answer)
    assert UNIFORM in page
    assert WEAK_LEVEL not in page
    assert client.get(f"{site}/records/", allow_redirects=False).status_code == 302
    assert not AccountSession.objects.filter(user__isnull=False).exists()
    assert _login_events("allowed") == []
    [event] = _login_events("refused")
    assert event.reason == "oidc-refused"
    assert event.actor is None  # never in the name of a patient or a staff member


def test_an_inactive_practitioner_gets_the_same_answer(site, martin):
    martin.is_active = False
    martin.save()
    client = browser()
    assert UNIFORM in _refusal_shown(client, site, sign_in(client, site, "dr.martin"))
    assert _login_events("allowed") == []


def test_a_third_user_is_refused_and_nothing_changes(site, martin):
    """A practitioner of the portal exists; someone the provider knows but the portal does not
    comes back from it: refused, and no account, profile or signed-in session moved."""
    accounts = list(User.objects.values_list("pk", "last_login", "is_active", "password"))
    profiles = list(PractitionerProfile.objects.values_list("pk", "rpps", "user_id"))
    client = browser()
    sign_in(client, site, "dr.inconnu")
    assert list(User.objects.values_list("pk", "last_login", "is_active", "password")) == accounts
    assert list(PractitionerProfile.objects.values_list("pk", "rpps", "user_id")) == profiles
    assert not AccountSession.objects.filter(user__isnull=False).exists()
    assert _login_events("allowed") == []


def test_a_replayed_state_is_refused(site, martin):
    client = browser()
    callback = at_provider(client, to_provider(client, site), "dr.martin")
    assert client.get(callback, allow_redirects=False).headers["Location"] == "/pro/workspace/"

    # The same answer of the provider again, in another browser (a stolen address) ...
    thief = browser()
    answer = thief.get(callback, allow_redirects=False)
    assert STARTED_OVER in _refusal_shown(thief, site, answer)
    assert thief.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 302
    # ... and in the same one: the state was used once, the provider's code too.
    again = client.get(callback, allow_redirects=False)
    assert again.headers["Location"] == "/accounts/login/"
    assert len(_login_events("allowed")) == 1


def test_a_callback_without_a_state_or_with_an_unknown_one_is_refused(site, martin):
    client = browser()
    to_provider(client, site)
    for query in ("?code=abc", "?code=abc&state=not-a-state-of-this-session", ""):
        answer = client.get(f"{site}/oidc/callback/{query}", allow_redirects=False)
        assert STARTED_OVER in _refusal_shown(client, site, answer), query
    assert _login_events("allowed") == []


def test_a_provider_error_lands_on_the_login_page_in_french(site, martin):
    client = browser()
    state = query_of(to_provider(client, site))["state"]
    answer = client.get(
        f"{site}/oidc/callback/?error=access_denied&state={state}", allow_redirects=False
    )
    assert STARTED_OVER in _refusal_shown(client, site, answer)
    [event] = _login_events("refused")
    assert event.reason == "oidc-error"


def test_an_id_token_with_another_nonce_is_refused(site, martin):
    """The provider puts in the ID token the nonce it was given: changed on the way, the token
    no longer carries the one this session sent."""
    client = browser()
    answer = sign_in(
        client, site, "dr.martin", lambda url: with_query(url, nonce="another-nonce-" + "x" * 32)
    )
    assert STARTED_OVER in _refusal_shown(client, site, answer)
    assert client.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 302
    assert _login_events("allowed") == []
    [event] = _login_events("refused")
    assert event.reason == "oidc-token"


def test_the_pkce_verifier_is_sent_and_checked(site, martin):
    """A challenge changed on the way: the provider refuses the portal's verifier at the token
    exchange, and the sign-in fails."""
    client = browser()
    answer = sign_in(
        client, site, "dr.martin", lambda url: with_query(url, code_challenge="A" * 43)
    )
    assert STARTED_OVER in _refusal_shown(client, site, answer)
    assert _login_events("allowed") == []


def test_a_session_opened_through_the_provider_ends_when_the_account_is_deactivated(site, martin):
    client = browser()
    sign_in(client, site, "dr.martin")
    assert client.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 200
    User.objects.filter(pk=martin.pk).update(is_active=False)
    assert client.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 302


def test_the_session_ends_when_the_sign_in_is_disabled(site, settings, martin):
    client = browser()
    sign_in(client, site, "dr.martin")
    settings.DMP_OIDC_ENABLED = False
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    answer = client.get(f"{site}/pro/workspace/", allow_redirects=False)
    assert answer.status_code == 302


def test_an_id_token_of_another_issuer_is_refused(site, settings, martin):
    """mozilla-django-oidc checks the signature, not the issuer: the backend does."""
    settings.DMP_OIDC_ISSUER = "https://another-provider.example"
    client = browser()
    answer = sign_in(client, site, "dr.martin")
    assert STARTED_OVER in _refusal_shown(client, site, answer)
    assert _login_events("allowed") == []


def test_the_session_keeps_the_portals_timeouts(site, settings, martin):
    """Signed in through the provider, the session still ends after 15 idle minutes."""
    client = browser()
    sign_in(client, site, "dr.martin")
    session = SessionStore(client.cookies["sessionid"])
    session[SESSION_SEEN] = time.time() - settings.SESSION_IDLE_TIMEOUT.total_seconds() - 60
    session.save()
    assert client.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 302


def test_the_session_ends_when_the_password_changes(site, martin):
    client = browser()
    sign_in(client, site, "dr.martin")
    martin.set_password("un tout autre mot de passe 2026")
    martin.save()
    assert client.get(f"{site}/pro/workspace/", allow_redirects=False).status_code == 302


def test_a_provider_out_of_reach_at_the_token_exchange_lands_on_the_login_page(
    site, settings, martin
):
    client = browser()
    callback = at_provider(client, to_provider(client, site), "dr.martin")
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/token/"  # nothing listens there
    answer = client.get(callback, allow_redirects=False)
    assert STARTED_OVER in _refusal_shown(client, site, answer)
    [event] = _login_events("refused")
    assert event.reason == "oidc-token"


def test_the_page_asked_for_before_the_login_is_reached_after_it(site, martin):
    client = browser()
    client.get(f"{site}/accounts/login/?next=/accounts/sessions/")
    answer = sign_in(client, site, "dr.martin")
    assert answer.headers["Location"] == "/accounts/sessions/"
