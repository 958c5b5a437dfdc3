"""Reads for the consent pages and the practitioner's workspace."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from access_control import policy
from access_control.decisions import Actor
from access_control.models import (
    AccessRequest,
    Block,
    Consent,
    EmergencyAccess,
    RecordClosure,
    RecordSettings,
    TreatingPhysician,
)
from accounts.throttling import Throttle
from audit.models import Action, Mode
from dmp_portal.crypto.hashing import blind_index
from enrollment.models import Beneficiary
from records import selectors as record_selectors
from records.models import Category

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class OpenAccess:
    """One practitioner may list one record now, and through what: their live consent (which
    the patient may revoke), their emergency access in progress, or both."""

    patient_id: uuid.UUID
    practitioner: User
    consent: Consent | None
    emergency: EmergencyAccess | None


def readers_of(patient: User, now: datetime | None = None) -> list[OpenAccess]:
    """Who may read this record now: the one answer for every page that says it (the patient's
    overview, landing pages). Those with a live consent first (newest first), then those under
    an emergency access only."""
    return _open_accesses(now, patient=patient)


def records_open_to(practitioner: User, now: datetime | None = None) -> list[OpenAccess]:
    """The records this practitioner may read now (the same rules as ``readers_of``)."""
    return _open_accesses(now, practitioner=practitioner)


def waiting_requests(patient: User) -> list[AccessRequest]:
    """The access requests waiting for the patient's answer, newest first: never one beside an
    active block (the block ended it; a row left from before is not offered), so that every
    page that lists them (``/access/``, the summary) offers the same."""
    blocked = Block.objects.active().filter(patient=patient).values("practitioner_id")
    if RecordClosure.objects.filter(patient=patient).exists():
        return []  # a closed record answers no request (closing declined them all)
    return list(
        AccessRequest.objects.filter(patient=patient, decided_at__isnull=True)
        .exclude(practitioner_id__in=blocked)
        .select_related("practitioner__practitioner_profile")
        .order_by("-created_at")
    )


def _open_accesses(now: datetime | None, **pair: User) -> list[OpenAccess]:
    """The door's rules for listing a record (``policy.decide``, ``Action.LIST``) as two
    queries over many pairs: a live consent, or an emergency access in progress whose patient
    did not opt out, never beside an active block. Only the door decides a request; this says
    what it would answer, for the pages that list people or records, and
    tests/access_control/test_state_agreement.py holds the two together in every state."""
    now = now or timezone.now()
    blocked = Exists(
        Block.objects.active().filter(
            patient_id=OuterRef("patient_id"), practitioner_id=OuterRef("practitioner_id")
        )
    )
    opted_out = Exists(
        RecordSettings.objects.filter(patient_id=OuterRef("patient_id"), emergency_opt_out=True)
    )
    # A closed record is open to no one, whatever rows are left (issue 16).
    closed = Exists(RecordClosure.objects.filter(patient_id=OuterRef("patient_id")))
    related = "practitioner__practitioner_profile"
    consents = (
        Consent.objects.live(now)
        .filter(~blocked, ~closed, **pair)
        .select_related(related)
        .order_by("-granted_at", "-pk")
    )
    emergencies = (
        EmergencyAccess.objects.active(now)
        .filter(~blocked, ~opted_out, ~closed, **pair)
        .select_related(related)
        .order_by("-started_at", "-pk")
    )
    found: dict[tuple[uuid.UUID, uuid.UUID], OpenAccess] = {}
    for consent in consents:
        key = (consent.patient_id, consent.practitioner_id)
        found[key] = OpenAccess(consent.patient_id, consent.practitioner, consent, None)
    for emergency in emergencies:  # the latest first: the one a pair keeps
        key = (emergency.patient_id, emergency.practitioner_id)
        current = found.get(key)
        if current is None:
            found[key] = OpenAccess(emergency.patient_id, emergency.practitioner, None, emergency)
        elif current.emergency is None:
            found[key] = dataclasses.replace(current, emergency=emergency)
    return list(found.values())


@dataclass(frozen=True)
class AccessOverview:
    # Who may read the record now (``readers_of``): what the door would let list it.
    readers: list[OpenAccess]
    requests: list[AccessRequest]
    blocks: list[Block]
    treating_physician: TreatingPhysician | None
    emergencies: list[EmergencyAccess]  # the patient reads every emergency access and its reason

    @property
    def consents(self) -> list[Consent]:
        """The live consents the patient may revoke, of practitioners who are not blocked."""
        return [reader.consent for reader in self.readers if reader.consent is not None]

    @property
    def has_emergency_readers(self) -> bool:
        return any(reader.emergency is not None for reader in self.readers)

    @property
    def treating_physician_reads(self) -> bool:
        """Whether the treating physician may read the record now (a revoked or expired
        consent leaves the designation without access: the page must not say they read)."""
        physician = self.treating_physician
        return physician is not None and any(
            reader.practitioner.pk == physician.physician_id for reader in self.readers
        )


class ConsentsNotFound(Exception):
    """The door refused someone acting for the patient their consents page (recorded)."""


def consents_overview_for(helper: User, owner: User, *, client_address: str = "") -> AccessOverview:
    """The consents page of ``owner``'s record read by someone acting for them (issue 17): an
    access to another person's record, so it passes the door and is recorded (actor the
    helper, patient the owner, the tie's mode) in the transaction that reads it."""
    with transaction.atomic():
        decision = policy.authorize(
            helper, owner, Action.VIEW_CONSENTS, client_address=client_address, acting_for=True
        )
        if not decision.allowed:
            raise ConsentsNotFound
        return access_overview(owner)


