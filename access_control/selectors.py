"""Reads for the consent pages and the practitioner's workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access_control.audit import Action, Outcome, record_event
from access_control.consent_models import (
    AccessRequest,
    Block,
    Consent,
    EmergencyAccess,
    TreatingPhysician,
)
from access_control.policy import decide, has_consent
from dmp_portal.crypto.hashing import blind_index


@dataclass(frozen=True)
class AccessOverview:
    consents: list[Consent]
    requests: list[AccessRequest]
    blocks: list[Block]
    treating_physician: TreatingPhysician | None
    emergencies: list  # the patient reads every emergency access and its reason


def access_overview(patient) -> AccessOverview:
    """What the patient decided; names are the public data of the practitioners' directory."""
    now = timezone.now()
    related = ("practitioner__practitioner_profile",)
    return AccessOverview(
        consents=list(
            Consent.objects.filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now),
                patient=patient,
                revoked_at__isnull=True,
            )
            .select_related(*related)
            .order_by("-granted_at")
        ),
        requests=list(
            AccessRequest.objects.filter(patient=patient, decided_at__isnull=True)
            .select_related(*related)
            .order_by("-created_at")
        ),
        blocks=list(
            Block.objects.filter(patient=patient, lifted_at__isnull=True)
            .select_related(*related)
            .order_by("-created_at")
        ),
        treating_physician=TreatingPhysician.objects.filter(patient=patient)
        .select_related("physician__practitioner_profile")
        .first(),
        emergencies=list(
            EmergencyAccess.objects.filter(patient=patient)
            .select_related("practitioner__practitioner_profile", "patient__data_key")
            .order_by("-started_at")[:50]
        ),
    )


@dataclass(frozen=True)
class LookupResult:
    """Without consent the practitioner learns nothing, not even whether a record exists:
    ``patient_id`` is then the record's id or a random one, and the page is the same."""

    patient_id: object
    has_consent: bool


def find_patient(practitioner, normalised_nir: str, *, client_address: str = "") -> LookupResult:
    """A practitioner looks a patient up by NIR; the look-up itself is recorded."""
    from enrollment.models import Beneficiary

    with transaction.atomic():
        beneficiary = (
            Beneficiary.objects.select_related("patient")
            .filter(nir_index=blind_index(normalised_nir, "nir"), patient__isnull=False)
            .first()
        )
        patient = beneficiary.patient if beneficiary is not None else None
        record_event(
            actor=practitioner,
            patient=patient,
            action=Action.LOOKUP,
            outcome=Outcome.ALLOWED if patient else Outcome.REFUSED,
            reason="found" if patient else "no-such-record",
            client_address=client_address,
        )
    if patient is not None and has_consent(patient, practitioner):
        return LookupResult(patient.pk, True)
    return LookupResult(patient.pk if patient is not None else uuid.uuid4(), False)


def practitioners_named(name: str, limit: int = 20) -> list:
    """Practitioners of the public directory whose last name starts with ``name``."""
    from accounts.models import PractitionerProfile

    name = (name or "").strip()
    if len(name) < 2:
        return []
    return list(
        PractitionerProfile.objects.filter(
            last_name__istartswith=name, user__is_active=True
        ).order_by("last_name", "first_name")[:limit]
    )


@dataclass(frozen=True)
class PatientIdentity:
    """Who the record belongs to, so that a practitioner checks it is the right person."""

    last_name: str
    first_name: str
    birth_date: date | None
    nir: str


def patient_identity(actor, patient) -> PatientIdentity | None:
    """The identity shown at the top of a record the door just opened for ``actor``.

    Call it inside the transaction of the audited read it belongs to (the view wraps both): the
    door is asked again here, so a refusal between the two reads shows nothing.
    """
    from enrollment.models import Beneficiary

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("patient_identity must share the audited read's transaction")
    if not decide(actor, patient, Action.LIST).allowed:
        return None
    beneficiary = Beneficiary.objects.select_related("data_key").filter(patient=patient).first()
    if beneficiary is None:
        return None
    try:
        born = date.fromisoformat(str(beneficiary.birth_date))
    except ValueError:  # destroyed, or a date the registry could only give in part
        born = None
    return PatientIdentity(
        last_name=str(beneficiary.last_name),
        first_name=str(beneficiary.first_name),
        birth_date=born,
        nir=str(beneficiary.nir),
    )
