"""A document's life after its upload (issue 16): new versions, held back from the patient until
an announcement consultation and revealed, withdrawn by its author. Each write passes the door
(``policy.authorize``, in the transaction of the change) and is recorded, refusals included.

A version replaces the current one of its chain (``Document.replaces``): the new one becomes
current with the previous one's controls (hidden, held), the previous one turns ``replaced`` and
is kept. A hold belongs to the whole chain: holding, revealing, and the daily reveal change
every version of it, so that no earlier version shows what the current one still holds back.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from access_control.notifications import NotificationKind, notify_patient
from access_control.policy import authorize, record_delay_reveal
from audit.models import Action
from records.models import Category, Document, DocumentStatus
from records.selectors import document_to_replace
from records.services import (
    announcement_deadline,
    change_document,
    held_or_confidential,
    new_document,
    store_document,
)
from records.upload_errors import Upload

if TYPE_CHECKING:
    from datetime import date

    from accounts.models import User


def _held_chain(document: Document, until: datetime | None) -> None:
    """Hold (until ``until``) or reveal (None) every version of ``document``'s chain."""
    uids = [version.pk for version in document.versions()]
    Document.objects.filter(pk__in=uids).update(hidden_from_patient_until=until)
    document.hidden_from_patient_until = until


def replace_document(
    actor: User,
    uid: UUID,
    *,
    upload: Upload,
    title: str,
    category: Category,
    act_date: date,
    client_address: str = "",
) -> Document:
    """A new version of the document ``uid`` by its author (a practitioner within consent, or
    the patient for one they added): the same checks as an upload (type, size), then, in one
    transaction, the door again on the locked current version, the new row, and the old one
    marked replaced. A refusal is recorded and raised as DocumentNotFound before the file is
    read; a bad file raises RejectedFile; either way nothing changes (no row, no file)."""
    # Refused users are turned away (and recorded) before their file is even read.
    current = document_to_replace(actor, uid, client_address=client_address)
    owner = current.patient
    version = new_document(
        actor, owner, title=title, category=category, act_date=act_date, upload=upload
    )

    def record(version: Document) -> bool:
        # The current version locked, so that two replacements never both succeed.
        locked = Document.objects.select_for_update(of=("self",)).get(pk=current.pk)
        decision = authorize(
            actor, owner, Action.REPLACE, document=locked, client_address=client_address
        )
        if not decision.allowed:
            return False
        # The new version keeps the author's and the patient's controls: hidden, held.
        version.replaces = locked
        version.hidden_from_practitioners = locked.hidden_from_practitioners
        version.hidden_by_author = locked.hidden_by_author
        version.hidden_from_patient_until = locked.hidden_from_patient_until
        # And kept from a minor's legal representatives (issue 17, item 4): no e-mail either.
        version.confidential_from_representatives = locked.confidential_from_representatives
        version.save()
        locked.status = DocumentStatus.REPLACED
        locked.save(update_fields=["status"])
        if actor.kind == "practitioner" and not held_or_confidential(version):
            notify_patient(NotificationKind.NEW_DOCUMENT, owner)
        return True

    store_document(version, upload, record)
    return version


def hold_document(actor: User, uid: UUID, *, client_address: str = "") -> Document:
    """Its author holds the document back from the patient until an announcement
    consultation, for ``RECORDS_ANNOUNCEMENT_DAYS`` at most."""
    return change_document(
        actor,
        uid,
        Action.HOLD,
        client_address,
        lambda document: _held_chain(document, announcement_deadline()),
    )


def reveal_document(actor: User, uid: UUID, *, client_address: str = "") -> Document:
    """Its author lifts the hold after the announcement: the patient sees it now and is told
    (only if it was still held: revealing twice sends one notice)."""

    def apply(document: Document) -> None:
        if document.hidden_from_patient_until is None:
            return
        _held_chain(document, None)
        if not document.confidential_from_representatives:  # issue 17, item 4: no e-mail
            notify_patient(NotificationKind.DOCUMENT_REVEALED, document.patient)

    return change_document(actor, uid, Action.REVEAL, client_address, apply)


def withdraw_document(actor: User, uid: UUID, *, client_address: str = "") -> Document:
    """Its author withdraws the document: it leaves every list and page (its earlier versions
    with it, read through it by the door); the row and the file are kept, never lost."""

    def apply(document: Document) -> None:
        document.status = DocumentStatus.DELETED
        document.deleted_at = timezone.now()
        document.save(update_fields=["status", "deleted_at"])

    return change_document(actor, uid, Action.WITHDRAW, client_address, apply)


def reveal_due_documents(now: datetime | None = None) -> int:
    """The daily task: every document whose announcement delay is over is revealed (its chain
    emptied of the hold), recorded on the patient's chain as the system's REVEAL, and then only
    its patient is told. Only current versions are taken: their earlier versions are emptied
    with them, and a chain withdrawn while held stays held for good (the patient never learns
    of it: no line of their history, no notice). One transaction per chain. Returns how many
    were revealed."""
    now = now or timezone.now()
    revealed = 0
    due = Document.objects.filter(
        hidden_from_patient_until__lte=now, status=DocumentStatus.CURRENT
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            document = (
                Document.objects.select_for_update(of=("self",))
                .select_related("patient")
                .filter(pk=pk, hidden_from_patient_until__lte=now, status=DocumentStatus.CURRENT)
                .first()
            )
            if document is None:  # revealed, replaced or withdrawn meanwhile
                continue
            _held_chain(document, None)
            record_delay_reveal(document.patient, document)
            if not document.confidential_from_representatives:  # issue 17, item 4
                notify_patient(NotificationKind.DOCUMENT_REVEALED, document.patient)
            revealed += 1
    return revealed
