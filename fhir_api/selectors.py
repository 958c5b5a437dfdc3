"""The FHIR API's reads (issue 19): the web pages' own selectors and door, asked in the name
of the practitioner behind the token, each event naming the application (its client id).

Plain values in (the practitioner, the client id, ids and parsed search parameters), domain
data out; ``fhir_api.resources`` turns it into FHIR. A record or document the door does not
open raises ``NotFound`` after the refusal is committed, whether it exists or not: the caller
answers the same 404 to both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from access_control import policy
from access_control.selectors import PatientIdentity, find_patient
from accounts.models import User, UserKind
from audit.models import Action
from records import selectors as record_selectors
from records.models import Document

# A well-formed id that names nothing: an id that is not a UUID costs the same work as an
# unknown one (the same queries, the same refusal recorded).
NOTHING = uuid.UUID(int=0)


class NotFound(Exception):
    """Refused or missing: 404, the same OperationOutcome either way."""


class Throttled(Exception):
    """The look-up of a patient by NIR was refused for its rate (``PRO_LOOKUPS_PER_WINDOW``)."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def as_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return NOTHING


@dataclass(frozen=True)
class PatientMatch:
    patient_id: uuid.UUID
    identity: PatientIdentity


def search_patient(
    practitioner: User, normalised_nir: str, *, application: str, client_address: str = ""
) -> PatientMatch | None:
    """The patient with this NIR when the door lets ``practitioner`` open their record, else
    None: the same answer, and the same work, for an unknown NIR, a person not enrolled and a
    record without consent (``find_patient``: its throttle and its audit event, here naming
    the application). The identity is read in the look-up's transaction, from the door's one
    answer (issue 20, item 2): what the look-up allowed is what the identity shows."""
    result = find_patient(
        practitioner,
        normalised_nir,
        client_address=client_address,
        application=application,
        with_identity=True,
    )
    if result.throttled:
        raise Throttled(result.throttled)
    if result.patient_id is None or result.identity is None:
        return None
    return PatientMatch(result.patient_id, result.identity)


@dataclass(frozen=True)
class DateRange:
    """Days, both included when set (``ge``/``le``; ``gt``/``lt`` are turned into these)."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class DocumentSearch:
    # The portal's category codes asked for (a CI-SIS class may name several); None: any.
    categories: frozenset[str] | None = None
    # ``date``: when the document entered the record (DocumentReference.date);
    # ``period``: the date of the act (DocumentReference.context.period).
    added: DateRange = DateRange()
    act: DateRange = DateRange()
    count: int = 20
    offset: int = 0


@dataclass(frozen=True)
class DocumentPage:
    patient: User
    documents: list[Document]
    total: int


def search_documents(
    practitioner: User,
    patient_id: str,
    search: DocumentSearch,
    *,
    application: str,
    client_address: str = "",
) -> DocumentPage:
    """The documents of a record that ``practitioner`` may list on the web pages (the door's
    list filter: consent, block, emergency, profession rules, hidden documents, closure),
    narrowed by ``search``, newest act first, in the same queries whatever their number."""
    with transaction.atomic():
        patient = User.objects.filter(pk=as_uuid(patient_id), kind=UserKind.PATIENT).first()
        access = policy.access_to(practitioner, patient)
        decision = policy.authorize(
            practitioner,
            patient,
            Action.LIST,
            client_address=client_address,
            access=access,
            application=application,
        )
        if decision.allowed and patient is not None:
            documents = _narrowed(
                Document.objects.filter(access.documents(), status__in=record_selectors.LISTED),
                search,
            )
            total = documents.count()
            page = list(
                documents.select_related(
                    "category", "author__practitioner_profile", "data_key"
                ).order_by("-act_date", "-created_at", "-pk")[
                    search.offset : search.offset + search.count
                ]
            )
    if not decision.allowed or patient is None:
        raise NotFound
    return DocumentPage(patient, page, total)


def _narrowed(documents: QuerySet[Document], search: DocumentSearch) -> QuerySet[Document]:
    if search.categories is not None:
        documents = documents.filter(category__code__in=search.categories)
    if search.added.start is not None:
        documents = documents.filter(created_at__date__gte=search.added.start)
    if search.added.end is not None:
        documents = documents.filter(created_at__date__lte=search.added.end)
    if search.act.start is not None:
        documents = documents.filter(act_date__gte=search.act.start)
    if search.act.end is not None:
        documents = documents.filter(act_date__lte=search.act.end)
    return documents


def read_document(
    practitioner: User,
    document_id: str,
    action: Action,
    *,
    application: str,
    client_address: str = "",
) -> Document:
    """The document when the door lets ``practitioner`` do ``action`` on it (``VIEW`` for its
    DocumentReference, ``DOWNLOAD`` for its Binary), as its web page asks; else NotFound."""
    try:
        return record_selectors.document_for(
            practitioner,
            as_uuid(document_id),
            action,
            client_address=client_address,
            application=application,
        )
    except record_selectors.DocumentNotFound as exc:
        raise NotFound from exc


def document_content(document: Document) -> Iterator[bytes]:
    """The decrypted file, chunk by chunk (after ``read_document`` granted the download)."""
    return record_selectors.document_content(document)
