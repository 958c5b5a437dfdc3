"""Writes to health records: upload, hide and show, delete. Each passes the door first."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
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
from dmp_portal.crypto.files import save_encrypted
from records.file_types import inspect_upload, safe_display_name
from records.models import Category, Document, DocumentStatus
from records.selectors import DocumentNotFound, check_upload_allowed
from records.upload_errors import Upload

if TYPE_CHECKING:
    from accounts.models import User


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
) -> Document:
    """Pass the door, check the file, store it encrypted and record it. A refusal
    (DocumentNotFound), a bad file (RejectedFile) or any failure on the way leaves nothing:
    no row, no file, not even a partly written one."""
    # Refused users are turned away before their file is even read.
    patient = check_upload_allowed(actor, patient, client_address=client_address)
    detected = inspect_upload(upload, max_bytes=settings.RECORDS_MAX_UPLOAD_BYTES)
    ensure_data_key(patient)
    document = Document(
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
    )
    # The stored name is random: never the uploaded file's name.
    intended_name = f"records/{document.uid}.bin"
    try:
        reader = _HashingReader(upload)
        stored_name, size = save_encrypted(
            default_storage, intended_name, reader, document.data_key, document.file_aad()
        )
        document.file_name, document.size = stored_name, size
        document.sha256 = reader.digest.hexdigest()
        with transaction.atomic():
            # Decided again, with the document, in the transaction that records it.
            decision = authorize(
                actor, patient, Action.UPLOAD, document=document, client_address=client_address
            )
            if decision.allowed:
                document.save()
                if actor.kind == "practitioner":
                    notify_patient(NotificationKind.NEW_DOCUMENT, patient)
        if not decision.allowed:
            raise DocumentNotFound
    except BaseException:
        # The storage writes straight to the final name: remove whatever part of it exists.
        if default_storage.exists(intended_name):
            default_storage.delete(intended_name)
        raise
    return document


def _change(
    actor: User, uid: UUID, action: Action, client_address: str, apply: Callable[[Document], None]
) -> Document:
    """Lock, pass the door and apply in one transaction: the event and the change commit
    together; a refusal is recorded, then answered as not found. Returns the changed document."""
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",))
            .select_related("patient", "data_key")
            .filter(uid=uid)
            .first()
        )
        patient = document.patient if document is not None else None
        decision = authorize(
            actor, patient, action, document=document, client_address=client_address
        )
        if decision.allowed and document is not None:  # allowed: the document exists
            apply(document)
    if not decision.allowed or document is None:
        raise DocumentNotFound
    return document


def set_hidden_from_practitioners(
    actor: User, uid: UUID, hidden: bool, *, client_address: str = ""
) -> Document:
    def apply(document: Document) -> None:
        document.hidden_from_practitioners = hidden
        document.save(update_fields=["hidden_from_practitioners"])

    return _change(actor, uid, Action.HIDE if hidden else Action.SHOW, client_address, apply)


def delete_document(actor: User, uid: UUID, *, client_address: str = "") -> None:
    """The author's deletion: the document leaves the record, the file is kept (never lost)."""

    def apply(document: Document) -> None:
        document.status = DocumentStatus.DELETED
        document.deleted_at = timezone.now()
        document.save(update_fields=["status", "deleted_at"])

    _change(actor, uid, Action.DELETE, client_address, apply)
