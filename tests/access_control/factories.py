"""Builders for consent tests: a practitioner and an enrolled patient already logged in, and the
consents, look-ups and access requests that only the pages make (so that each goes through the
door and leaves the audit trail a real one would)."""

from __future__ import annotations

import re

from django.test import Client

from accounts.models import PractitionerProfile, Profession, User
from tests.accounts.factories import PractitionerProfileFactory, logged_in_client
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import patient_with_login


def practitioner_with_login(
    profession: str = Profession.MEDECIN,
) -> tuple[PractitionerProfile, Client]:
    profile = PractitionerProfileFactory.create(profession=profession)
    return profile, logged_in_client(profile.user)


def enrolled_patient() -> tuple[User, Client, str]:
    """A patient with a record in the registry, so that a practitioner can find them by NIR."""
    patient, client = patient_with_login()
    person = make_beneficiary()
    type(person).objects.filter(pk=person.pk).update(patient=patient)
    return patient, client, person.nir


def grant(client: Client, rpps: str, until: str = ""):
    return client.post("/access/", {"rpps": rpps, "until": until})


def look_up(pro: Client, nir: str) -> str:
    """Look a NIR up on /pro/; the token that the page's request and emergency addresses carry
    (they name this look-up, never a record)."""
    page = pro.post("/pro/", {"nir": nir}).content.decode()
    match = re.search(r"/pro/patients/([0-9a-f-]{36})/emergency/", page)
    assert match, page
    return match.group(1)


def ask_access(pro: Client, nir: str):
    """Ask (the request itself is written by the task its commit queues: run the callbacks)."""
    return pro.post(f"/pro/patients/{look_up(pro, nir)}/request/")
