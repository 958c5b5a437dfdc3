"""Every URL of the project, requested as every role, against one table of expected statuses.

A URL pattern missing from the table fails the test: a new page cannot ship without someone
deciding who may reach it. The admin's URLs (changelist, add, change, history, delete, the
object's root and every custom view, of every registered model) have their own table, roles
and "changes nothing" checks in tests/test_admin_matrix.py, which fails the same way when an
admin URL is not classified; they are left out of this table only because their roles differ.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from access_control.acting import FORM_FIELD
from access_control.models import (
    AccessRequest,
    Block,
    CaregiverEndReason,
    CaregiverGrant,
    Consent,
    EmergencyAccess,
    LegalRepresentation,
    RepresentationEndReason,
)
from records.models import Document
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    add_totp,
    logged_in_client,
    password_only_client,
)
from tests.accounts.oauth_factories import make_application
from tests.accounts.passkey_factories import add_passkey
from tests.records.factories import add_document, patient_with_login
from tests.routes import concrete, project_routes

pytestmark = pytest.mark.django_db

# Statuses in this order of roles (patient_a owns the record; the practitioners are on it).
ROLES = (
    "anon",
    "patient_a",
    "patient_b",
    "pro_consent",
    "pro_emergency",
    "pro_none",
    "pro_revoked",
    "pro_blocked",
    "staff_unverified",
    "staff_verified",
)
# patient_a comes last: a successful change of theirs must not alter what the others see.
ORDER = ROLES[:1] + ROLES[2:] + ROLES[1:2]


def row(statuses: str) -> dict[str, int]:
    codes = [int(code) for code in statuses.split()]
    return dict(zip(ROLES, codes, strict=True))


#                    anon A   B   pc  pe  pn  pr  pb  su  sv
EVERYONE_200 = row("200 200 200 200 200 200 200 200 302 200")
OWN_RECORD = row("302 200 200 404 404 404 404 404 302 404")
A_DOCUMENT = row("302 200 404 200 200 404 404 404 302 404")
PATIENT_CHANGE_ON_A = row("302 302 404 404 404 404 404 404 302 404")
PATIENT_POST = row("302 302 302 404 404 404 404 404 302 404")
PATIENT_FORM_POST = row("302 200 200 404 404 404 404 404 302 404")
NOBODY_BUT_AUTHOR = row("302 404 404 404 404 404 404 404 302 404")
PUBLIC = row("200 200 200 200 200 200 200 200 200 200")

# (method, expected statuses) for each URL pattern; kwargs are filled from the world below.
TABLE = {
    # Visitors get the public home page; everyone signed in, the page of their kind of account.
    "": ("get", row("200 302 302 302 302 302 302 302 302 302")),
    "summary/": ("get", OWN_RECORD),
    "pro/workspace/": ("get", row("302 404 404 200 200 200 200 200 302 404")),
    "staff/": ("get", row("302 404 404 404 404 404 404 404 302 200")),
    "healthz": ("get", row("200 200 200 200 200 200 200 200 200 200")),
    "healthz/live": ("get", PUBLIC),
    # The same for everyone; 503 here because no worker runs the heartbeat in this test.
    "healthz/ready": ("get", row("503 503 503 503 503 503 503 503 503 503")),
    # The portal's 404, as for an unknown path (su: sent to the second factor first, as there):
    # only the scraper's bearer token opens it (tests/test_metrics.py).
    "metrics": ("get", row("404 404 404 404 404 404 404 404 302 404")),
    "accounts/login/": ("get", row("200 302 302 302 302 302 302 302 200 302")),
    "accounts/logout/": ("get", row("200 200 200 200 200 200 200 200 200 200")),
    "accounts/session/extend/": ("post", row("302 204 204 204 204 204 204 204 204 204")),
    "accounts/2fa/setup/": ("get", row("302 302 302 302 302 302 302 302 302 302")),
    # Everyone signed in has their own sessions; no form data names no session of theirs.
    "accounts/sessions/": ("get", row("302 200 200 200 200 200 200 200 302 200")),
    "accounts/sessions/end/": ("post", row("302 404 404 404 404 404 404 404 302 404")),
    "accounts/sessions/end-others/": ("post", row("302 302 302 302 302 302 302 302 302 302")),
    "accounts/activate/<str:token>/": ("get", row("404 404 404 404 404 404 404 404 404 404")),
    # Passkeys (tests/accounts/test_passkeys.py): an empty POST is no answer of a browser.
    "accounts/security/": ("get", row("302 200 200 200 200 200 200 200 302 200")),
    "accounts/security/passkeys/options/": ("post", row("302 400 400 400 400 400 400 400 302 400")),
    "accounts/security/passkeys/add/": ("post", row("302 400 400 400 400 400 400 400 302 400")),
    "accounts/security/passkeys/<int:device_id>/remove/": (
        "post",
        row("302 302 404 404 404 404 404 404 302 404"),
    ),
    "accounts/login/passkey/options/": ("post", row("302 200 200 200 200 200 200 200 200 200")),
    "accounts/login/passkey/": ("post", row("302 400 400 400 400 400 400 400 400 400")),
    "accounts/password/reset/": ("get", row("200 200 200 200 200 200 200 200 302 200")),
    "accounts/password/reset/<str:token>/": (
        "get",
        row("404 404 404 404 404 404 404 404 302 404"),
    ),
    "accounts/password/change/": ("get", row("302 200 200 200 200 200 200 200 302 200")),
    "accounts/email/confirm/<str:token>/": (
        "get",
        row("404 404 404 404 404 404 404 404 302 404"),
    ),
    "accounts/email/resend/": ("post", row("302 302 302 302 302 302 302 302 302 302")),
    "enrollment/": ("get", EVERYONE_200),
    "enrollment/eligibility/": ("get", EVERYONE_200),
    "enrollment/activate/": ("get", EVERYONE_200),
    "records/": ("get", OWN_RECORD),
    "records/upload/": ("get", OWN_RECORD),
    "records/<uuid:uid>/": ("get", A_DOCUMENT),
    "records/<uuid:uid>/content/": ("get", A_DOCUMENT),
    "records/<uuid:uid>/download/": ("get", A_DOCUMENT),
    "records/<uuid:uid>/hide/": ("post", PATIENT_CHANGE_ON_A),
    "records/<uuid:uid>/show/": ("post", PATIENT_CHANGE_ON_A),
    "records/<uuid:uid>/delete/": ("post", PATIENT_CHANGE_ON_A),
    "records/export/": ("get", OWN_RECORD),
    # Issue 16: the world's document is patient_a's own; its author's controls are refused to
    # the patient (a practitioner author's) and to every practitioner (not its author).
    "records/<uuid:uid>/replace/": ("get", row("302 200 404 404 404 404 404 404 302 404")),
    "records/<uuid:uid>/hold/": ("post", NOBODY_BUT_AUTHOR),
    "records/<uuid:uid>/reveal/": ("post", NOBODY_BUT_AUTHOR),
    "records/<uuid:uid>/withdraw/": ("post", NOBODY_BUT_AUTHOR),
    # Issue 17, item 4: keeping a minor's document from their legal representatives, and
    # lifting it: its practitioner author's controls, refused to everyone else.
    "records/<uuid:uid>/confidential/": ("post", NOBODY_BUT_AUTHOR),
    "records/<uuid:uid>/not-confidential/": ("post", NOBODY_BUT_AUTHOR),
    # Closing and reopening (issue 16): the patient's own record only, named by no address.
    "records/close/": ("get", OWN_RECORD),
    "records/reopen/": ("get", OWN_RECORD),
    "access/": ("get", OWN_RECORD),
    "access/history/": ("get", OWN_RECORD),
    "access/settings/": ("get", OWN_RECORD),
    "access/consents/<int:consent_id>/revoke/": ("post", PATIENT_POST),
    "access/blocks/": ("post", PATIENT_FORM_POST),
    "access/blocks/<int:block_id>/lift/": ("post", PATIENT_POST),
    "access/treating-physician/": ("post", PATIENT_FORM_POST),
    "access/treating-physician/remove/": ("post", PATIENT_POST),
    "access/requests/<int:request_id>/accept/": ("post", PATIENT_POST),
    "access/requests/<int:request_id>/decline/": ("post", PATIENT_POST),
    # Issue 17: caregivers; patient_a invited patient_b (``grant_id``, pending).
    "access/caregivers/": ("get", OWN_RECORD),
    "access/caregivers/<int:grant_id>/end/": ("post", PATIENT_CHANGE_ON_A),
    "access/caregivers/<int:grant_id>/accept/": (
        "post",
        row("302 404 302 404 404 404 404 404 302 404"),
    ),
    "access/caregivers/<int:grant_id>/decline/": (
        "post",
        row("302 404 302 404 404 404 404 404 302 404"),
    ),
    "pro/": ("get", row("302 404 404 200 200 200 200 200 302 404")),
    "pro/patients/<uuid:patient_id>/": ("get", row("302 404 404 200 200 404 404 404 302 404")),
    "pro/patients/<uuid:patient_id>/request/": (
        "post",
        row("302 404 404 302 302 302 302 302 302 404"),
    ),
    "pro/patients/<uuid:patient_id>/emergency/": (
        "get",
        row("302 404 404 200 200 200 200 200 302 404"),
    ),
    "pro/patients/<uuid:patient_id>/upload/": (
        "get",
        row("302 404 404 200 404 404 404 404 302 404"),
    ),
    # Issue 17, item 3: the switch; no ``record`` chosen is no tie of anyone's (404).
    "access/acting/": ("post", row("302 404 404 404 404 404 404 404 302 404")),
    "i18n/setlang/": ("post", row("302 302 302 302 302 302 302 302 302 302")),
    # The public pages: everyone, a person stopped at the second factor included.
    "mentions-legales/": ("get", PUBLIC),
    "donnees-personnelles/": ("get", PUBLIC),
    "accessibilite/": ("get", PUBLIC),
    "aide/": ("get", PUBLIC),
    # Issue 19: the OpenID Connect sign-in, off in the suite's settings: the portal's 404 for
    # everyone (su: sent to the second factor first). Enabled: tests/accounts/test_oidc.py.
    "oidc/authenticate/": ("get", row("404 404 404 404 404 404 404 404 302 404")),
    "oidc/callback/": ("get", row("404 404 404 404 404 404 404 404 302 404")),
    # Issue 19: the consent page, for a practitioner past both factors (here without a query:
    # the French page of an invalid request); a patient or staff member gets the French
    # refusal. The token and revocation endpoints answer the application's client
    # authentication, never a session: without it, 400 (a half-logged-in session is sent to
    # the second factor first, as everywhere).
    "oauth/authorize/": ("get", row("302 403 403 400 400 400 400 400 302 403")),
    "oauth/token/": ("post", row("400 400 400 400 400 400 400 400 302 400")),
    "oauth/revoke_token/": ("post", row("400 400 400 400 400 400 400 400 302 400")),
    # The practitioner's connected applications; revoking an application that holds no live
    # access of theirs (the world's has none) is 404, whoever posts.
    "accounts/applications/": ("get", row("302 404 404 200 200 200 200 200 302 404")),
    "accounts/applications/<int:application_id>/revoke/": (
        "post",
        row("302 404 404 404 404 404 404 404 302 404"),
    ),
    # The FHIR API (issue 19): a web session opens nothing there, only a bearer token does
    # (tests/fhir_api/test_web_parity.py has the same roles with tokens).
    "fhir/metadata": ("get", PUBLIC),
    # No interaction of its own: 405 with the way to search (400 only with a NIR in the address).
    "fhir/Patient": ("get", row("405 405 405 405 405 405 405 405 405 405")),
    "fhir/Patient/_search": ("post", row("401 401 401 401 401 401 401 401 401 401")),
    "fhir/DocumentReference": ("get", row("401 401 401 401 401 401 401 401 401 401")),
    "fhir/DocumentReference/<str:document_id>": (
        "get",
        row("401 401 401 401 401 401 401 401 401 401"),
    ),
    "fhir/Binary/<str:document_id>": ("get", row("401 401 401 401 401 401 401 401 401 401")),
    # Item 2's writes: the transaction Bundle at the base (and POST /fhir/DocumentReference in
    # POSTS below); with tokens, tests/fhir_api/test_write_access.py.
    "fhir/": ("post", row("401 401 401 401 401 401 401 401 401 401")),
    # Any other address under /fhir/ (the last route): 401 without a token, as every call
    # (with one, 404 not-supported: tests/fhir_api/test_answers_always_fhir.py).
    "fhir/<path:rest>": ("get", row("401 401 401 401 401 401 401 401 401 401")),
}


def test_every_url_pattern_is_in_the_table():
    assert sorted(project_routes()) == sorted(TABLE)


def _verified(user) -> Client:
    return logged_in_client(user)


def build_world():
    patient_a, client_a = patient_with_login()
    patient_b, client_b = patient_with_login()
    document = add_document(patient_a)
    pros = {
        name: PractitionerProfileFactory().user
        for name in ("pro_consent", "pro_emergency", "pro_none", "pro_revoked", "pro_blocked")
    }
    consent = Consent.objects.create(patient=patient_a, practitioner=pros["pro_consent"])
    Consent.objects.create(
        patient=patient_a, practitioner=pros["pro_revoked"], revoked_at="2026-01-01T00:00:00Z"
    )
    Consent.objects.create(patient=patient_a, practitioner=pros["pro_blocked"])
    block = Block.objects.create(patient=patient_a, practitioner=pros["pro_blocked"])
    EmergencyAccess.objects.create(
        patient=patient_a,
        practitioner=pros["pro_emergency"],
        reason="patient inconscient aux urgences",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    request = AccessRequest.objects.create(patient=patient_a, practitioner=pros["pro_none"])
    staff = StaffFactory()
    add_totp(staff)
    unverified = password_only_client(staff)
    clients = {
        "anon": Client(),
        "patient_a": client_a,
        "patient_b": client_b,
        "staff_unverified": unverified,
        "staff_verified": _verified(staff),
    }
    clients.update({name: _verified(user) for name, user in pros.items()})
    values = {
        "uid": document.uid,
        "document_id": document.uid,
        "patient_id": patient_a.pk,
        "consent_id": consent.pk,
        "block_id": block.pk,
        "request_id": request.pk,
        "token": "not-a-token",
        "device_id": add_passkey(patient_a)[0].pk,
        "grant_id": CaregiverGrant.objects.create(
            patient=patient_a, caregiver=patient_b, scope="read", until=timezone.localdate()
        ).pk,
        "application_id": make_application()[0].pk,
        "rest": "Observation",  # the FHIR API's last route, any other address (issue 19)
    }
    return clients, values


@pytest.mark.parametrize("route", sorted(TABLE))
def test_each_role_gets_the_expected_status(route):
    clients, values = build_world()
    method, expected = TABLE[route]
    path = concrete(route, values)
    data = {"language": "fr", "next": "/"} if route == "i18n/setlang/" else {}
    got = {}
    for role in ORDER:
        response = getattr(clients[role], method)(path, data)
        got[role] = response.status_code
    assert got == expected, f"{method.upper()} {path}"


# Pages answering both GET and POST: the POST too, by role (empty or harmless data).
POSTS = {
    "access/": ({"rpps": "10000000017"}, row("302 200 200 404 404 404 404 404 302 404")),
    "access/settings/": ({"contact_email": ""}, row("302 302 302 404 404 404 404 404 302 404")),
    "pro/": ({"nir": "1 85 05 78 006 084 91"}, row("302 404 404 200 200 200 200 200 302 404")),
    "pro/patients/<uuid:patient_id>/emergency/": (
        {"reason": ""},
        row("302 404 404 200 200 200 200 200 302 404"),
    ),
    "pro/patients/<uuid:patient_id>/upload/": (
        {"title": ""},
        row("302 404 404 200 404 404 404 404 302 404"),
    ),
    "records/upload/": ({"title": ""}, row("302 200 200 404 404 404 404 404 302 404")),
    # Issue 19: adding a document through the FHIR API takes a bearer token, never a session.
    "fhir/DocumentReference": ({}, row("401 401 401 401 401 401 401 401 401 401")),
    # No code: the page again with its message, nothing exported.
    "records/export/": ({"otp_token": ""}, row("302 200 200 404 404 404 404 404 302 404")),
}


@pytest.mark.parametrize("route", sorted(POSTS))
def test_each_role_gets_the_expected_status_on_post(route):
    clients, values = build_world()
    data, expected = POSTS[route]
    path = concrete(route, values)
    got = {role: clients[role].post(path, data).status_code for role in ORDER}
    assert got == expected, f"POST {path}"


def test_the_admin_opens_only_to_verified_staff():
    """Every model page of the admin, as every role: only verified staff get in."""
    clients, _values = build_world()
    pages = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]
    expected = row("302 302 302 302 302 302 302 302 302 200")
    for page in pages:
        got = {role: clients[role].get(page).status_code for role in ORDER}
        assert got == expected, page


# --- Issue 17, items 3 and 7: the roles acting for patient_a ------------------------------------
# Each helper is a patient with a record of their own, who chose patient_a's record with the
# switch (``/access/acting/``) while their tie was live; the former representative's tie then
# ended and the revoked caregiver's grant was revoked, so their next request falls back to
# their own record. Everywhere a helper gets what patient_b (a patient with no tie) gets, but
# on the pages the switch opens, listed here. patient_a's document is a PDF they added.
HELPERS = (
    "former_representative",
    "revoked_caregiver",
    "caregiver_read",
    "caregiver_manage",
    "representative",  # last: the only one whose changes succeed (hide, show, delete)
)


def helper_row(statuses: str) -> dict[str, int]:
    codes = [int(code) for code in statuses.split()]
    return dict(zip(HELPERS, codes, strict=True))


#                                      fr  rc  cr  cm  rep
HELPER_READS = helper_row("404 404 200 200 200")
HELPER_CHANGES = helper_row("404 404 404 404 302")
HELPER_TABLE = {
    "records/<uuid:uid>/": HELPER_READS,
    "records/<uuid:uid>/content/": HELPER_READS,
    "records/<uuid:uid>/download/": HELPER_READS,
    "records/<uuid:uid>/hide/": HELPER_CHANGES,
    "records/<uuid:uid>/show/": HELPER_CHANGES,
    "records/<uuid:uid>/delete/": HELPER_CHANGES,
    # The upload form of patient_a's record: not to a read-only caregiver (the others: their
    # own record, or patient_a's).
    "records/upload/": helper_row("200 200 404 200 200"),
    # A consents form drawn for patient_a's record (no number typed): the page again with its
    # message for whoever manages patient_a's consents; a form sent after the tie ended, or by
    # a read-only caregiver (whose consents page is their own), changes nothing and says so
    # (acting.check_form: redirected).
    "access/blocks/": helper_row("302 302 302 200 200"),
    "access/treating-physician/": helper_row("302 302 302 200 200"),
    # patient_b's invitation: no helper's.
    "access/caregivers/<int:grant_id>/accept/": helper_row("404 404 404 404 404"),
    "access/caregivers/<int:grant_id>/decline/": helper_row("404 404 404 404 404"),
}


def build_helpers(values):
    """The five helpers of patient_a's record, each switched to it while their tie was live."""
    patient_a = CaregiverGrant.objects.get(pk=values["grant_id"]).patient
    clients = {}
    for role in HELPERS:
        helper, client = patient_with_login()
        if role.endswith("representative"):
            LegalRepresentation.objects.create(
                minor=patient_a,
                representative=helper,
                until=timezone.localdate() + timedelta(days=30),
            )
        else:
            scope = "manage" if role == "caregiver_manage" else "read"
            CaregiverGrant.objects.create(
                patient=patient_a,
                caregiver=helper,
                scope=scope,
                accepted_at=timezone.now(),
                until=timezone.localdate() + timedelta(days=30),
            )
        assert client.post("/access/acting/", {"record": str(patient_a.pk)}).status_code == 302
        clients[role] = client
        if role == "former_representative":
            LegalRepresentation.objects.filter(representative=helper).update(
                ended_at=timezone.now(), ended_reason=RepresentationEndReason.MAJORITY
            )
        elif role == "revoked_caregiver":
            CaregiverGrant.objects.filter(caregiver=helper).update(
                revoked_at=timezone.now(), revoked_reason=CaregiverEndReason.PATIENT
            )
    return clients


