"""Every URL that changes something refuses a POST without the browser's CSRF token, even from
the one user whose POST it would be.

tests/test_csrf_enforced.py shows the check on two pages; this module shows it on every one, so
that a view made ``@csrf_exempt`` (or a middleware that skips the check) fails here. The pages
come from the isolation table (tests/isolation_table.py): for each state-changing page, its
owner, logged in as in tests/test_isolation.py, posts their own form without a token, then with
a wrong one (as a form field and as the header). Each answer is 403, and afterwards the whole
database, re-read row by row, is as it was and the audit trail has no new event: the page was
not reached. The same form posted with the browser's token then makes the change the table
names, so the token is the only difference between a refused post and an accepted one.

Every other page of the table (read-only pages, GET-only pages) answers a token-less POST with
403 too, whoever sends it. The admin's state-changing URLs are listed at the end of this module
(tests/test_admin_matrix.py keeps its own data in a test module, which is not imported here).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils.crypto import get_random_string

from audit.models import AuditEvent
from enrollment.models import RegistryChange
from letters.models import Letter, LetterState
from tests.accounts.factories import StaffFactory, logged_in_client
from tests.database_state import changed_tables, database_snapshot
from tests.enrollment.factories import make_beneficiary
from tests.fhir_api.factories_write import access_token, document_reference, post_json
from tests.fhir_api.factories_write import transaction as fhir_transaction
from tests.isolation_table import (
    CHANGES,
    CLIENT_AUTHENTICATED,
    GET_ONLY,
    READ,
    READ_DATA,
    TABLE,
    Change,
)
from tests.isolation_world import OWNER, answer, build_world, no_data
from tests.routes import concrete

pytestmark = pytest.mark.django_db

WRONG_TOKEN = "x" * CSRF_SECRET_LENGTH
# This site's own Origin on every forged post: the token is the one thing missing or wrong (a
# foreign Origin is refused on its own: tests/test_csrf_enforced.py).
SAME_ORIGIN = {"Origin": "http://testserver"}


def _with_cookie(client: Client) -> Client:
    """The browser holds this site's CSRF cookie, as after any page with a form: the refusal
    then comes from the missing or wrong token, not from a missing cookie."""
    if not client.cookies.get(settings.CSRF_COOKIE_NAME):
        client.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(
            CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS
        )
    return client


def _events() -> int:
    return AuditEvent.objects.count()


def assert_forged_posts_refused(client: Client, path: str, form) -> None:
    """``client`` posts ``form()`` to ``path`` without a token, with a wrong token in the form
    and with a wrong token in the header: 403 each time, and nothing in the database moved."""
    _with_cookie(client)
    client.sends_csrf_token = False  # type: ignore[attr-defined]  # added by conftest's Client
    before, events = database_snapshot(), _events()
    try:
        answers = [
            client.post(path, form(), headers=SAME_ORIGIN),
            client.post(path, {**form(), "csrfmiddlewaretoken": WRONG_TOKEN}, headers=SAME_ORIGIN),
            client.post(path, form(), headers={**SAME_ORIGIN, "X-CSRFToken": WRONG_TOKEN}),
        ]
    finally:
        client.sends_csrf_token = True  # type: ignore[attr-defined]  # added by conftest's Client
    changed = changed_tables(before, database_snapshot())
    assert changed == set(), f"a POST {path} without a valid token changed {sorted(changed)}"
    assert _events() == events, f"a POST {path} without a valid token reached the view"
    assert [answer(response) for response in answers] == ["403"] * 3, f"POST {path}"


# --- The portal: every page of the isolation table --------------------------------------------


@pytest.mark.parametrize("route", CHANGES)
def test_the_owner_without_a_token_is_refused_and_changes_nothing(
    route, django_capture_on_commit_callbacks
) -> None:
    spec = TABLE[route]
    assert isinstance(spec, Change)  # CHANGES lists the routes whose entry is a Change
    world = build_world()
    if spec.prepare is not None:
        spec.prepare(world)
    path = concrete(route, world.values)
    owner = world.extra["owner_client"] if spec.owner == "extra" else world.clients[spec.owner]
    assert isinstance(owner, Client)

    assert_forged_posts_refused(owner, path, lambda: spec.data(world, OWNER))

    # The same form with the browser's token: the change the table names happens.
    before = database_snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(path, spec.data(world, OWNER))
    assert response.status_code < 400, answer(response)
    assert set(spec.shows_in) <= changed_tables(before, database_snapshot())


# The FHIR API (issue 19) is exempt: its caller is named by the Authorization header, which
# a browser never adds to a cross-site request by itself, and it reads no cookie and no session
# (fhir_api/endpoints.py); below, a signed-in browser's token-less POST reaches nothing there.
API_ROUTES = sorted(route for route in TABLE if route.startswith("fhir/"))
OTHER_PAGES = sorted(
    route for route, kind in TABLE.items() if kind in (READ, GET_ONLY) and route not in API_ROUTES
)


@pytest.mark.parametrize("route", OTHER_PAGES)
def test_every_other_page_refuses_a_post_without_a_token(route):
    world = build_world()
    path = concrete(route, world.values)
    form = READ_DATA.get(route, no_data)
    for role in ("anon", "patient_a", "pro_consent", "staff"):
        assert_forged_posts_refused(world.clients[role], path, lambda role=role: form(world, role))


EXEMPT = sorted(route for route, kind in TABLE.items() if kind == CLIENT_AUTHENTICATED)


def test_of_the_portal_s_forms_only_the_oauth2_client_endpoints_are_csrf_exempt():
    """The token and revocation endpoints (issue 19) take the application's client
    authentication, never a session: exempt by design (tests/isolation_table.py says why).
    The FHIR API, exempt too, is tested above."""
    assert EXEMPT == ["oauth/revoke_token/", "oauth/token/"]


@pytest.mark.parametrize("route", EXEMPT)
def test_a_browser_session_without_a_token_gets_nothing_from_the_client_endpoints(route):
    world = build_world()
    path = concrete(route, world.values)
    for role in ("anon", "patient_a", "pro_consent", "staff"):
        client = _with_cookie(world.clients[role])
        client.sends_csrf_token = False  # added by conftest's Client
        before, events = database_snapshot(), _events()
        response = client.post(path, {"grant_type": "client_credentials"}, headers=SAME_ORIGIN)
        assert response.status_code in (400, 401), (role, response.status_code)
        assert changed_tables(before, database_snapshot()) == set()
        assert _events() == events


@pytest.mark.parametrize("route", API_ROUTES)
def test_the_api_takes_no_csrf_token_and_a_session_opens_nothing(route) -> None:
    world = build_world()
    path = concrete(route, world.values)
    form = {"identifier": "urn:oid:1.2.250.1.213.1.4.8|185057800608491"}
    for role in ("anon", "patient_a", "pro_consent", "staff"):
        client = _with_cookie(world.clients[role])
        client.sends_csrf_token = False  # type: ignore[attr-defined]  # added by conftest's Client
        before, events = database_snapshot(), _events()
        try:
            response = client.post(path, form, headers=SAME_ORIGIN)
        finally:
            client.sends_csrf_token = True  # type: ignore[attr-defined]
        assert answer(response).split()[0] in ("401", "405"), (role, path)
        assert changed_tables(before, database_snapshot()) == set(), (role, path)
        assert _events() == events, (role, path)


# The FHIR API's writes (issue 19, item 2): the token-less POSTs above reach nothing; the
# owner's own POST, with the software's bearer token and still no CSRF token (and the
# browser's CSRF cookie beside it), adds the document: the token alone is the credential.
WRITES = {"fhir/DocumentReference": (document_reference, 201), "fhir/": (fhir_transaction, 200)}


@pytest.mark.parametrize("route", sorted(WRITES))
def test_the_api_writes_take_the_bearer_token_alone(route) -> None:
    world = build_world()
    build, status = WRITES[route]
    client = _with_cookie(world.clients["pro_consent"])
    client.sends_csrf_token = False  # type: ignore[attr-defined]  # added by conftest's Client
    before = database_snapshot()
    try:
        response = post_json(
            client,
            concrete(route, world.values),
            build(world.users["patient_a"].pk),
            access_token(world.users["pro_consent"]),
            headers=SAME_ORIGIN,
        )
    finally:
        client.sends_csrf_token = True  # type: ignore[attr-defined]
    assert response.status_code == status, answer(response)
    assert "records_document" in changed_tables(before, database_snapshot())


# --- The admin: its state-changing URLs -------------------------------------------------------

MOVE = {
    "last_name": "Dupont",
    "first_name": "Léa",
    "birth_date": "1985-05-14",
    "regime": "general",
    "street": "9 impasse du Complice",
    "postcode": "13001",
    "city": "Marseille",
}


def _propose(staff_client: Client, person) -> RegistryChange:
    staff_client.post(f"/admin/enrollment/beneficiary/{person.pk}/change/", MOVE)
    return RegistryChange.objects.get(beneficiary=person)


def _rendered_letter(capture) -> Letter:
    person = make_beneficiary()
    with capture(execute=True):
        Client(REMOTE_ADDR="192.0.2.77").post(
            "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
        )
    letter = Letter.objects.get(subject_uid=person.uid)
    assert letter.state == LetterState.RENDERED
    return letter


def test_admin_registry_change_proposal_needs_the_token():
    person = make_beneficiary()
    staff = logged_in_client(StaffFactory())
    path = f"/admin/enrollment/beneficiary/{person.pk}/change/"
    assert_forged_posts_refused(staff, path, lambda: dict(MOVE))
    assert staff.post(path, MOVE).status_code == 302
    assert RegistryChange.objects.filter(beneficiary=person, state="pending").exists()


def test_admin_registry_change_review_needs_the_token():
    person = make_beneficiary()
    change = _propose(logged_in_client(StaffFactory()), person)
    second = logged_in_client(StaffFactory())  # four eyes: not the proposer
    path = f"/admin/enrollment/registrychange/{change.pk}/review/"
    assert_forged_posts_refused(second, path, lambda: {"decision": "confirm"})
    assert second.post(path, {"decision": "confirm"}).status_code == 302
    assert RegistryChange.objects.get(pk=change.pk).state == "confirmed"


def test_admin_look_up_by_nir_needs_the_token():
    """A look-up reads a person's identity: it is recorded, so a forged one must not happen."""
    person = make_beneficiary()
    staff = logged_in_client(StaffFactory())
    path = "/admin/enrollment/beneficiary/find/"
    assert_forged_posts_refused(staff, path, lambda: {"nir": person.nir})
    events = _events()
    assert answer(staff.post(path, {"nir": person.nir})).startswith("302 ")
    assert _events() > events


def test_admin_letter_export_needs_the_token(django_capture_on_commit_callbacks):
    letter = _rendered_letter(django_capture_on_commit_callbacks)
    staff = logged_in_client(StaffFactory())
    path = "/admin/letters/letter/export/"
    assert_forged_posts_refused(staff, path, dict)
    response = staff.post(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    letter.refresh_from_db()
    assert letter.state != LetterState.RENDERED and letter.batch_id is not None


def test_admin_login_and_logout_need_the_token():
    """The admin has no login form of its own (it sends everyone to the portal's, covered
    above); its address still refuses a token-less POST. Logging out ends the session."""
    staff_user = StaffFactory()
    assert_forged_posts_refused(
        Client(), "/admin/login/", lambda: {"username": staff_user.username, "password": "x"}
    )
    staff = logged_in_client(staff_user)
    assert_forged_posts_refused(staff, "/admin/logout/", dict)
    assert staff.get("/admin/").status_code == 200  # still logged in
    before = database_snapshot()
    assert staff.post("/admin/logout/").status_code == 302
    assert "accounts_accountsession" in changed_tables(before, database_snapshot())
    assert answer(staff.get("/admin/")).startswith("302 ")
