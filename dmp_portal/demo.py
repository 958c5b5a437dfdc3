"""Demo data for development: published logins, so never in production (see seed_demo)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import PractitionerProfile, Profession, User, UserKind

# Published in README: anyone may log in with these on a development machine.
DEMO_PASSWORD = "demo-portail-2026"
PATIENT_USERNAME = "patient.demo"
PRACTITIONER_RPPS = "10000000009"
STAFF_USERNAME = "admin.demo"


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
            {"email": "admin@demo.dmp.example", "is_staff": True, "is_superuser": True},
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
        },
    )
    return created + int(was_created)


def describe() -> list[str]:
    return [
        f"patient: {PATIENT_USERNAME} / {DEMO_PASSWORD}",
        f"practitioner: {PRACTITIONER_RPPS} / {DEMO_PASSWORD}",
        f"staff: {STAFF_USERNAME} / {DEMO_PASSWORD}",
        "second factor: set up at first login (scan the QR code or type the secret shown)",
    ]
