"""A copy of the whole record to take away (GDPR articles 15 and 20): one ZIP, streamed.

``prepare_export`` asks the second factor again, then, in one transaction, has the door decide
and record the export (``Action.EXPORT``, the patient's own record only) and reads everything
the copy holds but the files: the identity, the current documents the patient may see (the
door's list filter, so never one deleted, replaced or hidden from the patient until an
announcement), the consents and the access history. The patient is told by e-mail once that
transaction commits.

``export_stream`` then writes the ZIP with zipstream-ng, without the database: each document's
original file decrypted chunk by chunk (``records.selectors.document_content``), its SHA-1 and
size computed as it passes, then ``index.html`` and ``dossier.fhir.json``, which need those
figures and so come last. Nothing is read twice and memory stays bounded by a few chunks,
whatever the size of the record (tests/records/test_export_memory.py).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain

import zipstream
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from access_control import fhir_bundle, history, policy
from access_control.decisions import Actor
from access_control.history import HistoryRow
from access_control.models import Consent
from access_control.notifications import NotificationKind, notify_patient
from access_control.selectors import PatientIdentity, patient_identity
from accounts.models import PractitionerProfile, User
from accounts.services.authentication import LoginRefused, verify_second_factor
from audit.models import Action
from records import selectors as record_selectors
from records.models import Document

INDEX_NAME = "index.html"
BUNDLE_NAME = "dossier.fhir.json"
DOCUMENTS_FOLDER = "documents"
# Room for the date, the category and the extension in an entry's name: paths stay short
# enough for every unzip tool (Windows' limit is 260 characters for the whole path).
TITLE_MAX = 80


class ExportNotFound(Exception):
    """Refused by the door (not the patient's own record): the caller answers 404."""


class ExportRefused(Exception):
    """The second factor was missing or wrong: nothing is exported, the refusal is recorded."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Measure:
    """What is learnt of a file while it streams into the ZIP."""

    sha1: hashlib._Hash = field(default_factory=hashlib.sha1)
    size: int = 0


@dataclass(frozen=True)
class ExportedDocument:
    document: Document  # its data key loaded: the file decrypts without a query
    path: str  # inside the ZIP
    title: str
    category_code: str
    category_label: str
    act_date: date
    added_at: datetime
    author_name: str  # "" for the patient
    author_rpps: str
    by_patient: bool
    media_type: str
    measure: Measure = field(default_factory=Measure, compare=False)


@dataclass(frozen=True)
class ExportedConsent:
    pk: int
    practitioner: str
    profession: str
    rpps: str
    granted_at: datetime
    ends_at: datetime | None  # revoked or expiring at; None: until revoked
    active: bool


@dataclass(frozen=True)
class RecordExport:
    """Everything the copy holds but the files' content, read in the audited transaction."""

    patient_id: uuid.UUID
    identity: PatientIdentity | None
    exported_at: datetime
    language: str  # of the page that asked: the stream is written after the request's end
    documents: list[ExportedDocument]
    consents: list[ExportedConsent]
    history: list[HistoryRow]

    @property
    def file_name(self) -> str:
        return f"dossier-medical-{timezone.localdate(self.exported_at):%Y-%m-%d}.zip"


def check_export_allowed(actor: Actor, patient: User | None, *, client_address: str = "") -> None:
    """Before showing the export page: the door's rule, a refusal recorded (ExportNotFound);
    an allowed look at the page is not an export and records nothing."""
    if policy.access_to(actor, patient).decide(Action.EXPORT).allowed:
        return
    with transaction.atomic():
        policy.authorize(actor, patient, Action.EXPORT, client_address=client_address)
    raise ExportNotFound


def prepare_export(
    actor: Actor,
    patient: User | None,
    otp_token: str,
    *,
    session_used_passkey: bool,
    known_browser: bool,
    client_address: str = "",
) -> RecordExport:
    """The export's audited read, after a fresh second factor (``otp_token``: a code of the
    authenticator app or a backup code, throttled like at login; not asked of a session opened
    with a passkey, as for adding a passkey). Raises ExportNotFound when the door refuses (no
    code is spent then), ExportRefused when the factor is missing or wrong; both refusals are
    recorded, and committed before the raise."""
    check_export_allowed(actor, patient, client_address=client_address)
    # Allowed by the door: a signed-in patient on their own record.
    if not isinstance(actor, User) or patient is None:
        raise ExportNotFound
    refused = (
        None
        if session_used_passkey
        else _second_factor_refusal(actor, otp_token, known_browser, client_address)
    )
    export = None
    with transaction.atomic():
        if refused is not None:
            reason, _message = refused
            policy.record_refusal(
                actor, patient, Action.EXPORT, reason, client_address=client_address
            )
        else:
            access = policy.access_to(actor, patient)
            if policy.authorize(
                actor, patient, Action.EXPORT, client_address=client_address, access=access
            ).allowed:
                export = _read_record(patient, access)
                notify_patient(NotificationKind.EXPORT, patient)
    # Raised once the refusal is committed, so that it stays recorded.
    if refused is not None:
        raise ExportRefused(refused[1])
    if export is None:
        raise ExportNotFound
    return export


def _second_factor_refusal(
    user: User, otp_token: str, known_browser: bool, client_address: str
) -> tuple[str, str] | None:
    """(reason recorded, message shown) when the factor is missing or wrong, else None."""
    token = (otp_token or "").strip()
    if not token:
        return (
            "second-factor-missing",
            _(
                "Enter the security code: the 6 digits shown now by your authenticator app, or"
                " one of your backup codes (such as 7K2QD-9XW4M)."
            ),
        )
    try:
        verify_second_factor(
            user, token, client_address=client_address, known_browser=known_browser
        )
    except LoginRefused as refusal:
        return "second-factor-failed", refusal.message
    return None


def _read_record(patient: User, access: policy.RecordAccess) -> RecordExport:
    documents = (
        # The statuses the record's list shows (current and archived): the copy holds them all.
        Document.objects.filter(access.documents(), status__in=record_selectors.LISTED)
        .select_related("category", "author__practitioner_profile", "data_key")
        .order_by("category__position", "category__code", "act_date", "created_at", "pk")
    )
    taken: set[str] = set()
    exported = [
        _exported(document, patient, taken)
        for document in documents
        # The list filter says what the patient may list; the door says it for each file too.
        if access.decide(Action.DOWNLOAD, document).allowed
    ]
    return RecordExport(
        patient_id=patient.pk,
        identity=patient_identity(patient, patient, access=access),
        exported_at=timezone.now(),
        language=translation.get_language() or "fr",
        documents=exported,
        consents=_consents(patient),
        history=history.every_row(patient, access),
    )


def _exported(document: Document, patient: User, taken: set[str]) -> ExportedDocument:
    profile = getattr(document.author, "practitioner_profile", None)
    by_patient = document.author_id == patient.pk
    title = str(document.title)
    return ExportedDocument(
        document=document,
        path=_unique_path(document, taken),
        title=title,
        category_code=document.category.code,
        category_label=document.category.label,
        act_date=document.act_date,
        added_at=document.created_at,
        author_name="" if by_patient or profile is None else _full_name(profile),
        author_rpps="" if by_patient or profile is None else profile.rpps,
        by_patient=by_patient,
        media_type=document.media_type,
    )


def _full_name(profile: PractitionerProfile) -> str:
    return f"{profile.first_name} {profile.last_name}"


def _unique_path(document: Document, taken: set[str]) -> str:
    """``documents/<category>/<date>-<title>.<ext>``: the title made harmless (no path,
    control or reserved character: ``records.selectors.download_name``) and shortened; a second
    one of the same name, compared as case-insensitive file systems do, gets ``-2``, ``-3``..."""
    name = record_selectors.download_name(document)
    extension = document.extension
    stem = name[: -len(extension)] if extension and name.endswith(extension) else name
    stem = stem[:TITLE_MAX].rstrip(" .") or "document"
    folder = f"{DOCUMENTS_FOLDER}/{document.category.code}"
    base = f"{folder}/{document.act_date:%Y-%m-%d}-{stem}"
    path, number = f"{base}{extension}", 1
    while path.casefold() in taken:
        number += 1
        path = f"{base}-{number}{extension}"
    taken.add(path.casefold())
    return path


def _consents(patient: User) -> list[ExportedConsent]:
    """Every consent the patient gave, live or ended, newest first."""
    now = timezone.now()
    consents = (
        Consent.objects.filter(patient=patient)
        .select_related("practitioner__practitioner_profile")
        .order_by("-granted_at", "-pk")
    )
    rows = []
    for consent in consents:
        profile = getattr(consent.practitioner, "practitioner_profile", None)
        ends = consent.revoked_at or consent.expires_at
        rows.append(
            ExportedConsent(
                pk=consent.pk,
                practitioner=_full_name(profile) if profile is not None else "",
                profession=str(profile.get_profession_display()) if profile is not None else "",
                rpps=profile.rpps if profile is not None else "",
                granted_at=timezone.localtime(consent.granted_at),
                ends_at=timezone.localtime(ends) if ends is not None else None,
                active=consent.is_active(now),
            )
        )
    return rows


def _measured(chunks: Iterable[bytes], measure: Measure) -> Iterator[bytes]:
    for chunk in chunks:
        measure.sha1.update(chunk)
        measure.size += len(chunk)
        yield chunk


def export_stream(export: RecordExport) -> Iterator[bytes]:
    """The ZIP, chunk by chunk. Files are stored as they are (most are PDF or images, already
    compressed); the two documents written here are deflated."""
    archive = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED, sized=False)
    for item in export.documents:
        archive.add(
            _measured(record_selectors.document_content(item.document), item.measure), item.path
        )
    # Generators: written when the archive reaches them, after every file was measured.
    archive.add(_later(_index_html, export), INDEX_NAME, compress_type=zipstream.ZIP_DEFLATED)
    archive.add(_later(_bundle, export), BUNDLE_NAME, compress_type=zipstream.ZIP_DEFLATED)
    yield from archive


