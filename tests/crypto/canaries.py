"""Write a canary value through every encrypted field of the project.

``WRITERS`` must name every model with an encrypted field: the canary test fails when a new
model is added without a writer here, so no encrypted column escapes the check.
"""

from __future__ import annotations

import uuid

from django.apps import apps
from django.core.files.storage import default_storage
from django.utils import timezone

from access_control.models import EmergencyAccess
from accounts.devices import TOTPDevice
from accounts.models import ContactEmail, ContactEmailChange
from accounts.services.keys import ensure_data_key
from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.fields import EncryptedField
from dmp_portal.crypto.files import open_decrypted
from enrollment.models import Beneficiary, RegistryChange
from enrollment.postal import PostalAddressJson
from enrollment.services.registry import nir_index
from enrollment.services.registry_changes import propose_change
from letters.models import Letter
from records.models import Document
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, UserFactory
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document

CANARY = "CANARY-Zébulon-7f3a9c-compte-rendu"


def encrypted_model_labels() -> set[str]:
    return {
        model._meta.label
        for model in apps.get_models()
        if any(isinstance(field, EncryptedField) for field in model._meta.concrete_fields)
    }


def write_totp_device(canary: str) -> None:
    device = TOTPDevice.create_for(UserFactory.create())
    device.secret = canary.encode()
    device.save()
    assert TOTPDevice.objects.get(pk=device.pk).secret == canary.encode()


def write_specimen(canary: str) -> None:
    # Local: its app is installed under DMP_ENV=test only (test_canaries' development subprocess).
    from tests.crypto_specimens.models import Specimen  # noqa: PLC0415 (see above)

    specimen = Specimen.objects.create(
        data_key=create_data_key("patient"),
        text=canary,
        other_text=canary,
        payload={"value": canary},
        blob=canary.encode(),
    )
    assert Specimen.objects.get(pk=specimen.pk).text == canary


def write_beneficiary(canary: str) -> None:
    beneficiary = Beneficiary.objects.create(
        nir_index=nir_index(canary),
        data_key=create_data_key("beneficiary"),
        nir=canary,
        last_name=canary,
        first_name=canary,
        birth_date=canary,
        regime=canary,
        address={"lines": [canary], "postcode": canary, "city": canary, "country": canary},
    )
    assert Beneficiary.objects.get(pk=beneficiary.pk).last_name == canary


def write_registry_change(canary: str) -> None:
    """Through the service staff use, so the canary takes the production path to the row."""
    address: PostalAddressJson = {
        "lines": [canary],
        "postcode": canary,
        "city": canary,
        "country": canary,
    }
    change = propose_change(
        StaffFactory.create(),
        make_beneficiary().pk,
        {
            "last_name": canary,
            "first_name": canary,
            "birth_date": canary,
            "regime": canary,
            "address": address,
        },
    )
    assert RegistryChange.objects.get(pk=change.pk).values["address"] == address


def write_letter(canary: str) -> None:
    letter = Letter.objects.create(
        kind="creation_code",
        subject_uid=uuid.uuid4(),
        data_key=create_data_key("beneficiary"),
        postal={"postcode": canary, "city": canary, "country": canary},
    )
    postal = Letter.objects.get(pk=letter.pk).postal
    assert postal is not None and postal["city"] == canary


def write_document(canary: str) -> None:
    patient = UserFactory(kind="patient")
    document = add_document(patient, title=canary, content=canary.encode() * 20)
    document = Document.objects.select_related("data_key").get(pk=document.pk)
    document.description = canary
    document.save()
    assert Document.objects.get(pk=document.pk).title == canary
    stored = b"".join(
        open_decrypted(default_storage, document.file_name, document.data_key, document.file_aad())
    )
    assert canary.encode() in stored


def write_contact_email(canary: str) -> None:
    patient = UserFactory.create(kind="patient")
    ensure_data_key(patient)
    contact = ContactEmail.objects.create(user=patient, address=canary, verified_at=timezone.now())
    assert ContactEmail.objects.get(pk=contact.pk).address == canary


def write_contact_email_change(canary: str) -> None:
    patient = UserFactory.create(kind="patient")
    ensure_data_key(patient)
    change = ContactEmailChange.objects.create(
        user=patient, address=canary, replaced_address=canary
    )
    stored = ContactEmailChange.objects.get(pk=change.pk)
    assert stored.address == canary and stored.replaced_address == canary


def write_emergency_access(canary: str) -> None:
    patient = UserFactory.create(kind="patient")
    ensure_data_key(patient)
    access = EmergencyAccess.objects.create(
        patient=patient,
        practitioner=PractitionerProfileFactory.create().user,
        reason=canary,
        ends_at=timezone.now(),
    )
    assert EmergencyAccess.objects.get(pk=access.pk).reason == canary


WRITERS = {
    "accounts.ContactEmail": write_contact_email,
    "accounts.ContactEmailChange": write_contact_email_change,
    "access_control.EmergencyAccess": write_emergency_access,
    "records.Document": write_document,
    "enrollment.Beneficiary": write_beneficiary,
    "enrollment.RegistryChange": write_registry_change,
    "letters.Letter": write_letter,
    "accounts.TOTPDevice": write_totp_device,
    "crypto_specimens.Specimen": write_specimen,
}


def write_all(canary: str = CANARY) -> None:
    for label in sorted(encrypted_model_labels()):
        WRITERS[label](canary)


def forms_of(canary: str) -> list[bytes]:
    """The ways a leaked value could appear in a dump: raw, hex (bytea), UTF-16."""
    raw = canary.encode()
    forms = [raw, raw.hex().encode(), canary.encode("utf-16-le")]
    part = canary.split("-")[1] if "-" in canary else ""
    if len(part) >= 6:  # a distinctive part alone (the canary's second word)
        forms.append(part.encode())
    return forms
