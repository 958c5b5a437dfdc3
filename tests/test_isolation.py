"""Every URL of the project that accepts a POST, posted by every third user: refused, and the
database is exactly as before.

Each URL pattern (the admin aside: tests/test_authorization_matrix.py and the admin tests cover
it) is in ``TABLE`` (tests/isolation_table.py; the world and each page's form are in
tests/isolation_world.py), and a pattern missing from it fails ``test_every_url_is_classified``,
so a new page cannot ship without someone deciding who may change what through it. Three kinds:

- ``GET_ONLY``: a POST answers 405, whoever sends it (a page that starts taking POSTs leaves this
  kind and must be classified again);
- ``READ``: the page answers a POST like a GET; whoever posts, the database does not change
  (apart from the audit trail, which records reads);
- ``Change``: the table says who the owner is (whose POST changes the database, which proves
  that the snapshot sees a change), which tables that change shows in, and what every other
  role gets. Each third user posts the owner's form (with the browser's CSRF token), gets the
  expected answer (404, the login page, or their own page with an error, never a success), and
  afterwards every table, re-read from PostgreSQL, holds exactly the same rows; the owner's
  record gained no "allowed" audit event in their name. A page whose address names one look-up
  of a practitioner's session (request, emergency) is posted twice by each practitioner: with
  the owner's look-up (not in their session: it must find nothing), and with a look-up of their
  own of the same NIR (``own_lookup``: who may act on it there, and why).

The snapshot is the whole database, row by row, except the audit trail (refusals are recorded
there on purpose) and the sessions of the third user's own browser.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import AccountSession
from audit.models import AuditEvent, Outcome
from enrollment.models import CreationCode
from tests.database_state import changed_tables, database_snapshot, session_keys, table_rows
from tests.isolation_table import (
    CHANGES,
    CLIENT_AUTHENTICATED,
    GET_ONLY,
    READ,
    READ_DATA,
    TABLE,
    Change,
)
from tests.isolation_world import (
    MINE,
    NO_LOOKUP,
    OWNER,
    ROLES,
    World,
    answer,
    build_world,
    code_form,
    emergency_form,
    look_up,
    lookup_by,
    no_data,
    prepare_code,
    prepare_totp_setup,
    totp_of_owner_form,
)
from tests.routes import concrete, project_routes

pytestmark = pytest.mark.django_db


def test_every_url_is_classified():
    assert sorted(project_routes()) == sorted(TABLE)


def test_every_third_user_is_a_role_of_the_world():
    for route, kind in TABLE.items():
        if isinstance(kind, Change):
            assert set(kind.thirds) == set(ROLES), route
            assert kind.own_lookup is None or set(kind.own_lookup) == set(ROLES), route
            assert kind.owner in (*ROLES, "extra"), route


@pytest.mark.parametrize("route", sorted(r for r, kind in TABLE.items() if kind == GET_ONLY))
def test_get_only_pages_refuse_every_post(route):
    world = build_world()
    path = concrete(route, world.values)
    for role in ROLES:
        assert world.clients[role].post(path).status_code == 405, (role, path)


@pytest.mark.parametrize("route", sorted(r for r, kind in TABLE.items() if kind == READ))
def test_read_pages_change_nothing_whoever_posts(route):
    world = build_world()
    path = concrete(route, world.values)
    data = READ_DATA.get(route, no_data)
    for role in ROLES:
        client = world.clients[role]
        before = database_snapshot(session_keys(client))
        client.post(path, data(world, role))
        after = database_snapshot(session_keys(client))
        assert changed_tables(before, after) == set(), (role, path)


@pytest.mark.parametrize(
    "route", sorted(r for r, kind in TABLE.items() if kind == CLIENT_AUTHENTICATED)
)
def test_client_authenticated_endpoints_change_nothing_without_the_clients_credentials(route):
    """/oauth/token/ and /oauth/revoke_token/ (issue 19): a session is nothing to them."""
    world = build_world()
    path = concrete(route, world.values)
    for role in ROLES:
        client = world.clients[role]
        before = database_snapshot(session_keys(client))
        response = client.post(path, {"grant_type": "client_credentials", "token": "x"})
        assert response.status_code in (302, 400, 401), (role, path, response.status_code)
        assert "access_token" not in response.content.decode()
        assert changed_tables(before, database_snapshot(session_keys(client))) == set()


def _post_as_third(spec: Change, world: World, role: str, path: str, capture) -> str:
    """``role`` posts the owner's form to ``path``: the answer, after checking that nothing
    changed but what ``third_may_change`` allows, and that patient_a's record gained no
    "allowed" event in anyone else's name."""
    client = world.clients[role]
    patient_a = world.users["patient_a"]
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    before = database_snapshot(session_keys(client))
    with capture(execute=True):
        response = client.post(path, spec.data(world, role))
    after = database_snapshot(session_keys(client))
    changed = changed_tables(before, after) - set(spec.third_may_change)
    assert changed == set(), f"{role} changed {sorted(changed)} through POST {path}"
    allowed_on_a = AuditEvent.objects.filter(
        pk__gt=last_event, patient=patient_a, outcome=Outcome.ALLOWED
    ).exclude(actor=patient_a)
    assert not allowed_on_a.exists(), f"{role}: allowed on patient_a's record via {path}"
    return answer(response)


