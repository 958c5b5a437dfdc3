"""Every URL pattern of the project (the admin aside), classified: who may change what through it.

A plain helper module beside the factories, not a test module: tests/test_isolation.py posts
every page of ``TABLE`` as every third user, and tests/test_csrf_every_route.py posts every
``Change`` page as its owner without a CSRF token. Three kinds:

- ``GET_ONLY``: a POST answers 405, whoever sends it;
- ``READ``: the page answers a POST like a GET and changes nothing (the audit trail aside);
- ``Change``: the owner (whose POST is the legitimate change), the form they post, the tables
  that change shows in, and what every other role gets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from access_control.models import CaregiverGrant, ClosureReason, RecordClosure
from records.models import Document
from tests.accounts.factories import PASSWORD, next_totp_token
from tests.accounts.oauth_factories import (
    ALL_SCOPES,
    REDIRECT_URI,
    approve,
    exchange,
    make_application,
    pkce_pair,
)
from tests.enrollment.factories import make_beneficiary
from tests.isolation_world import (
    BACK,
    LOGIN,
    MINE,
    NO_LOOKUP,
    OWNER,
    authored_by_pro_consent,
    code_form,
    emergency_form,
    enrollment_form,
    held_by_pro_consent,
    hide_document,
    login_form,
    lookup_by,
    new_password_form,
    no_data,
    other_session_form,
    passkey_login_form,
    passkey_options_form,
    passkey_registration_form,
    password_change_form,
    prepare_activation,
    prepare_code,
    prepare_contact_change,
    prepare_email_confirmation,
    prepare_enrollment,
    prepare_other_session,
    prepare_passkey_login,
    prepare_passkey_registration,
    prepare_password_reset,
    prepare_totp_setup,
    reset_request_form,
    row,
    rpps_form,
    search_form,
    setlang_form,
    settings_form,
    totp_of_owner_form,
    upload_form,
)


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
# Issue 19: the OAuth2 token and revocation endpoints. CSRF-exempt by nature (RFC 6749 section
# 3.2, RFC 7009 section 2.1): an application's server calls them with its client
# authentication (HTTP Basic, or the client id and PKCE verifier), never with a browser's
# session cookie, so there is no session to ride and no CSRF token to send. What protects them
# is that authentication: without it every role gets 400 and nothing changes
# (tests/test_isolation.py, tests/test_csrf_every_route.py).
CLIENT_AUTHENTICATED = "client-authenticated"


def closure_form(world, role):
    """patient_a's password and next code (issue 16: closing and reopening)."""
    patient_a = world.users["patient_a"]
    return {"password": PASSWORD, "otp_token": next_totp_token(patient_a.totpdevice_set.get())}


def close_record_of_a(world):
    RecordClosure.objects.create(
        patient=world.users["patient_a"],
        reason=ClosureReason.PATIENT,
        archive_until=timezone.localdate() + timedelta(days=1),
    )


def caregiver_form(world, role):
    """patient_a invites patient_b (issue 17), named by their three facts (``enrol_b``)."""
    return {
        "identifier": world.users["patient_b"].username,
        "last_name": "Caregiver",
        "birth_date": "14/05/1985",
        "scope": "read",
        "until": (timezone.localdate() + timedelta(days=30)).strftime("%d/%m/%Y"),
    }


def authored_for_a_minor(*, confidential: bool):
    """patient_a is 11 in the registry (issue 17, item 4), pro_consent's document of theirs
    kept from the legal representatives (``confidential``) or not, so that a change shows."""

    def prepare(world):
        authored_by_pro_consent(world)
        person = make_beneficiary(born=date(2015, 1, 2))
        type(person).objects.filter(pk=person.pk).update(patient=world.users["patient_a"])
        Document.objects.filter(uid=world.values["uid"]).update(
            confidential_from_representatives=confidential
        )

    return prepare


def enrol_b(world):
    beneficiary = make_beneficiary(last_name="Caregiver")
    beneficiary.patient = world.users["patient_b"]
    beneficiary.save(update_fields=["patient"])


def caregiver_grant(*, accepted: bool):
    """patient_a's grant to patient_b, named by its id in the address (issue 17)."""

    def prepare(world):
        grant = CaregiverGrant.objects.create(
            patient=world.users["patient_a"],
            caregiver=world.users["patient_b"],
            scope="read",
            accepted_at=timezone.now() if accepted else None,
            until=timezone.localdate() + timedelta(days=30),
        )
        world.values["grant_id"] = grant.pk

    return prepare


def prepare_oauth_application(world):
    """A registered application (issue 19), whose consent page every role then posts."""
    world.values["oauth_client_id"] = make_application()[0].client_id


