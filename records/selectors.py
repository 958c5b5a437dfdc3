"""Reads of health documents. Each one passes the door, which records it, before any data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet

from access_control import policy
from access_control.decisions import RECORD_CLOSED, Decision
from audit.models import Action
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.crypto.files import open_decrypted
from records import file_types
from records.models import Category, Document, DocumentStatus
from records.search_tokens import matching

if TYPE_CHECKING:
    from accounts.models import User

PER_PAGE = 20
LISTED = (DocumentStatus.CURRENT, DocumentStatus.ARCHIVED)


class DocumentNotFound(Exception):
    """Refused or missing: the caller answers 404 either way, never a hint."""


class RecordClosed(DocumentNotFound):
    """The door refused a change to the patient's own record because it is closed: the patient
    is told why (anyone else gets DocumentNotFound, a 404)."""


def refusal(
    actor: User, patient: User | None, decision: Decision, document: Document | None = None
) -> DocumentNotFound:
    """The error for a refusal of the door: RecordClosed only for the patient on their own
    closed record and a document they may see (a held one stays unknown to them), else
    DocumentNotFound."""
    own = patient is not None and actor.pk == patient.pk
    visible = document is None or not document.hidden_from_patient()
    if decision.reason == RECORD_CLOSED and own and visible:
        return RecordClosed()
    return DocumentNotFound()


@dataclass(frozen=True)
class RecordFilters:
    query: str = ""
    category: str = ""  # a category code
    author: str = ""  # "patient" or "practitioner"
    date_from: date | None = None
    date_to: date | None = None

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set: an empty list then means "nothing matches", not
        "nothing yet"."""
        return self != RecordFilters()


@dataclass(frozen=True)
class DocumentRow:
    uid: UUID
    title: str
    category: str
    act_date: date
    author_label: str
    by_patient: bool
    hidden_from_practitioners: bool
    media_type: str
    status: str


def author_label(document: Document) -> str:
    """The name of its practitioner author, empty for a document the patient added."""
    return practitioner_name(document.author)


def record_page(
    actor: User,
    patient: User | None,
    filters: RecordFilters,
    page_number: int | str | None,
    *,
    client_address: str = "",
    access: policy.RecordAccess | None = None,
    acting_for: bool = False,
) -> Page[DocumentRow]:
    """One page of a record (rows of DocumentRow), newest first, in the same few queries
    whatever the number of documents. Without a search, the database counts and cuts the page:
    only its 20 titles are decrypted. A search does the same, among the documents whose title's
    keyed tokens match its words (``records.search_tokens``): no other title is decrypted.

    ``access`` is this request's ``policy.access_to(actor, patient)``, when the caller reuses it
    (for the identity heading the page); else it is loaded here. ``acting_for``: the record
    chosen with the switch (issue 17, ``access_control.acting``), see ``policy.decide``."""
    with transaction.atomic():
        access = access or policy.access_to(actor, patient, acting_for=acting_for)
        decision = policy.authorize(
            actor,
            patient,
            Action.LIST,
            client_address=client_address,
            access=access,
            acting_for=acting_for,
        )
        if decision.allowed:
            documents = _filtered(
                Document.objects.filter(access.documents(), status__in=LISTED),
                patient,
                filters,
            ).order_by("-act_date", "-created_at", "-pk")
            if filters.query and patient is not None:
                # Found through the titles' keyed tokens, in the database: only the page's
                # titles are decrypted (records.search_tokens).
                documents = matching(documents, patient.pk, filters.query)
            page = Paginator(_with_relations(documents), PER_PAGE).get_page(page_number)
            page_documents = list(page.object_list)
    if not decision.allowed or patient is None:  # the door opens no record that does not exist
        raise DocumentNotFound
    # A page of rows, numbered by the paginator of the documents (which only counts: hence Any).
    paginator: Paginator[Any] = page.paginator
    return Page([_row(document, patient) for document in page_documents], page.number, paginator)


