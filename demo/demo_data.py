"""Demo data for development: published logins, so never in production (see seed_demo)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import PractitionerProfile, Profession, User, UserKind
from dmp_portal.crypto.datakeys import create_data_key
from enrollment.models import Beneficiary
from enrollment.postal import build_address
from enrollment.services.registry import nir_index

# Published in README: anyone may log in with these on a development machine.
DEMO_PASSWORD = "demo-portail-2026"
PATIENT_USERNAME = "patient.demo"
PRACTITIONER_RPPS = "10000000009"
STAFF_USERNAME = "admin.demo"
# A registry change needs a second staff member to confirm it (four eyes): the demo has two.
REVIEWER_USERNAME = "relecteur.demo"
# Insured people of the demo registry: the patient above, and someone who can try enrolling.
PATIENT_NIR = "290127511234540"
ENROLLABLE_NIR = "185057800608491"
DEMO_BENEFICIARIES = (
    (PATIENT_NIR, "Martin", "Sophie", "1990-12-01", "5 place des Vosges", "75004", "Paris"),
    (ENROLLABLE_NIR, "Dupont", "Jean", "1985-05-14", "3 rue des Lilas", "69003", "Lyon"),
)


@transaction.atomic
def seed() -> int:
    """Create what is missing; never overwrite what a developer changed. Returns rows created."""
    created = 0
    for username, kind, extra in (
        (PATIENT_USERNAME, UserKind.PATIENT, {}),
        (PRACTITIONER_RPPS, UserKind.PRACTITIONER, {"email": "dr.martin@demo.dmp.example"}),
        (
            STAFF_USERNAME,
            UserKind.STAFF,
            {
                "email": "admin@demo.dmp.example",
                "first_name": "Sophie",
                "last_name": "Leroy",
                "is_staff": True,
                "is_superuser": True,
            },
        ),
        (
            REVIEWER_USERNAME,
            UserKind.STAFF,
            {
                "email": "relecteur@demo.dmp.example",
                "first_name": "Marc",
                "last_name": "Girard",
                "is_staff": True,
                "is_superuser": True,
            },
        ),
    ):
        user, was_created = User.objects.get_or_create(
            username=username, defaults={"kind": kind, **extra}
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created += 1
    practitioner = User.objects.get(username=PRACTITIONER_RPPS)
    _profile, was_created = PractitionerProfile.objects.get_or_create(
        user=practitioner,
        defaults={
            "rpps": PRACTITIONER_RPPS,
            "last_name": "Martin",
            "first_name": "Claire",
            "profession": Profession.MEDECIN,
            "specialty": "Médecine générale",
            "city": "Lyon",
        },
    )
    created += int(was_created)
    for nir, last_name, first_name, born, street, postcode, city in DEMO_BENEFICIARIES:
        created += _demo_beneficiary(nir, last_name, first_name, born, street, postcode, city)
    patient = User.objects.get(username=PATIENT_USERNAME)
    beneficiary = Beneficiary.objects.get(nir_index=nir_index(PATIENT_NIR))
    if beneficiary.patient_id is None:
        Beneficiary.objects.filter(pk=beneficiary.pk).update(patient=patient)
        User.objects.filter(pk=patient.pk).update(data_key=beneficiary.data_key)
    return created


def _demo_beneficiary(nir, last_name, first_name, born, street, postcode, city) -> int:
    if Beneficiary.objects.filter(nir_index=nir_index(nir)).exists():
        return 0
    address = build_address(
        first_name=first_name,
        last_name=last_name,
        delivery_point="",
        building="",
        street=street,
        locality="",
        postcode=postcode,
        city=city,
        country="",
    )
    Beneficiary.objects.create(
        nir_index=nir_index(nir),
        data_key=create_data_key("beneficiary"),
        nir=nir,
        last_name=last_name,
        first_name=first_name,
        birth_date=born,
        regime="general",
        address=address.as_json(),
    )
    return 1


def describe() -> list[str]:
    return [
        f"patient: {PATIENT_USERNAME} / {DEMO_PASSWORD}",
        f"practitioner: {PRACTITIONER_RPPS} / {DEMO_PASSWORD}",
        f"staff: {STAFF_USERNAME} / {DEMO_PASSWORD}",
        f"second staff member (confirms registry changes): {REVIEWER_USERNAME} / {DEMO_PASSWORD}",
        "second factor: set up at first login (scan the QR code or type the secret shown)",
        "admin: staff confirm their session with a passkey; add one at "
        "http://localhost:8000/accounts/security/ after logging in with the app "
        "(passkeys work at localhost, not at 127.0.0.1)",
        "first passkey of a staff member: the page asks a one-time enrolment code; print one "
        f"with `.venv/bin/python manage.py issue_passkey_enrolment {STAFF_USERNAME}` "
        f"(or {REVIEWER_USERNAME} issues it in the admin, once they have a passkey)",
        "enrolment: try /enrollment/ with 1 85 05 78 006 084 91, then "
        "`.venv/bin/python manage.py export_letters var/letters` to read the letter and its code",
    ]
