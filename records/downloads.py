"""A document's file, for its download or its page's viewer (issue 20, item 6).

Before the first byte: the door's one decision and its audit event, committed. Here that costs
one query for the document's row, with only the columns the door and the response need and the
two rows they read beside it (its patient, its data key), not its category's nor its author's
with his profile, which the document page shows and a file does not need; then the door's own
queries (a patient's own record: its closure), its decision and its audit event (two
statements, issue 20 item 3), and the commit. The file is then read and decrypted one sealed
chunk at a time (``selectors.document_content``), each chunk checked before it is sent.

Measured (issue 20, item 6): the joins are what the row costs in Python, each one a model and
its columns; reading the closure in the same query as a subquery cost more than its own query.

The document page keeps ``selectors.opened_document``, which loads what that page shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction

from access_control import policy
from audit.models import Action
from records.models import Document
from records.selectors import DocumentNotFound, acting_for_document

if TYPE_CHECKING:
    from accounts.models import User

# What the door reads of a document (``access_control.decisions.Document``: its record, author,
# category, status, flags and hold; ``replaces`` for an earlier version) and what the response
# needs (the title and act date for the file's name, its type, size, stored name, extension).
# Not its description, original name, checksum, nor its category's and author's rows.
_COLUMNS = (
    "uid",
    "patient",
    "data_key",
    "category_id",
    "author_id",
    "status",
    "replaces_id",
    "hidden_from_practitioners",
    "hidden_by_author",
    "confidential_from_representatives",
    "hidden_from_patient_until",
    "title",
    "act_date",
    "file_name",
    "media_type",
    "extension",
    "size",
)


def file_document(
    actor: User,
    uid: UUID,
    action: Action,
    *,
    client_address: str = "",
    inline: bool = False,
    owner: User | None = None,
) -> Document:
    """The document whose file ``actor`` may fetch (``Action.DOWNLOAD``, or ``Action.VIEW``
    with ``inline`` for the viewer of its page), after the door's decision and its audit event
    are committed; else DocumentNotFound, refused or missing alike, the refusal committed too.
    ``owner``: the record chosen with the switch (``selectors.acting_for_document``)."""
    with transaction.atomic():
        # Sliced, not first(): the uid is unique, and first()'s ORDER BY id measured dearer.
        found = list(
            Document.objects.select_related("patient", "data_key")
            .only(*_COLUMNS)
            .filter(uid=uid)[:1]
        )
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
        )
    if not decision.allowed or document is None:  # the door opens no document that does not exist
        raise DocumentNotFound
    return document