def _filtered(
    documents: QuerySet[Document], patient: User | None, filters: RecordFilters
) -> QuerySet[Document]:
    if filters.category:
        documents = documents.filter(category__code=filters.category)
    if filters.author == "patient":
        documents = documents.filter(author=patient)
    elif filters.author == "practitioner":
        documents = documents.exclude(author=patient)
    if filters.date_from:
        documents = documents.filter(act_date__gte=filters.date_from)
    if filters.date_to:
        documents = documents.filter(act_date__lte=filters.date_to)
    return documents


def _with_relations(documents: QuerySet[Document]) -> QuerySet[Document]:
    return documents.select_related("category", "author__practitioner_profile", "data_key")


def _row(document: Document, patient: User) -> DocumentRow:
    title = document.title
    return DocumentRow(
        uid=document.uid,
        title=str(title) if is_destroyed(title) else title,
        category=document.category.label,
        act_date=document.act_date,
        author_label=author_label(document),
        by_patient=document.author_id == patient.pk,
        # Hidden by the patient or by its author: either way, professionals do not see it.
        hidden_from_practitioners=document.hidden_from_others,
        media_type=document.media_type,
        status=document.status,
    )


def acting_for_document(actor: User, document: Document | None, owner: User | None) -> bool:
    """Whether a page addressed by a document's uid acts for someone (issue 17): only when the
    document is on the record of ``owner``, the one chosen with the switch (None: none chosen);
    any other person's document keeps the door's ``not-own-record``."""
    return (
        owner is not None
        and document is not None
        and owner.pk != actor.pk
        and document.patient_id == owner.pk
    )


def document_for(
    actor: User,
    uid: UUID,
    action: Action,
    *,
    client_address: str = "",
    inline: bool = False,
    owner: User | None = None,
    application: str = "",
) -> Document:
    """The document, if the door lets this actor do this action on it; else DocumentNotFound.
    ``inline``: its file is fetched for the viewer of its page (see ``policy.decide``).
    ``owner``: the record chosen with the switch, if any (``acting_for_document``).
    ``application``: the client id of a FHIR API call (``policy.authorize``)."""
    return opened_document(
        actor,
        uid,
        action,
        client_address=client_address,
        inline=inline,
        owner=owner,
        application=application,
    ).document


@dataclass(frozen=True)
class OpenedDocument:
    document: Document
    # The door's access that opened it (issue 20, item 2): the rest of its page (its versions,
    # its controls) asks this one, and the reader's relationship is not loaded again.
    access: policy.RecordAccess


def opened_document(
    actor: User,
    uid: UUID,
    action: Action,
    *,
    client_address: str = "",
    inline: bool = False,
    owner: User | None = None,
    application: str = "",
    rows: QuerySet[Document] | None = None,
) -> OpenedDocument:
    """``document_for``, with the ``policy.RecordAccess`` its decision came from. ``rows``:
    where the document is read from, by default with what its page shows (a file's download
    reads fewer columns: ``records.downloads``); the door's decision is the same."""
    if rows is None:
        rows = Document.objects.select_related(
            "patient", "category", "data_key", "author__practitioner_profile"
        )
    with transaction.atomic():
        # Sliced, not first(): the uid is unique, and first()'s ORDER BY id measured dearer.
        found = list(rows.filter(uid=uid)[:1])
        document = found[0] if found else None
        patient = document.patient if document is not None else None
        acting_for = acting_for_document(actor, document, owner)
        access = policy.access_to(actor, patient, acting_for=acting_for)
        decision = policy.authorize(
            actor,
            patient,
            action,
            document=document,
            client_address=client_address,
            access=access,
            inline=inline,
            acting_for=acting_for,
            application=application,
        )
    if not decision.allowed or document is None:  # the door opens no document that does not exist
        raise DocumentNotFound
    return OpenedDocument(document, access)


def practitioner_name(practitioner: User) -> str:
    """A practitioner's first and last name (empty for an account without a profile)."""
    profile = getattr(practitioner, "practitioner_profile", None)
    return f"{profile.first_name} {profile.last_name}" if profile is not None else ""


