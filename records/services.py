"""Writes to health records: upload, hide and show, delete. Each passes the door first.
A document's later life (versions, hold and reveal, withdrawal) is in ``records.versions``."""

from __future__ import annotations

import errno
import hashlib
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from access_control.notifications import NotificationKind, notify_patient
from access_control.policy import authorize
from accounts.services.keys import ensure_data_key
from audit.models import Action
from dmp_portal.crypto.files import remove_partial, save_encrypted
from records.file_types import inspect_upload, safe_display_name
from records.models import Category, Document, DocumentStatus
from records.search_tokens import index_title
from records.selectors import (
    DocumentNotFound,
    acting_for_document,
    check_upload_allowed,
    refusal,
)
from records.upload_errors import StorageUnavailable, Upload

if TYPE_CHECKING:
    from accounts.models import User

operations_log = logging.getLogger("dmp.operations")


class _HashingReader:
    """Passes the upload through while computing its SHA-256, in the same single read."""

    def __init__(self, source: Upload) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def upload_document(
    actor: User,
    patient: User | None,
    *,
    title: str,
    category: Category,
    act_date: date,
    upload: Upload,
    client_address: str = "",
    hidden_by_author: bool = False,
    held: bool = False,
    confidential_from_representatives: bool = False,
    acting_for: bool = False,
    application: str = "",
) -> Document:
    """Pass the door, check the file, store it encrypted and record it. A refusal
    (DocumentNotFound), a bad file (RejectedFile) or any failure on the way leaves nothing:
    no row, no file, not even a partly written one.

    ``hidden_by_author`` and ``held`` are a practitioner's controls at their upload (issue 16):
    hidden from other practitioners, held back from the patient until an announcement (for
    ``RECORDS_ANNOUNCEMENT_DAYS`` at most). Each one is recorded (HIDE, HOLD) with the upload;
    a held document sends the patient no e-mail now, only once revealed.
    ``confidential_from_representatives`` (issue 17, item 4): kept from a minor's legal
    representatives (HIDE_FROM_REPRESENTATIVES recorded); the form offers it on a minor's record
    only (records.views_confidential: this app does not read the registry). It sends no e-mail:
    a minor's mailbox may be read by the very people it is kept from.

    ``acting_for``: a legal representative or a caregiver (``manage``) adds it to the record
    chosen with the switch (issue 17, ``access_control.acting``).

    ``application``: the OAuth2 client id when the document came through the FHIR API (issue
    19, ``fhir_api.services``), named by every event of the upload."""
    # Refused users are turned away before their file is even read.
    patient = check_upload_allowed(
        actor,
        patient,
        client_address=client_address,
        acting_for=acting_for,
        application=application,
    )
    by_practitioner = actor.kind == "practitioner"
    document = new_document(
        # Added for the patient by someone acting for them (issue 17): its author is the
        # patient, so that it counts as the patient's own (``authored_by_patient``): the
        # patient and their representative may delete it or add a new version, as of any
        # document the patient added; the door still decides who may. Who actually added it
        # is the upload's event in the trail (actor, and mode representative or caregiver),
        # which the patient's history names.
        patient if acting_for else actor,
        patient,
        title=title,
        category=category,
        act_date=act_date,
        upload=upload,
        # The patient's upload has no author-side controls: they are the author and the reader.
        hidden_by_author=hidden_by_author and by_practitioner,
        hidden_from_patient_until=announcement_deadline() if held and by_practitioner else None,
        confidential_from_representatives=confidential_from_representatives and by_practitioner,
    )

    def record(document: Document) -> bool:
        # Decided again, with the document, in the transaction that records it; so are the
        # author's controls chosen with it: a refusal of any of them stores nothing.
        decision = authorize(
            actor,
            patient,
            Action.UPLOAD,
            document=document,
            client_address=client_address,
            acting_for=acting_for,
            application=application,
        )
        if not decision.allowed:
            return False
        for chosen, action in (
            (document.hidden_by_author, Action.HIDE),
            (document.hidden_from_patient_until is not None, Action.HOLD),
            (document.confidential_from_representatives, Action.HIDE_FROM_REPRESENTATIVES),
        ):
            if (
                chosen
                and not authorize(
                    actor,
                    patient,
                    action,
                    document=document,
                    client_address=client_address,
                    application=application,
                ).allowed
            ):
                return False
        document.save()
        if by_practitioner and not held_or_confidential(document):
            notify_patient(NotificationKind.NEW_DOCUMENT, patient)
        return True

    store_document(document, upload, record)
    return document


def held_or_confidential(document: Document) -> bool:
    """No e-mail about this document: held (sent at the reveal) or kept from the minor's
    representatives (never sent: they may read the minor's mailbox)."""
    held = document.hidden_from_patient_until is not None
    return held or document.confidential_from_representatives