def documents_state() -> list[tuple[object, ...]]:
    return list(
        Document.objects.order_by("pk").values_list(
            "pk", "status", "hidden_from_practitioners", "author_id"
        )
    )


@pytest.mark.parametrize("route", sorted(TABLE))
def test_each_helper_role_gets_the_expected_status(route):
    """Every URL as each helper role: a refused change (404) changes no document."""
    clients, values = build_world()
    helpers = build_helpers(values)
    patient_a = CaregiverGrant.objects.get(pk=values["grant_id"]).patient
    method, expected = TABLE[route]
    wanted = HELPER_TABLE.get(route) or dict.fromkeys(HELPERS, expected["patient_b"])
    path = concrete(route, values)
    data = {"language": "fr", "next": "/"} if route == "i18n/setlang/" else {}
    got = {}
    for role in HELPERS:
        before = documents_state()
        # Each form as the page draws it while patient_a's record is chosen (acting.FORM_FIELD).
        drawn = {**data, FORM_FIELD: str(patient_a.pk)} if method == "post" else data
        got[role] = getattr(helpers[role], method)(path, drawn).status_code
        if method == "post" and got[role] == 404:
            assert documents_state() == before, (role, path)
    assert got == wanted, f"{method.upper()} {path}"


def test_the_switch_by_role():
    """``/access/acting/`` with patient_a's record chosen: only a live tie switches; anyone
    else gets 404 (patient_a: their own record) and nobody's choice changes."""
    clients, values = build_world()
    helpers = build_helpers(values)
    patient_a = CaregiverGrant.objects.get(pk=values["grant_id"]).patient
    data = {"record": str(patient_a.pk)}
    got = {
        role: client.post("/access/acting/", data).status_code for role, client in helpers.items()
    }
    assert got == helper_row("404 404 302 302 302")
    others = {role: clients[role].post("/access/acting/", data).status_code for role in ORDER}
    assert others == row("302 302 404 404 404 404 404 404 302 404")
    assert "acting_for" not in clients["patient_b"].session