def consent_form(world, role):
    """The consent page's fields, « Autoriser » pressed: an approval of the world's
    application (a new PKCE challenge each time)."""
    return {
        "client_id": world.values["oauth_client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": ALL_SCOPES,
        "response_type": "code",
        "state": "etat",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
        "allow": "on",
    }


def prepare_connected_application(world):
    """pro_consent let an application act in their name (issue 19): it holds their tokens."""
    application, secret = make_application()
    verifier, challenge = pkce_pair()
    code = approve(world.clients["pro_consent"], application, challenge)
    assert exchange(application, secret, code, verifier).status_code == 200
    world.values["application_id"] = application.pk


def record_of_a(world, role):
    """The switch's choice of patient_a's record (issue 17, item 3)."""
    return {"record": str(world.users["patient_a"].pk)}


# The patient's own pages: the address names no record, each patient acts on their own.
OWN_PAGE = row(LOGIN, OWNER, MINE, "404", "404", "404", "404", LOGIN, LOGIN, "404")
# A document of patient_a, named in the address.
ON_DOCUMENT = row(LOGIN, OWNER, "404", "404", "404", "404", "404", LOGIN, LOGIN, "404")
# An invitation patient_a sent patient_b, named by its id: only patient_b answers it.
TO_PATIENT_B = row(LOGIN, "404", OWNER, "404", "404", "404", "404", LOGIN, LOGIN, "404")
# A document of patient_a that pro_consent added, named in the address: its author's controls.
BY_AUTHOR = row(LOGIN, "404", "404", OWNER, "404", "404", "404", LOGIN, LOGIN, "404")
# A consent, block or request of patient_a, named by its id: another patient's attempt is
# answered on their own page like an id that does not exist.
ON_DECISION = row(LOGIN, OWNER, BACK, "404", "404", "404", "404", LOGIN, LOGIN, "404")

TABLE: dict[str, str | Change] = {
    "": READ,
    "summary/": READ,
    "pro/workspace/": READ,
    "staff/": READ,
    "healthz": GET_ONLY,
    "healthz/live": GET_ONLY,
    "healthz/ready": GET_ONLY,
    # 404 for a GET and a POST alike without the scraper's bearer (tests/test_metrics.py).
    "metrics": READ,
    # The FHIR API (issue 19): without a bearer token nothing is reached, whoever posts; the
    # writes with a token have their own tests (tests/fhir_api/).
    "fhir/metadata": GET_ONLY,
    "fhir/Patient": GET_ONLY,
    "fhir/Patient/_search": READ,
    "fhir/DocumentReference": READ,
    "fhir/DocumentReference/<str:document_id>": GET_ONLY,
    "fhir/Binary/<str:document_id>": GET_ONLY,
    # The transaction Bundle (item 2's writes): nothing without a bearer token; with one, the
    # third practitioner's refusal is in tests/fhir_api/test_write_access.py.
    "fhir/": READ,
    # Any other address under /fhir/ (the last route): 401 to every POST without a token.
    "fhir/<path:rest>": READ,
    "mentions-legales/": GET_ONLY,
    "donnees-personnelles/": GET_ONLY,
    "accessibilite/": GET_ONLY,
    "aide/": GET_ONLY,
    "accounts/login/": Change(
        owner="anon",
        data=login_form,
        shows_in=("accounts_accountsession",),
        thirds=row(
            OWNER,
            *["302 /summary/"] * 2,
            *["302 /pro/workspace/"] * 4,
            "200",
            "200",
            "302 /staff/",
        ),
    ),
    "accounts/logout/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("accounts_accountsession",),
        thirds=row("302 /", OWNER, *["302 /"] * 8),
    ),
    "accounts/session/extend/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("accounts_accountsession",),
        thirds=row(LOGIN, OWNER, *["204"] * 8),
    ),
    "accounts/sessions/": READ,
    # Issue 19: the consent page. Every practitioner approving the application makes their own
    # grant (MINE); a patient or staff member gets the French refusal, nothing granted.
    "oauth/authorize/": Change(
        owner="pro_consent",
        data=consent_form,
        shows_in=("oauth2_provider_grant",),
        thirds=row(LOGIN, "403", "403", OWNER, MINE, MINE, MINE, LOGIN, LOGIN, "403"),
        prepare=prepare_oauth_application,
    ),
    "oauth/token/": CLIENT_AUTHENTICATED,
    "oauth/revoke_token/": CLIENT_AUTHENTICATED,
    "accounts/applications/": READ,
    # pro_consent's application: anyone else's revocation of it is 404, and its tokens live on.
    "accounts/applications/<int:application_id>/revoke/": Change(
        owner="pro_consent",
        data=no_data,
        shows_in=("oauth2_provider_accesstoken", "oauth2_provider_refreshtoken"),
        thirds=row(LOGIN, "404", "404", OWNER, "404", "404", "404", LOGIN, LOGIN, "404"),
        prepare=prepare_connected_application,
    ),
    "accounts/sessions/end/": Change(
        owner="patient_a",
        data=other_session_form,
        shows_in=("accounts_accountsession",),
        # Another person's session is no session of theirs: 404, and it stays open.
        thirds=row(LOGIN, OWNER, *["404"] * 5, LOGIN, LOGIN, "404"),
        prepare=prepare_other_session,
    ),
    "accounts/sessions/end-others/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("accounts_accountsession",),
        # Each signed-in person ends their own other sessions, never patient_a's.
        thirds=row(LOGIN, OWNER, *[MINE] * 5, LOGIN, LOGIN, MINE),
        prepare=prepare_other_session,
    ),
    "accounts/2fa/setup/": Change(
        owner="extra",
        data=totp_of_owner_form,
        shows_in=("accounts_totpdevice", "accounts_backupcodedevice"),
        thirds=row(LOGIN, *["302 /"] * 6, "200", LOGIN, "302 /"),
        prepare=prepare_totp_setup,
        # The newcomer's own setup page, shown again with the error, makes their own pending
        # device and its data key (test_a_newcomer_cannot_confirm_another_persons_device).
        third_may_change=("accounts_totpdevice", "accounts_user", "crypto_datakey"),
    ),
    "accounts/activate/<str:token>/": Change(
        owner="extra",
        data=new_password_form,
        shows_in=("accounts_user", "accounts_activationlink"),
        thirds=row(*["404"] * 10),
        prepare=prepare_activation,
    ),
    # Passkeys: each person asks for options and adds, uses or removes their own keys only.
    "accounts/security/": READ,
    "accounts/security/passkeys/options/": Change(
        owner="patient_a",
        data=passkey_options_form,
        shows_in=("accounts_accountsession",),
        # Staff, logged in with a passkey, need no code: their own options, in their session.
        thirds=row(LOGIN, OWNER, *["400"] * 5, LOGIN, LOGIN, "200"),
    ),
    "accounts/security/passkeys/add/": Change(
        owner="extra",
        data=passkey_registration_form,
        shows_in=("accounts_passkeydevice",),
        thirds=row(LOGIN, *["400"] * 6, LOGIN, LOGIN, "400"),
        prepare=prepare_passkey_registration,
    ),
    "accounts/security/passkeys/<int:device_id>/remove/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("accounts_passkeydevice",),
        thirds=row(LOGIN, OWNER, *["404"] * 5, LOGIN, LOGIN, "404"),
    ),
    "accounts/login/passkey/options/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("accounts_accountsession",),
        thirds=row(LOGIN, OWNER, *["200"] * 8),
    ),
    "accounts/login/passkey/": Change(
        owner="extra",
        data=passkey_login_form,
        shows_in=("accounts_passkeydevice", "accounts_accountsession"),
        thirds=row(LOGIN, *["400"] * 9),
        prepare=prepare_passkey_login,
    ),
    # Anyone may ask; a stranger's address is answered the same and gets nothing.
    "accounts/password/reset/": Change(
        owner="anon",
        data=reset_request_form,
        shows_in=("accounts_passwordresetlink",),
        thirds=row(OWNER, *["200"] * 6, LOGIN, LOGIN, "200"),
    ),
    "accounts/password/reset/<str:token>/": Change(
        owner="extra",
        data=new_password_form,
        shows_in=("accounts_user", "accounts_passwordresetlink"),
        thirds=row(*["404"] * 7, LOGIN, LOGIN, "404"),
        prepare=prepare_password_reset,
    ),
    # Each signed-in person changes their own password only: the address names no account.
    "accounts/password/change/": Change(
        owner="patient_a",
        data=password_change_form,
        shows_in=("accounts_user",),
        thirds=row(LOGIN, OWNER, *[MINE] * 5, LOGIN, LOGIN, MINE),
    ),
    "accounts/email/confirm/<str:token>/": Change(
        owner="extra",
        data=no_data,
        shows_in=("accounts_contactemail", "accounts_contactemailchange"),
        thirds=row(*["404"] * 7, LOGIN, LOGIN, "404"),
        prepare=prepare_email_confirmation,
    ),
    "accounts/email/resend/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("accounts_contactemailchange",),
        thirds=row(LOGIN, OWNER, *[MINE] * 5, LOGIN, LOGIN, MINE),
        prepare=prepare_contact_change,
    ),
    "enrollment/": Change(
        owner="anon",
        data=enrollment_form,
        shows_in=("enrollment_enrollmentrequest", "letters_letter"),
        thirds=row(*["200"] * 7, LOGIN, LOGIN, "200"),
        prepare=prepare_enrollment,
        # Every request is recorded (its hashed number and outcome), whatever the number.
        third_may_change=("enrollment_enrollmentrequest",),
    ),
    "enrollment/eligibility/": READ,
    "enrollment/activate/": Change(
        owner="anon",
        data=code_form,
        shows_in=("accounts_accountsession",),
        # After five free wrong tries for the number, the next ones wait (429).
        thirds=row(*["200"] * 5, "429", "429", LOGIN, LOGIN, "429"),
        prepare=prepare_code,
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
        owner="patient_a", data=upload_form, shows_in=("records_document",), thirds=OWN_PAGE
    ),
    "records/<uuid:uid>/": READ,
    "records/<uuid:uid>/content/": READ,
    "records/<uuid:uid>/download/": READ,
    "records/<uuid:uid>/hide/": Change(
        owner="patient_a", data=no_data, shows_in=("records_document",), thirds=ON_DOCUMENT
    ),
    "records/<uuid:uid>/show/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("records_document",),
        thirds=ON_DOCUMENT,
        prepare=hide_document,
    ),
    "records/<uuid:uid>/delete/": Change(
        owner="patient_a", data=no_data, shows_in=("records_document",), thirds=ON_DOCUMENT
    ),
    # The export reads, and writes only the code it used up (the ZIP is the owner's answer).
    "records/export/": Change(
        owner="patient_a",
        data=password_change_form,  # its otp_token is the owner's next code
        shows_in=("accounts_totpdevice",),
        thirds=OWN_PAGE,
    ),
    # Issue 16: a new version by its author (here the patient, who added it); the author's
    # controls of a practitioner (pro_consent, made its author), refused to the patient too.
    "records/<uuid:uid>/replace/": Change(
        owner="patient_a", data=upload_form, shows_in=("records_document",), thirds=ON_DOCUMENT
    ),
    "records/<uuid:uid>/hold/": Change(
        owner="pro_consent",
        data=no_data,
        shows_in=("records_document",),
        thirds=BY_AUTHOR,
        prepare=held_by_pro_consent,
    ),
    "records/<uuid:uid>/reveal/": Change(
        owner="pro_consent",
        data=no_data,
        shows_in=("records_document",),
        thirds=BY_AUTHOR,
        prepare=held_by_pro_consent,
    ),
    "records/<uuid:uid>/withdraw/": Change(
        owner="pro_consent",
        data=no_data,
        shows_in=("records_document",),
        thirds=BY_AUTHOR,
        prepare=authored_by_pro_consent,
    ),
    # Issue 17, item 4: a minor's document kept from the legal representatives, and lifted:
    # its author's controls (pro_consent's document of patient_a, a minor in the registry).
    "records/<uuid:uid>/confidential/": Change(
        owner="pro_consent",
        data=no_data,
        shows_in=("records_document",),
        thirds=BY_AUTHOR,
        prepare=authored_for_a_minor(confidential=False),
    ),
    "records/<uuid:uid>/not-confidential/": Change(
        owner="pro_consent",
        data=no_data,
        shows_in=("records_document",),
        thirds=BY_AUTHOR,
        prepare=authored_for_a_minor(confidential=True),
    ),
    # Issue 16: the patient's own record only; the address names none.
    "records/close/": Change(
        owner="patient_a",
        data=closure_form,
        shows_in=("access_control_recordclosure", "access_control_consent"),
        thirds=OWN_PAGE,
    ),
    "records/reopen/": Change(
        owner="patient_a",
        data=closure_form,
        shows_in=("access_control_recordclosure",),
        thirds=OWN_PAGE,
        prepare=close_record_of_a,
    ),
    "access/": Change(
        owner="patient_a",
        data=rpps_form("pro_none"),
        shows_in=("access_control_consent", "access_control_accessrequest"),
        thirds=OWN_PAGE,
    ),
    "access/history/": READ,
    # Issue 17: caregivers. An invitation; its end by patient_a; patient_b's answer.
    "access/caregivers/": Change(
        owner="patient_a",
        data=caregiver_form,
        shows_in=("access_control_caregivergrant",),
        thirds=OWN_PAGE,
        prepare=enrol_b,
    ),
    "access/caregivers/<int:grant_id>/end/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("access_control_caregivergrant",),
        thirds=ON_DOCUMENT,
        prepare=caregiver_grant(accepted=True),
    ),
    "access/caregivers/<int:grant_id>/accept/": Change(
        owner="patient_b",
        data=no_data,
        shows_in=("access_control_caregivergrant",),
        thirds=TO_PATIENT_B,
        prepare=caregiver_grant(accepted=False),
    ),
    "access/caregivers/<int:grant_id>/decline/": Change(
        owner="patient_b",
        data=no_data,
        shows_in=("access_control_caregivergrant",),
        thirds=TO_PATIENT_B,
        prepare=caregiver_grant(accepted=False),
    ),
    # Issue 17, item 3: the switch. patient_b, patient_a's caregiver, chooses patient_a's record:
    # only their session changes (the choice is kept there, never in an address). patient_a
    # choosing it is their own record (nothing to keep); anyone else has no tie: 404.
    "access/acting/": Change(
        owner="patient_b",
        data=record_of_a,
        shows_in=("accounts_accountsession",),
        thirds=row(LOGIN, MINE, OWNER, "404", "404", "404", "404", LOGIN, LOGIN, "404"),
        prepare=caregiver_grant(accepted=True),
    ),
    "access/settings/": Change(
        owner="patient_a",
        data=settings_form,
        shows_in=("access_control_recordsettings",),
        thirds=OWN_PAGE,
    ),
    "access/consents/<int:consent_id>/revoke/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("access_control_consent",),
        thirds=ON_DECISION,
    ),
    "access/blocks/": Change(
        owner="patient_a",
        data=rpps_form("pro_none", "block"),
        shows_in=("access_control_block",),
        thirds=OWN_PAGE,
    ),
    "access/blocks/<int:block_id>/lift/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("access_control_block",),
        thirds=ON_DECISION,
    ),
    "access/treating-physician/": Change(
        owner="patient_a",
        data=rpps_form("pro_none", "md"),
        shows_in=("access_control_treatingphysician", "access_control_consent"),
        thirds=OWN_PAGE,
    ),
    "access/treating-physician/remove/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("access_control_treatingphysician",),
        thirds=OWN_PAGE,
    ),
    "access/requests/<int:request_id>/accept/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("access_control_accessrequest", "access_control_consent"),
        thirds=ON_DECISION,
    ),
    "access/requests/<int:request_id>/decline/": Change(
        owner="patient_a",
        data=no_data,
        shows_in=("access_control_accessrequest",),
        thirds=ON_DECISION,
    ),
    "pro/": READ,
    "pro/patients/<uuid:patient_id>/": READ,
    # The address names a look-up of the owner's session: posted by anyone else it finds nothing
    # (a practitioner gets the same answer as for a sent request: asking tells nothing).
    "pro/patients/<uuid:patient_id>/request/": Change(
        owner="pro_revoked",
        data=no_data,
        shows_in=("access_control_accessrequest",),
        thirds=row(
            LOGIN, "404", "404", "302 /pro/", "302 /pro/", OWNER, "302 /pro/", LOGIN, LOGIN, "404"
        ),
        prepare=lookup_by("pro_revoked"),
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
        data=emergency_form,
        # The owner's code is used up on their own device (the second factor's used step).
        shows_in=("access_control_emergencyaccess", "accounts_totpdevice"),
        thirds=row(LOGIN, "404", "404", "200", OWNER, "200", "200", LOGIN, LOGIN, "404"),
        prepare=lookup_by("pro_none"),
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
        data=upload_form,
        shows_in=("records_document",),
        thirds=row(LOGIN, "404", "404", OWNER, "404", "404", "404", LOGIN, LOGIN, "404"),
    ),
    # The language switch: a person signed in with both factors has it remembered on their
    # own account (for the e-mails written later); a visitor or a half-signed-in session
    # changes nothing but its cookie.
    "i18n/setlang/": Change(
        owner="patient_a",
        data=setlang_form,
        shows_in=("accounts_user",),
        thirds=row("302 /", OWNER, MINE, MINE, MINE, MINE, MINE, "302 /", "302 /", MINE),
    ),
    # Issue 19: the OpenID Connect sign-in's two addresses take GET only (405 to a POST; the
    # half-signed-in are sent to the second factor first), and are 404 while it is off.
    "oidc/authenticate/": READ,
    "oidc/callback/": READ,
}

READ_DATA = {"pro/": search_form}


# The state-changing pages, in a stable order (the parameters of the tests that post them).
CHANGES = sorted(route for route, kind in TABLE.items() if isinstance(kind, Change))