@pytest.mark.parametrize("route", CHANGES)
def test_third_users_are_refused_and_change_nothing(
    route, django_capture_on_commit_callbacks
) -> None:
    spec = TABLE[route]
    assert isinstance(spec, Change)  # CHANGES lists the routes whose entry is a Change
    world = build_world()
    if spec.prepare is not None:
        spec.prepare(world)
    path = concrete(route, world.values)
    got, got_own = {}, {}
    for role in ROLES:
        expected = spec.thirds[role]
        got[role] = (
            expected
            if expected in (OWNER, MINE)
            else _post_as_third(spec, world, role, path, django_capture_on_commit_callbacks)
        )
        if spec.own_lookup is None:
            continue
        expected = spec.own_lookup[role]
        if expected in (OWNER, MINE, NO_LOOKUP):
            got_own[role] = expected
            continue
        # Their own look-up (recorded on the trail, like any look-up), before the snapshot.
        own = look_up(world.clients[role], str(world.extra["nir"]))
        own_path = concrete(route, {**world.values, "patient_id": own})
        got_own[role] = _post_as_third(
            spec, world, role, own_path, django_capture_on_commit_callbacks
        )
    assert got == spec.thirds, f"POST {path}"
    if spec.own_lookup is not None:
        assert got_own == spec.own_lookup, f"POST {route} with their own look-up"

    # The owner's same POST does change the database, where the table says: the snapshot is
    # able to see the change the third users could not make.
    owner = world.extra["owner_client"] if spec.owner == "extra" else world.clients[spec.owner]
    assert isinstance(owner, Client)
    cache.clear()  # the owner comes after any cool-off the third users' tries started
    with time_machine.travel(timezone.now() + spec.owner_waits):
        before = database_snapshot()
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.post(path, spec.data(world, OWNER))
        assert response.status_code < 400, answer(response)
        after = database_snapshot()
    assert set(spec.shows_in) <= changed_tables(before, after), (
        f"the owner's POST {path} changed {sorted(changed_tables(before, after))}"
    )


def test_a_third_user_cannot_end_or_extend_the_owners_session():
    world = build_world()
    key_a = session_keys(world.clients["patient_a"])
    before = {
        s.key_hash: (s.session_data, s.expire_date)
        for s in AccountSession.objects.filter(key_hash__in=key_a)
    }
    for role in ROLES:
        if role == "patient_a":
            continue
        world.clients[role].post("/accounts/session/extend/")
        world.clients[role].post("/accounts/logout/")
    after = {
        s.key_hash: (s.session_data, s.expire_date)
        for s in AccountSession.objects.filter(key_hash__in=key_a)
    }
    assert after == before and len(after) == 1
    assert world.clients["patient_a"].get("/records/").status_code == 200


def test_a_newcomer_cannot_confirm_another_persons_device():
    """The code of someone else's setup page, posted by another newcomer, confirms nothing of
    theirs: the rows left out of the snapshot for this page, checked one by one."""
    world = build_world()
    prepare_totp_setup(world)
    owner = world.extra["owner"]
    devices = table_rows("accounts_totpdevice", "user_id", owner.pk)
    owner_row = table_rows("accounts_user", "id", owner.pk)
    response = world.clients["newcomer"].post("/accounts/2fa/setup/", totp_of_owner_form(world, ""))
    assert response.status_code == 200
    assert table_rows("accounts_totpdevice", "user_id", owner.pk) == devices
    assert table_rows("accounts_user", "id", owner.pk) == owner_row
    newcomer = world.users["newcomer"]
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert not BackupCodeDevice.objects.filter(user=newcomer).exists()


def test_a_strangers_wrong_code_leaves_the_code_usable():
    """The one change a stranger's wrong try makes: it is counted against the code."""
    world = build_world()
    prepare_code(world)
    holder = world.extra["holder"]
    code = CreationCode.objects.get(beneficiary=holder)
    response = Client().post("/enrollment/activate/", code_form(world, "anon"))
    assert response.status_code == 200
    after = CreationCode.objects.get(pk=code.pk)
    assert after.failed_attempts == code.failed_attempts + 1
    assert after.is_usable() and after.used_at is None and after.burned_at is None
    assert after.code_hash == code.code_hash and after.expires_at == code.expires_at
    holder.refresh_from_db()
    assert holder.patient_id is None


def test_the_holder_waits_out_the_strangers_tries_then_activates():
    """Wrong tries count for the number in the database, not in the cache: after five, the
    holder of the right code waits too (a minute), then goes on with the same code."""
    world = build_world()
    prepare_code(world)
    for _ in range(5):
        assert Client().post("/enrollment/activate/", code_form(world, "anon")).status_code == 200
    cache.clear()  # forgets the per-address count, not the number's
    holder = Client()
    assert holder.post("/enrollment/activate/", code_form(world, OWNER)).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=5)):
        response = holder.post("/enrollment/activate/", code_form(world, OWNER))
        assert answer(response) == "302 /enrollment/activate/"
        page = holder.get("/enrollment/activate/")
    assert "new_password1" in page.content.decode()


def test_a_refused_emergency_uses_up_a_code_of_the_posters_own_device_only():
    """The one table left out of the snapshot for the emergency page, checked row by row: a
    third practitioner's post touches their own device, never the owner's."""
    world = build_world()
    lookup_by("pro_none")(world)
    path = concrete("pro/patients/<uuid:patient_id>/emergency/", world.values)
    owners = table_rows("accounts_totpdevice", "user_id", world.users["pro_none"].pk)
    blocked = world.devices["pro_blocked"]
    last_t = TOTPDevice.objects.get(pk=blocked.pk).last_t
    response = world.clients["pro_blocked"].post(path, emergency_form(world, "pro_blocked"))
    assert response.status_code == 200
    assert table_rows("accounts_totpdevice", "user_id", world.users["pro_none"].pk) == owners
    assert TOTPDevice.objects.get(pk=blocked.pk).last_t > last_t
