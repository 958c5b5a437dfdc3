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

Both go through ``selectors.opened_document`` (the one place a document is opened and its
decision recorded), the download with these narrower rows, the page with what it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from audit.models import Action
from records.models import Document
from records.selectors import opened_document

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
    rows = Document.objects.select_related("patient", "data_key").only(*_COLUMNS)
    return opened_document(
        actor,
        uid,
        action,
        client_address=client_address,
        inline=inline,
        owner=owner,
        rows=rows,
    ).document