def access_overview(patient: User) -> AccessOverview:
    """What the patient decided; names are the public data of the practitioners' directory.
    Open requests and the treating physician are never shown beside a block (the block ended
    them: rows left from before are not offered)."""
    related = ("practitioner__practitioner_profile",)
    blocked = Block.objects.active().filter(patient=patient).values("practitioner_id")
    return AccessOverview(
        readers=readers_of(patient),
        requests=waiting_requests(patient),
        blocks=list(
            Block.objects.active()
            .filter(patient=patient)
            .select_related(*related)
            .order_by("-created_at")
        ),
        treating_physician=TreatingPhysician.objects.filter(patient=patient)
        .exclude(physician_id__in=blocked)
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
    emergency: bool = False  # opened through the practitioner's emergency access, not a consent
    # The identity heading the record, when asked for (``find_patient``'s ``with_identity``).
    identity: PatientIdentity | None = None

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
    practitioner: User,
    normalised_nir: str,
    *,
    client_address: str = "",
    application: str = "",
    with_identity: bool = False,
) -> LookupResult:
    """A practitioner looks a patient up by NIR, through the door, which records it.

    The same work whatever the NIR (unknown to the registry, in it but not enrolled, enrolled):
    one registry query by blind index, the relationship's queries, one audit event (on the
    patient's chain, else on the system chain). Past ``PRO_LOOKUPS_PER_WINDOW`` look-ups in
    ``PRO_LOOKUP_WINDOW``, the look-up is refused, recorded, and not made. ``application``:
    the client id when the look-up came through the FHIR API (``policy.authorize``).
    ``with_identity``: the identity heading the record (``patient_identity``) is read too, in the
    same transaction, from the same door's access (issue 20, item 2: one decision per request).
    """
    nir_index = blind_index(normalised_nir, "nir")
    waiting = lookup_throttle().attempt(str(practitioner.pk))
    if waiting:
        with transaction.atomic():
            policy.record_refusal(
                practitioner,
                None,
                Action.LOOKUP,
                "throttled",
                client_address=client_address,
                application=application,
            )
        return LookupResult(nir_index, throttled=waiting)
    with transaction.atomic():
        patient = beneficiary_patient(nir_index)
        access = policy.access_to(practitioner, patient)
        policy.authorize(
            practitioner,
            patient,
            Action.LOOKUP,
            client_address=client_address,
            access=access,
            application=application,
        )
        # Sent to the record only when the door would open it.
        listing = access.decide(Action.LIST)
        identity = None
        if with_identity and listing.allowed and patient is not None:
            identity = patient_identity(practitioner, patient, access=access)
    if not listing.allowed or patient is None:
        return LookupResult(nir_index)
    emergency = listing.mode == Mode.EMERGENCY
    return LookupResult(nir_index, patient.pk, emergency=emergency, identity=identity)


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
    # The categories of the documents this practitioner may list: what the filter offers.
    categories: list[Category]
    may_upload: bool  # the door would let this practitioner add a document (never in an emergency)


def practitioner_record(
    practitioner: User,
    patient: User | None,
    page_number: int | str | None,
    filters: record_selectors.RecordFilters | None = None,
    *,
    client_address: str = "",
) -> PractitionerRecord:
    """A record as a practitioner opens it: the list and the identity heading it, in one
    transaction, from one relationship loaded once. Raises DocumentNotFound when refused
    (after the refusal is committed). ``filters`` narrow the list the door lets this
    practitioner see (its list filter), never widen it."""
    with transaction.atomic():
        access = policy.access_to(practitioner, patient)
        try:
            page = record_selectors.record_page(
                practitioner,
                patient,
                filters or record_selectors.RecordFilters(),
                page_number,
                client_address=client_address,
                access=access,
            )
        except record_selectors.DocumentNotFound:
            page = None
        identity = None if page is None else patient_identity(practitioner, patient, access=access)
        categories = [] if page is None else record_selectors.listed_categories(access)
    if page is None:
        raise record_selectors.DocumentNotFound
    # Asked, not recorded: only the upload itself is.
    return PractitionerRecord(page, identity, categories, access.decide(Action.UPLOAD).allowed)