def download_name(document: Document) -> str:
    """The name its file is saved under: its title (the act date once its key is destroyed)."""
    title = document.title
    if is_destroyed(title):
        return f"document-{document.act_date:%Y-%m-%d}{document.extension}"
    return file_types.download_name(title, document.extension)


def document_content(document: Document) -> Iterator[bytes]:
    """The decrypted file, chunk by chunk (call after document_for granted the read)."""
    return open_decrypted(
        default_storage, document.file_name, document.data_key, document.file_aad()
    )


def categories() -> list[Category]:
    return list(Category.objects.all())


def listed_categories(access: policy.RecordAccess) -> list[Category]:
    """The categories of the documents this reader may list (the door's list filter), in one
    query: the category filter offers these only, never one the reader could not see."""
    listed = Document.objects.filter(access.documents(), status__in=LISTED)
    return list(Category.objects.filter(pk__in=listed.values("category_id")))


@dataclass(frozen=True)
class RecordListing:
    page: Page[DocumentRow]
    # The categories of the documents this reader may list (whatever the filters): what the
    # category filter offers; none when the reader may see no document at all.
    categories: list[Category]
    # Whether the door found the record closed (its relationship's closure): the page reads
    # the closure's dates only then (issue 20, item 4: no query for an open record).
    closed: bool = False


def record_listing(
    actor: User,
    patient: User | None,
    filters: RecordFilters,
    page_number: int | str | None,
    *,
    client_address: str = "",
    acting_for: bool = False,
) -> RecordListing:
    """A page of the record (``record_page``) and the categories present among the documents
    this reader may list, from one door answer (one query more than the page alone). Raises
    DocumentNotFound when refused, after the refusal is committed (``record_page``)."""
    access = policy.access_to(actor, patient, acting_for=acting_for)
    page = record_page(
        actor,
        patient,
        filters,
        page_number,
        client_address=client_address,
        access=access,
        acting_for=acting_for,
    )
    closed = access.relationship is not None and bool(access.relationship.closure)
    return RecordListing(page, listed_categories(access), closed)


def check_upload_allowed(
    actor: User,
    patient: User | None,
    *,
    client_address: str = "",
    acting_for: bool = False,
    application: str = "",
) -> User:
    """Asked before showing the upload form or reading a file: the door's rule, a refusal
    recorded (the upload itself is recorded when the document is stored). Returns the record's
    patient, who exists once the door allows. ``acting_for``: see ``record_page``.
    ``application``: the OAuth2 client id of a FHIR API call (issue 19), named by the event."""
    access = policy.access_to(actor, patient, acting_for=acting_for)
    if access.decide(Action.UPLOAD).allowed and patient is not None:
        return patient
    with transaction.atomic():
        decision = policy.authorize(
            actor,
            patient,
            Action.UPLOAD,
            client_address=client_address,
            acting_for=acting_for,
            application=application,
        )
    raise refusal(actor, patient, decision)


def may_upload(actor: User, patient: User, *, acting_for: bool = False) -> bool:
    """Whether a page offers "Add a document": the door's answer, asked, not recorded (the
    form asks again, recorded, ``check_upload_allowed``)."""
    return policy.decide(actor, patient, Action.UPLOAD, acting_for=acting_for).allowed


def document_to_replace(actor: User, uid: UUID, *, client_address: str = "") -> Document:
    """Asked before showing the form of a new version: the document when the door lets this
    actor replace it (not recorded: the replacement itself is); a refusal is recorded and raised
    as DocumentNotFound, like ``check_upload_allowed``."""
    document = Document.objects.select_related("patient", "category").filter(uid=uid).first()
    patient = document.patient if document is not None else None
    if document is not None and policy.decide(actor, patient, Action.REPLACE, document).allowed:
        return document
    with transaction.atomic():
        policy.authorize(
            actor, patient, Action.REPLACE, document=document, client_address=client_address
        )
    raise DocumentNotFound
