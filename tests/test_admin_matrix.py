"""Every admin URL, requested as every role, against one table of expected statuses.

The admin's half of the authorization matrix (tests/test_authorization_matrix.py has the
portal's). A URL pattern of the admin missing from the table fails the test, so a new model,
action or custom view cannot ship without someone deciding who may reach it. Then every
state-changing URL is POSTed by each role and the database must be unchanged afterwards,
except where verified staff are meant to change something.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from access_control.models import DeathProposal, EmergencyAccess, ProfessionRule
from accounts.models import ThrottleLock
from audit.models import AuditEvent
from enrollment.models import EnrollmentRequest, RegistryChange
from letters.models import Letter, LetterBatch
from records.models import Category
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    add_totp,
    logged_in_client,
    password_only_client,
)
from tests.accounts.oauth_factories import make_application
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login
from tests.routes import all_routes

pytestmark = pytest.mark.django_db

# anon, a patient, a practitioner (both with their second factor), staff with the password
# only, verified staff without any permission, verified staff with all (a superuser).
ROLES = ("anon", "patient", "pro", "staff_unverified", "staff_plain", "staff")


def row(statuses: str) -> dict[str, int]:
    return dict(zip(ROLES, (int(code) for code in statuses.split()), strict=True))


#                  an  pa  pr  su  sp  st
OUT = "302 302 302 302"  # everyone outside the admin is sent to the login
VIEW = row(f"{OUT} 403 200")  # a page staff with the permission may read
REFUSED = row(f"{OUT} 403 403")  # nobody, not even a superuser
GONE = row(f"{OUT} 302 302")  # the object's root: a redirect to its change page (checked)
INDEX = row(f"{OUT} 200 200")

MODELS = {
    "accounts/user": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "accounts/practitionerprofile": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "accounts/throttlelock": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "enrollment/beneficiary": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "enrollment/registrychange": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "enrollment/enrollmentrequest": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    # Categories and profession rules decide what every practitioner of a profession reads:
    # they change only by a reviewed migration, never in the admin.
    "records/category": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "records/document": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "audit/auditevent": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "access_control/emergencyaccess": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "access_control/professionrule": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "access_control/deathproposal": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "letters/letter": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    "letters/letterbatch": {"change": VIEW, "add": REFUSED, "delete": REFUSED},
    # Issue 19: staff register practitioners' software; deleting one would delete its tokens
    # without a trace (a practitioner revokes an access on their applications page). The
    # toolkit's token, code and ID token pages are not registered at all.
    "oauth2_provider/application": {"change": VIEW, "add": VIEW, "delete": REFUSED},
}

APP_INDEX = (
    "admin/^(?P<app_label>oauth2_provider|accounts|enrollment|records|audit|access_control"
    "|letters)/$"
)
# (method, expected statuses) for each admin URL pattern.
TABLE = {
    "admin/": ("get", INDEX),
    "admin/login/": ("get", row("302 302 302 302 302 302")),
    "admin/logout/": ("post", row("302 302 302 302 302 302")),
    "admin/password_change/": ("get", INDEX),
    "admin/password_change/done/": ("get", INDEX),
    "admin/autocomplete/": ("get", row(f"{OUT} 403 403")),
    "admin/jsi18n/": ("get", INDEX),
    "admin/r/<path:content_type_id>/<path:object_id>/": ("get", row(f"{OUT} 404 404")),
    APP_INDEX: ("get", row(f"{OUT} 404 200")),
    "admin/(?P<url>.*)$": ("get", row(f"{OUT} 404 404")),
    # Custom views.
    "admin/enrollment/beneficiary/find/": ("get", VIEW),
    "admin/enrollment/registrychange/<path:object_id>/review/": ("get", VIEW),
    # Recording or lifting an opposition: a POST from the person's page (a GET goes back there).
    "admin/enrollment/beneficiary/<path:object_id>/opposition/": ("get", row(f"{OUT} 403 302")),
    "admin/access_control/deathproposal/propose/": ("get", VIEW),
    "admin/access_control/deathproposal/<path:object_id>/review/": ("get", VIEW),
    "admin/letters/letter/export/": ("get", row(f"{OUT} 302 302")),
    # A new invitation for a practitioner: its confirmation page, for staff who may change
    # accounts.
    "admin/accounts/user/<path:object_id>/reinvite/": ("get", row(f"{OUT} 403 200")),
    # A passkey enrolment code, for another staff member only: the table's account is a
    # practitioner, so even a superuser gets 404 (tests/accounts/test_staff_passkey_enrolment.py
    # issues one for a colleague).
    "admin/accounts/user/<path:object_id>/passkey-enrolment/": ("get", row(f"{OUT} 403 404")),
    # Lifting a login throttle: a POST from its page (a GET goes back to that page).
    "admin/accounts/throttlelock/<path:object_id>/lift/": ("get", row(f"{OUT} 403 302")),
}
for _model, _pages in MODELS.items():
    _base = f"admin/{_model}/"
    TABLE[_base] = ("get", VIEW)
    TABLE[_base + "add/"] = ("get", _pages["add"])
    TABLE[_base + "<path:object_id>/history/"] = ("get", VIEW)
    TABLE[_base + "<path:object_id>/delete/"] = ("get", _pages["delete"])
    TABLE[_base + "<path:object_id>/change/"] = ("get", _pages["change"])
    TABLE[_base + "<path:object_id>/"] = ("get", GONE)


def admin_routes() -> list[str]:
    return [route for route in all_routes() if route.startswith("admin/")]


def test_every_admin_url_pattern_is_in_the_table():
    assert sorted(admin_routes()) == sorted(TABLE)


HEALTH_TITLE = "Bilan oncologique confidentiel"
EMERGENCY_REASON = "patient inconscient aux urgences de Lariboisiere"


def build_world() -> tuple[dict[str, Client], dict[str, object]]:
    patient, patient_client = patient_with_login()
    document = add_document(patient, title=HEALTH_TITLE)
    profile = PractitionerProfileFactory.create()
    person = make_beneficiary()
    staff = StaffFactory.create()
    unverified = StaffFactory.create()
    add_totp(unverified)
    unverified_client = password_only_client(unverified)
    proposer = StaffFactory.create()
    change = RegistryChange.objects.create(
        beneficiary=person,
        proposed_by=proposer,
        values={
            "last_name": "X",
            "first_name": "Y",
            "birth_date": "1985-05-14",
            "regime": "general",
            "address": person.address,
        },
        changed_fields="last_name",
    )
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    emergency = EmergencyAccess.objects.create(
        patient=patient,
        practitioner=profile.user,
        reason=EMERGENCY_REASON,
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    throttle = ThrottleLock.objects.create(
        scope="password-client",
        key_digest="0" * 64,
        until=timezone.now() + timedelta(minutes=15),
        network="192.0.2.x",
    )
    objects = {
        "accounts/throttlelock": throttle.pk,
        "accounts/user": profile.user.pk,
        "accounts/practitionerprofile": profile.pk,
        "enrollment/beneficiary": person.pk,
        "enrollment/registrychange": change.pk,
        "enrollment/enrollmentrequest": EnrollmentRequest.objects.create(nir_index="x" * 64).pk,
        "records/category": Category.objects.all()[0].pk,
        "records/document": document.pk,
        "audit/auditevent": AuditEvent.objects.order_by("pk")[0].pk,
        "access_control/emergencyaccess": emergency.pk,
        "access_control/professionrule": ProfessionRule.objects.order_by("pk")[0].pk,
        "letters/letter": letter.pk,
        "letters/letterbatch": LetterBatch.objects.create().pk,
        "access_control/deathproposal": DeathProposal.objects.create(
            patient=patient, proposed_by=proposer
        ).pk,
        "oauth2_provider/application": make_application()[0].pk,
    }
    clients = {
        "anon": Client(),
        "patient": patient_client,
        "pro": logged_in_client(profile.user),
        "staff_unverified": unverified_client,
        "staff_plain": logged_in_client(StaffFactory.create(is_superuser=False)),
        "staff": logged_in_client(staff),
    }
    return clients, objects


def concrete(route: str, objects: dict) -> str:
    if route == APP_INDEX:
        return "/admin/enrollment/"
    if route == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if route.startswith("admin/r/"):
        return f"/admin/r/999999/{objects['records/document']}/"
    path = route
    for model, pk in objects.items():
        if path.startswith(f"admin/{model}/"):
            path = path.replace("<path:object_id>", str(pk))
    return "/" + path


def test_each_role_gets_the_expected_status_in_the_admin():
    """One world for the whole table (reads change nothing a status depends on); logging out
    comes last, since it ends the sessions. No page shows a document's title or content, or an
    emergency's reason."""
    clients, objects = build_world()
    wrong = []
    for route in sorted(TABLE, key=lambda route: (route == "admin/logout/", route)):
        method, expected = TABLE[route]
        path = concrete(route, objects)
        got = {}
        for role in ROLES:
            response = getattr(clients[role], method)(path, follow=False)
            got[role] = response.status_code
            body = b"" if response.streaming else response.content
            # Health content never appears in the admin, in any form, to anyone.
            for secret in (HEALTH_TITLE, EMERGENCY_REASON, "%PDF"):
                if secret.encode() in body:
                    wrong.append(f"{method.upper()} {path} shows {secret!r} to {role}")
        if got != expected:
            wrong.append(f"{method.upper()} {path}: {got}")
    assert not wrong, "\n".join(wrong)


