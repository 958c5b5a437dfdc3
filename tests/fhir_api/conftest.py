"""The FHIR API's world: a patient with a record in the registry, a doctor they consented to
(with a token of a connected application), and a third practitioner without any consent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from oauth2_provider.models import Application

from access_control.services import grant_consent
from accounts.models import PractitionerProfile, User
from tests.access_control.factories import enrolled_patient
from tests.accounts.factories import PractitionerProfileFactory
from tests.fhir_api.factories import access_token, api_client, application


@dataclass
class World:
    patient: User
    patient_client: Client
    nir: str
    doctor: PractitionerProfile
    app: Application
    token: str
    api: Client  # the doctor's software
    charlie: PractitionerProfile  # no consent
    charlie_api: Client


@pytest.fixture
def world(db) -> World:
    patient, patient_client, nir = enrolled_patient()
    doctor = PractitionerProfileFactory.create(last_name="Martin", first_name="Claire")
    charlie = PractitionerProfileFactory.create(last_name="Bernard", first_name="Charles")
    grant_consent(patient, doctor.rpps)
    app = application()
    raw, _token = access_token(doctor.user, app)
    charlie_raw, _charlie_token = access_token(charlie.user, app)
    return World(
        patient,
        patient_client,
        nir,
        doctor,
        app,
        raw,
        api_client(raw),
        charlie,
        api_client(charlie_raw),
    )
