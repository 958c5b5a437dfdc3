"""The world of tests/test_isolation.py: one record, its owner, and nine third users; the form
each page's owner posts, and how a page is made ready for it.

A plain helper module beside the factories, not a test module (pytest collects nothing here):
tests/isolation_table.py and the test modules of isolation and CSRF import it.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from access_control.models import AccessRequest, Block, Consent, RecordSettings, TreatingPhysician
from accounts.devices import TOTPDevice
from accounts.models import ContactEmail, ContactEmailChange, User
from accounts.services import issue_activation_link
from accounts.services.contact_email import send_confirmation
from accounts.services.password import issue_reset_link
from accounts.sessions import hash_session_key
from enrollment.models import Beneficiary
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
    password_only_client,
)
from tests.accounts.passkey_factories import SoftAuthenticator, add_passkey
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import PDF, add_document, patient_with_login

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
    users: dict[str, User]
    devices: dict[str, TOTPDevice]
    values: dict[str, object]  # the URL's arguments
    extra: dict[str, object] = field(default_factory=dict)


def build_world() -> World:
    patient_a, client_a = patient_with_login()
    patient_b, client_b = patient_with_login()
    document = add_document(patient_a)
    add_document(patient_b)
    pros = {
        name: PractitionerProfileFactory.create().user
        for name in ("pro_consent", "pro_none", "pro_revoked", "pro_blocked")
    }
    consent = Consent.objects.create(patient=patient_a, practitioner=pros["pro_consent"])
    TreatingPhysician.objects.create(patient=patient_a, physician=pros["pro_consent"])
    Consent.objects.create(
        patient=patient_a, practitioner=pros["pro_revoked"], revoked_at=timezone.now()
    )
    block = Block.objects.create(patient=patient_a, practitioner=pros["pro_blocked"])
    access_request = AccessRequest.objects.create(patient=patient_a, practitioner=pros["pro_none"])
    RecordSettings.objects.create(patient=patient_a)
    ContactEmail.objects.create(user=patient_a, address="a@example.fr", verified_at=timezone.now())
    newcomer = UserFactory.create()
    staff = StaffFactory.create()
    add_totp(staff)
    clients = {
        "anon": Client(),
        "patient_a": client_a,
        "patient_b": client_b,
        "newcomer": password_only_client(newcomer),
        "staff_unverified": password_only_client(staff),
    }
    clients.update({name: logged_in_client(user) for name, user in pros.items()})
    clients["staff"] = logged_in_client(StaffFactory.create())
    users = {"patient_a": patient_a, "patient_b": patient_b, "newcomer": newcomer, **pros}
    devices = {name: user.totpdevice_set.get() for name, user in pros.items()}
    values = {
        "uid": document.uid,
        "document_id": document.uid,  # the FHIR API's name for it (issue 19)
        "patient_id": patient_a.pk,
        "consent_id": consent.pk,
        "block_id": block.pk,
        "request_id": access_request.pk,
        "token": "set-password",
        "device_id": add_passkey(patient_a)[0].pk,
        "rest": "Observation",  # the FHIR API's last route, any other address (issue 19)
    }
    return World(clients, users, devices, values)


# --- How a page answered ----------------------------------------------------------------------


def answer(response) -> str:
    if response.status_code in (301, 302, 303):
        return f"{response.status_code} {urlsplit(response['Location']).path}"
    return str(response.status_code)


# --- Form data and preparations of each page --------------------------------------------------


def upload_form(world, role):
    return {
        "title": "Compte rendu",
        "category": "imagerie",
        "act_date": "2026-03-12",
        "file": SimpleUploadedFile("cr.pdf", PDF, content_type="application/pdf"),
    }


def rpps_form(name: str, prefix: str = ""):
    def data(world, role):
        rpps = world.users[name].practitioner_profile.rpps
        return {f"{prefix}-rpps" if prefix else "rpps": rpps}

    return data


def settings_form(world, role):
    return {"emergency_opt_out": "on", "contact_email": "other@example.fr"}


def emergency_form(world, role):
    device = world.devices.get("pro_none" if role == OWNER else role)
    token = next_totp_token(device) if device is not None else "123456"
    return {"reason": "patient inconscient aux urgences", "otp_token": token}


def login_form(world, role):
    password = PASSWORD if role == OWNER else "not the password at all"
    return {"username": world.users["patient_a"].username, "password": password}


def no_data(world, role):
    return {}


def prepare_totp_setup(world):
    """A newcomer opens the setup page; the others post the code of the secret it shows."""
    owner = UserFactory()
    client = password_only_client(owner)
    page = client.get("/accounts/2fa/setup/").content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    world.extra["owner_client"] = client
    world.extra["owner"] = owner
    world.extra["secret"] = secret


def totp_of_owner_form(world, role):
    key = base64.b32decode(world.extra["secret"])
    totp = TOTP(key, 30, 0, 6, 0)
    return {"otp_token": f"{totp.token():06d}"}


def prepare_other_session(world):
    """patient_a is signed in a second time, in another browser: the session to end."""
    other = logged_in_client(world.users["patient_a"])
    world.extra["other_session"] = hash_session_key(
        other.cookies[settings.SESSION_COOKIE_NAME].value
    )


def other_session_form(world, role):
    return {"session": world.extra["other_session"]}


def prepare_activation(world):
    """An invited practitioner opened their link; the others post to the same address."""
    profile = PractitionerProfileFactory(user=UserFactory(kind="practitioner", is_active=False))
    profile.user.set_unusable_password()
    profile.user.save()
    client = Client()
    client.get(f"/accounts/activate/{issue_activation_link(profile.user)}/")
    world.extra["owner_client"] = client


def reset_request_form(world, role):
    """The owner asks a reset link for patient_a's confirmed address; the others for
    addresses of no account (same page, nothing written but the trail)."""
    return {"email": "a@example.fr" if role == OWNER else f"{role}@inconnu.example"}


def prepare_password_reset(world):
    """patient_a opened the link of a reset e-mail; the others post to the same address."""
    client = Client()
    client.get(f"/accounts/password/reset/{issue_reset_link(world.users['patient_a'])}/")
    world.extra["owner_client"] = client


def password_change_form(world, role):
    patient_a = world.users["patient_a"]
    return {
        "old_password": PASSWORD,
        "new_password1": "une longue phrase de printemps",
        "new_password2": "une longue phrase de printemps",
        "otp_token": next_totp_token(patient_a.totpdevice_set.get()),
    }


def prepare_contact_change(world):
    """patient_a gave a new contact address, sent its confirmation link."""
    change = ContactEmailChange.objects.create(
        user=world.users["patient_a"], address="nouvelle@example.fr"
    )
    send_confirmation(change.pk)
    world.extra["change"] = change


def prepare_email_confirmation(world):
    """patient_a's new address: its owner opened the confirmation link; the others post to
    the page it leads to."""
    prepare_contact_change(world)
    match = re.search(r"(/accounts/email/confirm/[\w-]+/)", mail.outbox[-1].body)
    client = Client()
    client.get(match.group(1))
    world.extra["owner_client"] = client
    world.values["token"] = "confirm"


def new_password_form(world, role):
    return {
        "new_password1": "une longue phrase de printemps",
        "new_password2": "une longue phrase de printemps",
    }


def prepare_enrollment(world):
    """Someone of the registry already has a live code; a stranger asks again for their number.
    The owner is a person without a code, whose request leads to a letter."""
    holder = make_beneficiary()
    issue_code(holder)
    world.extra["holder"] = holder
    world.extra["newcomer_person"] = make_beneficiary()


def enrollment_form(world, role):
    person = world.extra["newcomer_person" if role == OWNER else "holder"]
    return {"nir": person.nir, "nir_confirmation": person.nir}


def prepare_code(world):
    holder = make_beneficiary()
    world.extra["holder"] = holder
    world.extra["code"] = issue_code(holder).code


def code_form(world, role):
    code = world.extra["code"]
    if role != OWNER:  # a stranger knows the number, not the code
        code = code[:-1] + ("A" if code[-1] != "A" else "B")
    return {"nir": world.extra["holder"].nir, "creation_code": code}


def look_up(client: Client, nir: str) -> str:
    """Look a NIR up on /pro/ as a practitioner does: the token that the page's request and
    emergency addresses carry (it names this look-up of this session, never a record)."""
    page = client.post("/pro/", {"nir": nir}).content.decode()
    match = re.search(r"/pro/patients/([0-9a-f-]{36})/emergency/", page)
    assert match, page
    return match.group(1)


def lookup_by(owner: str):
    """patient_a is in the registry, and ``owner`` looked their NIR up: the address names that
    look-up (the owner's session), as the link of the owner's page does."""

    def prepare(world):
        person = make_beneficiary()
        Beneficiary.objects.filter(pk=person.pk).update(patient=world.users["patient_a"])
        world.extra["nir"] = person.nir
        world.values["patient_id"] = look_up(world.clients[owner], person.nir)

    return prepare


def hide_document(world):
    """``show`` changes only a hidden document: hidden first, so that a change would show."""
    Document.objects.filter(uid=world.values["uid"]).update(hidden_from_practitioners=True)


def authored_by_pro_consent(world):
    """The author's controls (issue 16) are a practitioner author's: pro_consent's document."""
    Document.objects.filter(uid=world.values["uid"]).update(author=world.users["pro_consent"])


def held_by_pro_consent(world):
    """``reveal`` changes only a held document of its author's."""
    authored_by_pro_consent(world)
    until = timezone.now() + timedelta(days=30)
    Document.objects.filter(uid=world.values["uid"]).update(hidden_from_patient_until=until)


def setlang_form(world, role):
    return {"language": "en", "next": "/"}


def search_form(world, role):
    return {"nir": "1 85 05 78 006 084 91"}


def passkey_options_form(world, role):
    """The name of a new key and the code of patient_a's app (the others do not know it)."""
    if role != OWNER:
        return {"name": "Téléphone", "otp_token": "123456"}
    device = world.users["patient_a"].totpdevice_set.get()
    return {"name": "Téléphone", "otp_token": next_totp_token(device)}


def prepare_passkey_registration(world):
    """Someone asked for the options of a new passkey; the others post the key it created."""
    owner = UserFactory()
    device = add_totp(owner)
    client = logged_in_client(owner, device)
    fields = {"name": "Téléphone", "otp_token": next_totp_token(device)}
    options = client.post("/accounts/security/passkeys/options/", fields).json()
    world.extra["owner_client"] = client
    world.extra["credential"] = json.dumps(SoftAuthenticator().register(options))


def passkey_registration_form(world, role):
    return {"name": "Téléphone", "credential": world.extra["credential"]}


def prepare_passkey_login(world):
    """Someone past the password signed the challenge with their passkey; the others post it."""
    owner = UserFactory()
    add_totp(owner)
    _device, authenticator = add_passkey(owner)
    client = password_only_client(owner)
    options = client.post("/accounts/login/passkey/options/").json()
    world.extra["owner_client"] = client
    world.extra["credential"] = json.dumps(authenticator.sign(options))


def passkey_login_form(world, role):
    return {"credential": world.extra["credential"]}