def database_state() -> dict:
    """What a POST could alter: every row of every model the admin shows, and its log."""
    state: dict[str, object] = {}
    for model in apps.get_models():
        if model._meta.app_label in ("sessions", "otp_totp", "contenttypes"):
            continue
        if model._meta.label in ("accounts.TOTPDevice", "accounts.BackupCodeDevice"):
            continue  # their last-used step moves with every login, by design
        if model._meta.label == "accounts.AccountSession":
            continue  # the session store: each request may write its own session
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if field.get_internal_type() != "BinaryField"
            and field.attname not in ("last_login", "last_t", "throttling_failure_count")
        ]
        state[model._meta.label] = sorted(map(repr, model._default_manager.values_list(*fields)))
    state["log"] = LogEntry.objects.count()
    return state


NEW_PASSWORD = "another long passphrase 42"
# State-changing admin URLs, POSTed with complete, valid data.
POSTS = {
    "admin/accounts/user/add/": {
        "username": "intrus",
        "kind": "practitioner",
        "email": "intrus@example.fr",
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    },
    "admin/accounts/user/<path:object_id>/change/": {
        "username": "intrus",
        "kind": "patient",
        "email": "intrus@example.fr",
        "is_active": "on",
        "practitioner_profile-TOTAL_FORMS": "0",
        "practitioner_profile-INITIAL_FORMS": "0",
    },
    "admin/accounts/user/<path:object_id>/password/": {
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    },
    "admin/accounts/user/<path:object_id>/delete/": {"post": "yes"},
    "admin/accounts/practitionerprofile/<path:object_id>/change/": {
        "rpps": "10000000017",
        "last_name": "Intrus",
        "first_name": "Camille",
        "profession": "pharmacien",
    },
    "admin/enrollment/beneficiary/<path:object_id>/change/": {
        "last_name": "Intrus",
        "first_name": "Léa",
        "birth_date": "1985-05-14",
        "regime": "general",
        "street": "1 rue X",
        "postcode": "13001",
        "city": "Marseille",
    },
    "admin/enrollment/beneficiary/<path:object_id>/delete/": {"post": "yes"},
    "admin/enrollment/beneficiary/find/": {"nir": "1 85 05 78 006 084 91"},
    "admin/enrollment/registrychange/<path:object_id>/review/": {"decision": "confirm"},
    "admin/enrollment/beneficiary/<path:object_id>/opposition/": {"opposition": "set"},
    "admin/enrollment/registrychange/<path:object_id>/delete/": {"post": "yes"},
    "admin/access_control/deathproposal/propose/": {"nir": "1 85 05 78 006 084 91"},
    "admin/access_control/deathproposal/<path:object_id>/review/": {"decision": "confirm"},
    "admin/access_control/deathproposal/<path:object_id>/delete/": {"post": "yes"},
    "admin/letters/letter/export/": {},
    "admin/accounts/user/<path:object_id>/reinvite/": {},
    "admin/accounts/user/<path:object_id>/passkey-enrolment/": {},
    "admin/accounts/throttlelock/<path:object_id>/lift/": {},
    "admin/letters/letter/<path:object_id>/delete/": {"post": "yes"},
    "admin/letters/letterbatch/<path:object_id>/delete/": {"post": "yes"},
    "admin/enrollment/enrollmentrequest/<path:object_id>/delete/": {"post": "yes"},
    "admin/access_control/emergencyaccess/<path:object_id>/delete/": {"post": "yes"},
    "admin/records/document/<path:object_id>/delete/": {"post": "yes"},
    "admin/audit/auditevent/<path:object_id>/delete/": {"post": "yes"},
    "admin/access_control/professionrule/add/": lambda: {
        "profession": "secretaire",
        "category": Category.objects.get(code="psychiatrie").pk,
        "may_read": "on",
    },
    # The first rule, read widened or narrowed: its own profession and category, may_read
    # flipped.
    "admin/access_control/professionrule/<path:object_id>/change/": lambda: {
        "profession": ProfessionRule.objects.order_by("pk")[0].profession,
        "category": ProfessionRule.objects.order_by("pk")[0].category_id,
        "may_read": "" if ProfessionRule.objects.order_by("pk")[0].may_read else "on",
    },
    "admin/access_control/professionrule/<path:object_id>/delete/": {"post": "yes"},
    "admin/records/category/add/": {
        "code": "nouvelle",
        "label_fr": "Nouvelle",
        "label_en": "New",
        "position": "3",
    },
    "admin/records/category/<path:object_id>/change/": lambda: {
        "code": Category.objects.all()[0].code,
        "label_fr": "Autres documents",
        "label_en": "Other documents",
        "position": "0",
    },
    "admin/records/category/<path:object_id>/delete/": {"post": "yes"},
    "admin/oauth2_provider/application/add/": {
        "name": "Logiciel",
        "client_type": "public",
        "redirect_uris": "https://logiciel.example/cb",
    },
    "admin/oauth2_provider/application/<path:object_id>/change/": {
        "name": "Renommée",
        "client_type": "public",
        "redirect_uris": "https://attaquant.example/cb",
    },
    "admin/oauth2_provider/application/<path:object_id>/delete/": {"post": "yes"},
}


