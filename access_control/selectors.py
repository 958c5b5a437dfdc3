"""Reads for the consent pages and the practitioner's workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.paginator import Page
from django.db import transaction

from access_control import policy
from access_control.decisions import Actor
from access_control.models import (
    AccessRequest,
    Block,
    Consent,
    EmergencyAccess,
    TreatingPhysician,
)
from accounts.models import PractitionerProfile
from accounts.throttling import Throttle
from audit.models import Action
from dmp_portal.crypto.hashing import blind_index
from enrollment.models import Beneficiary
from records import selectors as record_selectors

if TYPE_CHECKING:
    from accounts.models import PractitionerProfile, User


@dataclass(frozen=True)
class AccessOverview:
    consents: list[Consent]
    requests: list[AccessRequest]
    blocks: list[Block]
    treating_physician: TreatingPhysician | None
    emergencies: list[EmergencyAccess]  # the patient reads every emergency access and its reason


def access_overview(patient: User) -> AccessOverview:
    """What the patient decided; names are the public data of the practitioners' directory."""
    related = ("practitioner__practitioner_profile",)
    return AccessOverview(
        consents=list(
            Consent.objects.live()
            .filter(patient=patient)
            .select_related(*related)
            .order_by("-granted_at")
        ),
        requests=list(
            AccessRequest.objects.filter(patient=patient, decided_at__isnull=True)
            .select_related(*related)
            .order_by("-created_at")
        ),
        blocks=list(
            Block.objects.active()
            .filter(patient=patient)
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
    """What a look-up answers. Without access the practitioner learns nothing, not even whether
    a record exists: ``patient_id`` is then None whatever the NIR, and ``nir_index`` (the blind
    index of the NIR typed) is what a request or an emergency declaration acts on later.
    ``throttled`` is the number of seconds to wait when the look-up was refused for its rate."""

    nir_index: str
    patient_id: uuid.UUID | None = None
    throttled: int = 0

    @property
    def may_open(self) -> bool:
        return self.patient_id is not None


def lookup_throttle() -> Throttle:
    return Throttle(
        "pro-lookup",
        settings.PRO_LOOKUPS_PER_WINDOW,
        int(settings.PRO_LOOKUP_WINDOW.total_seconds()),
    )


def beneficiary_patient(nir_index: str) -> User | None:
    """The record of the registry person with this blind index, or None (not in the registry,
    or not enrolled). One query, the same whatever the answer; nothing is decrypted."""
    beneficiary = (
        Beneficiary.objects.select_related("patient").filter(nir_index=nir_index or "").first()
    )
    return beneficiary.patient if beneficiary is not None else None


def find_patient(
    practitioner: User, normalised_nir: str, *, client_address: str = ""
) -> LookupResult:
    """A practitioner looks a patient up by NIR, through the door, which records it.

    The same work whatever the NIR (unknown to the registry, in it but not enrolled, enrolled):
    one registry query by blind index, the relationship's queries, one audit event (on the
    patient's chain, else on the system chain). Past ``PRO_LOOKUPS_PER_WINDOW`` look-ups in
    ``PRO_LOOKUP_WINDOW``, the look-up is refused, recorded, and not made.
    """
    nir_index = blind_index(normalised_nir, "nir")
    waiting = lookup_throttle().attempt(str(practitioner.pk))
    if waiting:
        with transaction.atomic():
            policy.record_refusal(
                practitioner, None, Action.LOOKUP, "throttled", client_address=client_address
            )
        return LookupResult(nir_index, throttled=waiting)
    with transaction.atomic():
        patient = beneficiary_patient(nir_index)
        access = policy.access_to(practitioner, patient)
        policy.authorize(
            practitioner, patient, Action.LOOKUP, client_address=client_address, access=access
        )
        # Sent to the record only when the door would open it.
        may_open = access.decide(Action.LIST).allowed
    return LookupResult(nir_index, patient.pk if may_open and patient is not None else None)


def practitioners_named(name: str, limit: int = 20) -> list[PractitionerProfile]:
    """Practitioners of the public directory whose last name starts with ``name``."""
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


def patient_identity(
    actor: Actor,
    patient: User | None,
    *,
    access: policy.RecordAccess | None = None,
    client_address: str = "",
) -> PatientIdentity | None:
    """The identity shown at the top of a record the door just opened for ``actor``.

    Call it inside the transaction of the audited read it belongs to (the view wraps both), with
    that read's ``access``: the door is asked again (``decide``, without a query), so a refusal
    shows nothing. Called on its own (no ``access``), the read is decided and recorded by the door
    like the list it would head.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("patient_identity must share the audited read's transaction")
    if access is not None:
        if access.actor != actor or access.patient != patient:
            # As in ``authorize``: an answer computed for someone else must not open this one.
            raise ValueError("patient_identity() was given the access of another reader or record")
        allowed = access.may_show_identity()
    else:
        allowed = policy.authorize(
            actor, patient, Action.LIST, client_address=client_address
        ).allowed
    if not allowed:
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


@dataclass(frozen=True)
class PractitionerRecord:
    page: Page
    identity: PatientIdentity | None


def practitioner_record(
    practitioner: User,
    patient: User | None,
    page_number: int | str | None,
    *,
    client_address: str = "",
) -> PractitionerRecord:
    """A record as a practitioner opens it: the list and the identity heading it, in one
    transaction, from one relationship loaded once. Raises DocumentNotFound when refused
    (after the refusal is committed)."""
    with transaction.atomic():
        access = policy.access_to(practitioner, patient)
        try:
            page = record_selectors.record_page(
                practitioner,
                patient,
                record_selectors.RecordFilters(),
                page_number,
                client_address=client_address,
                access=access,
            )
        except record_selectors.DocumentNotFound:
            page = None
        identity = None if page is None else patient_identity(practitioner, patient, access=access)
    if page is None:
        raise record_selectors.DocumentNotFound
    return PractitionerRecord(page, identity)