def new_document(
    actor: User,
    patient: User,
    *,
    title: str,
    category: Category,
    act_date: date,
    upload: Upload,
    **flags: object,
) -> Document:
    """The row of a new document or version of ``patient``'s record, not saved: its file checked
    (``inspect_upload``: type and size, RejectedFile otherwise) and its data key ready.
    ``flags``: the hidden and held fields it starts with."""
    detected = inspect_upload(upload, max_bytes=settings.RECORDS_MAX_UPLOAD_BYTES)
    ensure_data_key(patient)
    return Document(
        patient=patient,
        data_key=patient.data_key,
        category=category,
        title=title,
        act_date=act_date,
        author=actor,
        media_type=detected.media_type,
        extension=detected.extension,
        size=0,
        display_name=safe_display_name(getattr(upload, "name", "") or ""),
        **flags,
    )


def announcement_deadline() -> datetime:
    """Until when a document held for an announcement stays hidden from the patient at most."""
    return timezone.now() + timedelta(days=settings.RECORDS_ANNOUNCEMENT_DAYS)


def store_document(document: Document, upload: Upload, record: Callable[[Document], bool]) -> None:
    """Store the file of a new ``document`` (already checked by ``inspect_upload``) encrypted
    under a random name, then call ``record(document)`` in one transaction: it passes the door
    and saves the rows, or returns False when refused (raised here as DocumentNotFound). A
    refusal or any failure on the way removes the file: no row, no file, not even part of one."""
    # The stored name is random: never the uploaded file's name.
    reader = _HashingReader(upload)
    try:
        # A write that fails removes what it left of the file itself (save_encrypted).
        stored_name, size = save_encrypted(
            default_storage,
            f"records/{document.uid}.bin",
            reader,
            document.data_key,
            document.file_aad(),
        )
    except OSError as exc:
        # The storage refused the write (ENOSPC, EROFS, EDQUOT on the local disk; EIO from an
        # S3 bucket out of reach or refusing, dmp_portal/object_storage.py): the person gets
        # the form back with what to do, not a 500 page; the operator, who must free or fix
        # the storage, gets the cause. Nothing personal in the line.
        cause = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        operations_log.error("upload not stored: the storage refused the write (%s)", cause)
        raise StorageUnavailable from exc
    try:
        document.file_name, document.size = stored_name, size
        document.sha256 = reader.digest.hexdigest()
        with transaction.atomic():
            allowed = record(document)
            if allowed:  # its title found by search, from the same transaction on
                index_title(document)
        if not allowed:
            raise DocumentNotFound
    except BaseException:
        # Stored, but no row names it (refused, or the rows failed): remove it.
        remove_partial(default_storage, stored_name)
        raise


def change_document(
    actor: User,
    uid: UUID,
    action: Action,
    client_address: str,
    apply: Callable[[Document], None],
    owner: User | None = None,
) -> Document:
    """Lock, pass the door and apply in one transaction: the event and the change commit
    together; a refusal is recorded, then answered as not found. Returns the changed document.
    ``owner``: the record chosen with the switch (issue 17), see
    ``selectors.acting_for_document``."""
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",))
            .select_related("patient", "data_key")
            .filter(uid=uid)
            .first()
        )
        patient = document.patient if document is not None else None
        decision = authorize(
            actor,
            patient,
            action,
            document=document,
            client_address=client_address,
            acting_for=acting_for_document(actor, document, owner),
        )
        if decision.allowed and document is not None:  # allowed: the document exists
            apply(document)
    if not decision.allowed or document is None:
        raise refusal(actor, patient, decision, document)
    return document


def set_hidden_from_practitioners(
    actor: User, uid: UUID, hidden: bool, *, client_address: str = "", owner: User | None = None
) -> Document:
    """The patient hides a document from practitioners or shows it again; its practitioner
    author does the same for other practitioners (the door allows no one else). Each has their
    own flag (``Document.hidden_by_author``): neither undoes the other's choice."""
    field = "hidden_by_author" if actor.kind == "practitioner" else "hidden_from_practitioners"

    def apply(document: Document) -> None:
        setattr(document, field, hidden)
        document.save(update_fields=[field])

    return change_document(
        actor, uid, Action.HIDE if hidden else Action.SHOW, client_address, apply, owner
    )


def delete_document(
    actor: User, uid: UUID, *, client_address: str = "", owner: User | None = None
) -> None:
    """The author's deletion: the document leaves the record, the file is kept (never lost)."""

    def apply(document: Document) -> None:
        document.status = DocumentStatus.DELETED
        document.deleted_at = timezone.now()
        document.save(update_fields=["status", "deleted_at"])

    change_document(actor, uid, Action.DELETE, client_address, apply, owner)