# Where verified staff with the permission are meant to change something (a look-up is
# recorded, someone else's proposal confirmed, waiting letters exported).
STAFF_ACT = {
    "admin/enrollment/beneficiary/<path:object_id>/change/",  # the identity read is recorded
    "admin/enrollment/beneficiary/find/",
    "admin/enrollment/registrychange/<path:object_id>/review/",
    "admin/enrollment/beneficiary/<path:object_id>/opposition/",  # an opposition recorded
    "admin/letters/letter/export/",
    "admin/accounts/user/<path:object_id>/reinvite/",  # a practitioner's new invitation
    "admin/accounts/throttlelock/<path:object_id>/lift/",  # a login throttle lifted
    "admin/access_control/deathproposal/propose/",  # the look-up is recorded
    "admin/access_control/deathproposal/<path:object_id>/review/",  # a death confirmed
    "admin/oauth2_provider/application/add/",  # an application registered
    "admin/oauth2_provider/application/<path:object_id>/change/",  # its addresses changed
}


@pytest.mark.parametrize("route", sorted(POSTS))
def test_no_role_but_verified_staff_changes_anything_through_the_admin(route):
    """Outsiders, the password alone and staff without permission change nothing; even a
    superuser changes nothing except where the table above says staff act."""
    clients, objects = build_world()
    path = concrete(route, objects)
    for role in ROLES[:-1] if route in STAFF_ACT else ROLES:
        before = database_state()
        data = POSTS[route]
        clients[role].post(path, data() if callable(data) else data)
        assert database_state() == before, f"{role} changed something with POST {path}"