def _later(
    write: Callable[[RecordExport], Iterator[bytes]], export: RecordExport
) -> Iterator[bytes]:
    with translation.override(export.language):
        yield from write(export)


def _index_html(export: RecordExport) -> Iterator[bytes]:
    by_category: dict[str, list[ExportedDocument]] = {}
    for item in export.documents:
        by_category.setdefault(item.category_label, []).append(item)
    page = render_to_string(
        "records/export_index.html",
        {
            "export": export,
            "identity": export.identity,
            "exported_at": timezone.localtime(export.exported_at),
            "categories": list(by_category.items()),
            "consents": export.consents,
            "history": export.history,
        },
    )
    yield page.encode()


def _bundle(export: RecordExport) -> Iterator[bytes]:
    patient_url = fhir_bundle.full_url("patient", export.patient_id)
    identity = export.identity
    patient = fhir_bundle.patient_resource(
        export.patient_id,
        last_name=identity.last_name if identity else "",
        first_name=identity.first_name if identity else "",
        birth_date=identity.birth_date if identity else None,
        nir=identity.nir if identity else "",
    )
    exported = {item.document.uid: item for item in export.documents}
    documents = (
        (
            fhir_bundle.full_url("document", item.document.uid),
            fhir_bundle.document_reference(
                item.document.uid,
                patient_url=patient_url,
                title=item.title,
                category_code=item.category_code,
                category_label=item.category_label,
                act_date=item.act_date,
                added_at=item.added_at,
                author=(
                    {"reference": patient_url}
                    if item.by_patient
                    else fhir_bundle.practitioner_reference(item.author_name, item.author_rpps)
                ),
                media_type=item.media_type,
                size=item.measure.size,
                sha1_digest=item.measure.sha1.digest(),
                path=item.path,
            ),
        )
        for item in export.documents
    )
    consents = (
        (
            fhir_bundle.full_url("consent", consent.pk),
            fhir_bundle.consent_resource(
                consent.pk,
                patient_url=patient_url,
                practitioner=fhir_bundle.practitioner_reference(consent.practitioner, consent.rpps),
                granted_at=consent.granted_at,
                ends_at=consent.ends_at,
                active=consent.active,
            ),
        )
        for consent in export.consents
    )
    events = (
        (
            fhir_bundle.full_url("audit-event", f"{export.patient_id}:{index}"),
            fhir_bundle.audit_event_resource(
                f"{export.patient_id}:{index}",
                occurred_at=row.occurred_at,
                action=row.action,
                action_label=row.action_label,
                allowed=not row.refused,
                emergency=row.emergency,
                who=row.who,
                rpps=row.rpps,
                document_url=(
                    fhir_bundle.full_url("document", row.document_uid)
                    if row.document_uid in exported
                    else None
                ),
                patient_url=patient_url,
            ),
        )
        for index, row in enumerate(export.history)
    )
    entries = chain([(patient_url, patient)], documents, consents, events)
    yield from fhir_bundle.bundle_chunks(uuid.uuid4(), export.exported_at, entries)
