"""Every URL of the project that accepts a POST, posted by every third user: refused, and the
database is exactly as before.

Each URL pattern (the admin aside: tests/test_authorization_matrix.py and the admin tests cover
it) is in ``TABLE``, and a pattern missing from it fails ``test_every_url_is_classified``, so a
new page cannot ship without someone deciding who may change what through it. Three kinds:

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

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import URLResolver
from django.utils import timezone
from django_otp.oath import TOTP

from access_control.models import (
    AccessRequest,
    AuditEvent,
    Block,
    Consent,
    Outcome,
    RecordSettings,
    TreatingPhysician,
)
from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.services import issue_activation_link
from enrollment.models import Beneficiary, CreationCode
from enrollment.services.codes import issue_code
from records.models import Document
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    logged_in_client,
    next_totp_token,
)
from tests.conftest import changed_tables, database_snapshot, session_keys, table_rows
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import PDF, add_document, patient_with_login

pytestmark = pytest.mark.django_db

ROLES = (
    "anon",
    "patient_a",  # owns the record everything below is about
    "patient_b",  # another patient, with a record of their own
    "pro_consent",  # practitioner patient_a consented to (and their treating physician)
    "pro_none",  # practitioner with no link to patient_a (has asked for access)
    "pro_revoked",  # practitioner whose consent patient_a revoked
    "pro_blocked",  # practitioner patient_a blocked
    "newcomer",  # past the password, without a second factor yet
    "staff_unverified",  # staff past the password only
    "staff",  # staff past both factors
)
OWNER = "owner"  # in a row: the role whose POST is the legitimate change
MINE = "mine"  # in a row: acts on their own record or account, which the address names

LOGIN = "302 /accounts/login/"  # also where a half-logged-in user is sent back to
BACK = "302 /access/"  # the patient's consent page, with an error message
# In an ``own_lookup`` row: not a practitioner, so /pro/ looks nothing up for them (404 or the
# login page); the owner's look-up is all they can post to.
NO_LOOKUP = "no look-up"


def row(*answers: str) -> dict[str, str]:
    return dict(zip(ROLES, answers, strict=True))


# --- The world: one record, its owner, and everyone else --------------------------------------


@dataclass
class World:
    clients: dict[str, Client]
    users: dict[str, object]
    devices: dict[str, object]
    values: dict[str, object]  # the URL's arguments
    extra: dict[str, object] = field(default_factory=dict)


def _password_only(user) -> Client:
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    return client


def build_world() -> World:
    patient_a, client_a = patient_with_login()
    patient_b, client_b = patient_with_login()
    document = add_document(patient_a)
    add_document(patient_b)
    pros = {
        name: PractitionerProfileFactory().user
        for name in ("pro_consent", "pro_none", "pro_revoked", "pro_blocked")
    }
    consent = Consent.objects.create(patient=patient_a, practitioner=pros["pro_consent"])
    TreatingPhysician.objects.create(patient=patient_a, physician=pros["pro_consent"])
    Consent.objects.create(
        patient=patient_a, practitioner=pros["pro_revoked"], revoked_at=timezone.now()
    )
    block = Block.objects.create(patient=patient_a, practitioner=pros["pro_blocked"])
    access_request = AccessRequest.objects.create(patient=patient_a, practitioner=pros["pro_none"])
    RecordSettings.objects.create(patient=patient_a, contact_email="a@example.fr")
    newcomer = UserFactory()
    staff = StaffFactory()
    add_totp(staff)
    clients = {
        "anon": Client(),
        "patient_a": client_a,
        "patient_b": client_b,
        "newcomer": _password_only(newcomer),
        "staff_unverified": _password_only(staff),
    }
    clients.update({name: logged_in_client(user) for name, user in pros.items()})
    clients["staff"] = logged_in_client(StaffFactory())
    users = {"patient_a": patient_a, "patient_b": patient_b, "newcomer": newcomer, **pros}
    devices = {name: user.totpdevice_set.get() for name, user in pros.items()}
    values = {
        "uid": document.uid,
        "patient_id": patient_a.pk,
        "consent_id": consent.pk,
        "block_id": block.pk,
        "request_id": access_request.pk,
        "token": "set-password",
    }
    return World(clients, users, devices, values)


# --- What the database holds ------------------------------------------------------------------


def answer(response) -> str:
    if response.status_code in (301, 302, 303):
        return f"{response.status_code} {urlsplit(response['Location']).path}"
    return str(response.status_code)


# --- Form data and preparations of each page --------------------------------------------------


def _file(world, role):
    return {
        "title": "Compte rendu",
        "category": "imagerie",
        "act_date": "2026-03-12",
        "file": SimpleUploadedFile("cr.pdf", PDF, content_type="application/pdf"),
    }


def _rpps_of(name: str, prefix: str = ""):
    def data(world, role):
        rpps = world.users[name].practitioner_profile.rpps
        return {f"{prefix}-rpps" if prefix else "rpps": rpps}

    return data


def _settings(world, role):
    return {"emergency_opt_out": "on", "contact_email": "other@example.fr"}


def _emergency(world, role):
    device = world.devices.get("pro_none" if role == OWNER else role)
    token = next_totp_token(device) if device is not None else "123456"
    return {"reason": "patient inconscient aux urgences", "otp_token": token}


def _login(world, role):
    password = PASSWORD if role == OWNER else "not the password at all"
    return {"username": world.users["patient_a"].username, "password": password}


def _no_data(world, role):
    return {}


def _prepare_totp_setup(world):
    """A newcomer opens the setup page; the others post the code of the secret it shows."""
    owner = UserFactory()
    client = _password_only(owner)
    page = client.get("/accounts/2fa/setup/").content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    world.extra["owner_client"] = client
    world.extra["owner"] = owner
    world.extra["secret"] = secret


def _totp_of_owner(world, role):
    key = base64.b32decode(world.extra["secret"])
    totp = TOTP(key, 30, 0, 6, 0)
    return {"otp_token": f"{totp.token():06d}"}


def _prepare_activation(world):
    """An invited practitioner opened their link; the others post to the same address."""
    profile = PractitionerProfileFactory(user=UserFactory(kind="practitioner", is_active=False))
    profile.user.set_unusable_password()
    profile.user.save()
    client = Client()
    client.get(f"/accounts/activate/{issue_activation_link(profile.user)}/")
    world.extra["owner_client"] = client


def _new_password(world, role):
    return {
        "new_password1": "une longue phrase de printemps",
        "new_password2": "une longue phrase de printemps",
    }


def _prepare_enrollment(world):
    """Someone of the registry already has a live code; a stranger asks again for their number.
    The owner is a person without a code, whose request leads to a letter."""
    holder = make_beneficiary()
    issue_code(holder)
    world.extra["holder"] = holder
    world.extra["newcomer_person"] = make_beneficiary()


def _enrollment(world, role):
    person = world.extra["newcomer_person" if role == OWNER else "holder"]
    return {"nir": person.nir, "nir_confirmation": person.nir}


def _prepare_code(world):
    holder = make_beneficiary()
    world.extra["holder"] = holder
    world.extra["code"] = issue_code(holder).code


def _code(world, role):
    code = world.extra["code"]
    if role != OWNER:  # a stranger knows the number, not the code
        code = code[:-1] + ("A" if code[-1] != "A" else "B")
    return {"nir": world.extra["holder"].nir, "creation_code": code}


def _look_up(client: Client, nir: str) -> str:
    """Look a NIR up on /pro/ as a practitioner does: the token that the page's request and
    emergency addresses carry (it names this look-up of this session, never a record)."""
    page = client.post("/pro/", {"nir": nir}).content.decode()
    return re.search(r"/pro/patients/([0-9a-f-]{36})/emergency/", page).group(1)


def _lookup_by(owner: str):
    """patient_a is in the registry, and ``owner`` looked their NIR up: the address names that
    look-up (the owner's session), as the link of the owner's page does."""

    def prepare(world):
        person = make_beneficiary()
        Beneficiary.objects.filter(pk=person.pk).update(patient=world.users["patient_a"])
        world.extra["nir"] = person.nir
        world.values["patient_id"] = _look_up(world.clients[owner], person.nir)

    return prepare


def _hide_document(world):
    """``show`` changes only a hidden document: hidden first, so that a change would show."""
    Document.objects.filter(uid=world.values["uid"]).update(hidden_from_practitioners=True)


def _setlang(world, role):
    return {"language": "en", "next": "/"}


def _search(world, role):
    return {"nir": "1 85 05 78 006 084 91"}


@dataclass(frozen=True)
class Change:
    """A state-changing page: the owner's POST changes ``shows_in``; every other role gets
    its ``thirds`` answer and changes nothing (MINE: acts on their own, not a third)."""

    owner: str
    data: Callable
    shows_in: tuple[str, ...]
    thirds: dict[str, str]
    prepare: Callable | None = None
    # Rows a refused third user may still write about themselves (each with its reason).
    third_may_change: tuple[str, ...] = ()
    # Pages of a look-up: what each role gets posting with a look-up of their own of the NIR.
    own_lookup: dict[str, str] | None = None
    # How long the owner waits before their POST (a cool-off the third users' tries started
    # and that outlives the cache).
    owner_waits: timedelta = timedelta(0)


GET_ONLY = "get-only"
READ = "read"

# The patient's own pages: the address names no record, each patient acts on their own.
OWN_PAGE = row(LOGIN, OWNER, MINE, "404", "404", "404", "404", LOGIN, LOGIN, "404")
# A document of patient_a, named in the address.
ON_DOCUMENT = row(LOGIN, OWNER, "404", "404", "404", "404", "404", LOGIN, LOGIN, "404")
# A consent, block or request of patient_a, named by its id: another patient's attempt is
# answered on their own page like an id that does not exist.
ON_DECISION = row(LOGIN, OWNER, BACK, "404", "404", "404", "404", LOGIN, LOGIN, "404")

TABLE: dict[str, str | Change] = {
    "": READ,
    "healthz": GET_ONLY,
    "accounts/login/": Change(
        owner="anon",
        data=_login,
        shows_in=("django_session",),
        thirds=row(
            OWNER, "302 /", "302 /", "302 /", "302 /", "302 /", "302 /", "200", "200", "302 /"
        ),
    ),
    "accounts/logout/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("django_session",),
        thirds=row("302 /", OWNER, *["302 /"] * 8),
    ),
    "accounts/session/extend/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("django_session",),
        thirds=row(LOGIN, OWNER, *["204"] * 8),
    ),
    "accounts/2fa/setup/": Change(
        owner="extra",
        data=_totp_of_owner,
        shows_in=("accounts_totpdevice", "accounts_backupcodedevice"),
        thirds=row(LOGIN, *["302 /"] * 6, "200", LOGIN, "302 /"),
        prepare=_prepare_totp_setup,
        # The newcomer's own setup page, shown again with the error, makes their own pending
        # device and its data key (test_a_newcomer_cannot_confirm_another_persons_device).
        third_may_change=("accounts_totpdevice", "accounts_user", "crypto_datakey"),
    ),
    "accounts/activate/<str:token>/": Change(
        owner="extra",
        data=_new_password,
        shows_in=("accounts_user", "accounts_activationlink"),
        thirds=row(*["404"] * 10),
        prepare=_prepare_activation,
    ),
    "enrollment/": Change(
        owner="anon",
        data=_enrollment,
        shows_in=("enrollment_enrollmentrequest", "letters_letter"),
        thirds=row(*["200"] * 7, LOGIN, LOGIN, "200"),
        prepare=_prepare_enrollment,
        # Every request is recorded (its hashed number and outcome), whatever the number.
        third_may_change=("enrollment_enrollmentrequest",),
    ),
    "enrollment/eligibility/": READ,
    "enrollment/activate/": Change(
        owner="anon",
        data=_code,
        shows_in=("django_session",),
        # After five free wrong tries for the number, the next ones wait (429).
        thirds=row(*["200"] * 5, "429", "429", LOGIN, LOGIN, "429"),
        prepare=_prepare_code,
        # The wrong tries are counted for the number in the database, whoever typed them: the
        # holder too waits out the delay they started (a minute after five), slowed, not locked
        # out (test_the_holder_waits_out_the_strangers_tries_then_activates).
        owner_waits=timedelta(minutes=1, seconds=5),
        # A wrong try counts against the code (burnt after ten) and against the number typed
        # (one row per refusal, whatever the registry holds, so that timing tells nothing):
        # nothing else of it changes (test_a_strangers_wrong_code_leaves_the_code_usable).
        third_may_change=("enrollment_creationcode", "enrollment_activationattempts"),
    ),
    "records/": READ,
    "records/upload/": Change(
        owner="patient_a", data=_file, shows_in=("records_document",), thirds=OWN_PAGE
    ),
    "records/<uuid:uid>/": READ,
    "records/<uuid:uid>/content/": READ,
    "records/<uuid:uid>/download/": READ,
    "records/<uuid:uid>/hide/": Change(
        owner="patient_a", data=_no_data, shows_in=("records_document",), thirds=ON_DOCUMENT
    ),
    "records/<uuid:uid>/show/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("records_document",),
        thirds=ON_DOCUMENT,
        prepare=_hide_document,
    ),
    "records/<uuid:uid>/delete/": Change(
        owner="patient_a", data=_no_data, shows_in=("records_document",), thirds=ON_DOCUMENT
    ),
    "access/": Change(
        owner="patient_a",
        data=_rpps_of("pro_none"),
        shows_in=("access_control_consent", "access_control_accessrequest"),
        thirds=OWN_PAGE,
    ),
    "access/history/": READ,
    "access/settings/": Change(
        owner="patient_a",
        data=_settings,
        shows_in=("access_control_recordsettings",),
        thirds=OWN_PAGE,
    ),
    "access/consents/<int:consent_id>/revoke/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("access_control_consent",),
        thirds=ON_DECISION,
    ),
    "access/blocks/": Change(
        owner="patient_a",
        data=_rpps_of("pro_none", "block"),
        shows_in=("access_control_block",),
        thirds=OWN_PAGE,
    ),
    "access/blocks/<int:block_id>/lift/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("access_control_block",),
        thirds=ON_DECISION,
    ),
    "access/treating-physician/": Change(
        owner="patient_a",
        data=_rpps_of("pro_none", "md"),
        shows_in=("access_control_treatingphysician", "access_control_consent"),
        thirds=OWN_PAGE,
    ),
    "access/treating-physician/remove/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("access_control_treatingphysician",),
        thirds=OWN_PAGE,
    ),
    "access/requests/<int:request_id>/accept/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("access_control_accessrequest", "access_control_consent"),
        thirds=ON_DECISION,
    ),
    "access/requests/<int:request_id>/decline/": Change(
        owner="patient_a",
        data=_no_data,
        shows_in=("access_control_accessrequest",),
        thirds=ON_DECISION,
    ),
    "pro/": READ,
    "pro/patients/<uuid:patient_id>/": READ,
    # The address names a look-up of the owner's session: posted by anyone else it finds nothing
    # (a practitioner gets the same answer as for a sent request: asking tells nothing).
    "pro/patients/<uuid:patient_id>/request/": Change(
        owner="pro_revoked",
        data=_no_data,
        shows_in=("access_control_accessrequest",),
        thirds=row(
            LOGIN, "404", "404", "302 /pro/", "302 /pro/", OWNER, "302 /pro/", LOGIN, LOGIN, "404"
        ),
        prepare=_lookup_by("pro_revoked"),
        own_lookup=row(
            *[NO_LOOKUP] * 3,
            MINE,  # pro_consent: any practitioner not blocked may ask, their own action
            MINE,  # pro_none: asks again, their own action (already pending: nothing new)
            OWNER,
            "302 /pro/",  # pro_blocked: refused and recorded, answered alike, nothing sent
            *[NO_LOOKUP] * 3,
        ),
    ),
    # The address names a look-up of the owner's session: posted by anyone else it finds nothing
    # (a practitioner's form answers as for a patient who refuses emergency access).
    "pro/patients/<uuid:patient_id>/emergency/": Change(
        owner="pro_none",
        data=_emergency,
        # The owner's code is used up on their own device (the second factor's used step).
        shows_in=("access_control_emergencyaccess", "accounts_totpdevice"),
        thirds=row(LOGIN, "404", "404", "200", OWNER, "200", "200", LOGIN, LOGIN, "404"),
        prepare=_lookup_by("pro_none"),
        # The code a refused practitioner typed is used up on their own device.
        third_may_change=("accounts_totpdevice",),
        own_lookup=row(
            *[NO_LOOKUP] * 3,
            MINE,  # pro_consent: any practitioner not blocked may declare, their own action
            OWNER,
            MINE,  # pro_revoked: a revoked consent is no block: may declare, their own action
            "200",  # pro_blocked: refused on the form and recorded, nothing opened
            *[NO_LOOKUP] * 3,
        ),
    ),
    "pro/patients/<uuid:patient_id>/upload/": Change(
        owner="pro_consent",
        data=_file,
        shows_in=("records_document",),
        thirds=row(LOGIN, "404", "404", OWNER, "404", "404", "404", LOGIN, LOGIN, "404"),
    ),
    "i18n/setlang/": READ,
}

READ_DATA = {"i18n/setlang/": _setlang, "pro/": _search}


def project_routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) == "admin/":
                    continue  # the admin's own tests and the authorization matrix
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


def concrete(route: str, values: dict) -> str:
    path = route
    for name, value in values.items():
        for converter in ("uuid", "int", "str"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return "/" + path


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
    data = READ_DATA.get(route, _no_data)
    for role in ROLES:
        client = world.clients[role]
        before = database_snapshot(session_keys(client))
        client.post(path, data(world, role))
        after = database_snapshot(session_keys(client))
        assert changed_tables(before, after) == set(), (role, path)


CHANGES = sorted(r for r, kind in TABLE.items() if isinstance(kind, Change))


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
def test_third_users_are_refused_and_change_nothing(route, django_capture_on_commit_callbacks):
    spec: Change = TABLE[route]
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
        own = _look_up(world.clients[role], world.extra["nir"])
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
        s.session_key: (s.session_data, s.expire_date)
        for s in Session.objects.filter(session_key__in=key_a)
    }
    for role in ROLES:
        if role == "patient_a":
            continue
        world.clients[role].post("/accounts/session/extend/")
        world.clients[role].post("/accounts/logout/")
    after = {
        s.session_key: (s.session_data, s.expire_date)
        for s in Session.objects.filter(session_key__in=key_a)
    }
    assert after == before and len(after) == 1
    assert world.clients["patient_a"].get("/records/").status_code == 200


def test_a_newcomer_cannot_confirm_another_persons_device():
    """The code of someone else's setup page, posted by another newcomer, confirms nothing of
    theirs: the rows left out of the snapshot for this page, checked one by one."""
    world = build_world()
    _prepare_totp_setup(world)
    owner = world.extra["owner"]
    devices = table_rows("accounts_totpdevice", "user_id", owner.pk)
    owner_row = table_rows("accounts_user", "id", owner.pk)
    response = world.clients["newcomer"].post("/accounts/2fa/setup/", _totp_of_owner(world, ""))
    assert response.status_code == 200
    assert table_rows("accounts_totpdevice", "user_id", owner.pk) == devices
    assert table_rows("accounts_user", "id", owner.pk) == owner_row
    newcomer = world.users["newcomer"]
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert not BackupCodeDevice.objects.filter(user=newcomer).exists()


def test_a_strangers_wrong_code_leaves_the_code_usable():
    """The one change a stranger's wrong try makes: it is counted against the code."""
    world = build_world()
    _prepare_code(world)
    holder = world.extra["holder"]
    code = CreationCode.objects.get(beneficiary=holder)
    response = Client().post("/enrollment/activate/", _code(world, "anon"))
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
    _prepare_code(world)
    for _ in range(5):
        assert Client().post("/enrollment/activate/", _code(world, "anon")).status_code == 200
    cache.clear()  # forgets the per-address count, not the number's
    holder = Client()
    assert holder.post("/enrollment/activate/", _code(world, OWNER)).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=5)):
        response = holder.post("/enrollment/activate/", _code(world, OWNER))
        assert answer(response) == "302 /enrollment/activate/"
        page = holder.get("/enrollment/activate/")
    assert "new_password1" in page.content.decode()


def test_a_refused_emergency_uses_up_a_code_of_the_posters_own_device_only():
    """The one table left out of the snapshot for the emergency page, checked row by row: a
    third practitioner's post touches their own device, never the owner's."""
    world = build_world()
    _lookup_by("pro_none")(world)
    path = concrete("pro/patients/<uuid:patient_id>/emergency/", world.values)
    owners = table_rows("accounts_totpdevice", "user_id", world.users["pro_none"].pk)
    blocked = world.devices["pro_blocked"]
    last_t = TOTPDevice.objects.get(pk=blocked.pk).last_t
    response = world.clients["pro_blocked"].post(path, _emergency(world, "pro_blocked"))
    assert response.status_code == 200
    assert table_rows("accounts_totpdevice", "user_id", world.users["pro_none"].pk) == owners
    assert TOTPDevice.objects.get(pk=blocked.pk).last_t > last_t
