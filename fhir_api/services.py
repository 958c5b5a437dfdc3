"""Writes of the FHIR API (issue 19, item 2): a practitioner's software adds a document to a
record, inline or as a transaction Bundle.

The upload page's own code does the work (``records.services.upload_document``): the door's
UPLOAD decision (consent, block, closure, profession, recorded), the file's checks and size
limit, the author's rules, encrypted storage, the patient's e-mail; a refusal or a failure
stores nothing. Each of its events names the application (``application``, the client id).
This module adds only what the API declares that a form does not: the patient by id, and the
type the data must be (its declared ``contentType``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User, UserKind
from fhir_api.bad_resource import BadResource
from fhir_api.documents_in import IncomingDocument, decoded, too_large
from records.file_types import inspect_upload, media_type_name
from records.models import Category, Document
from records.selectors import DocumentNotFound, check_upload_allowed
from records.services import upload_document
from records.upload_errors import RejectedFile, StorageUnavailable


class PatientNotFound(Exception):
    """No such patient, or the door refused (recorded): one answer for both (404)."""


def add_document(
    practitioner: User, incoming: IncomingDocument, *, application: str, client_address: str = ""
) -> Document:
    """Add ``incoming`` to its patient's record in ``practitioner``'s name, through
    ``application`` (its client id). Raises ``PatientNotFound`` (unknown or refused: the same
    answer) or ``BadResource`` (the data: not base64, too large, not the declared type, refused
    by the file's checks); either way nothing is stored. A transaction Bundle's Binary and
    DocumentReference are this one document: both are created, or neither."""
    patient = (
        User.objects.filter(pk=incoming.patient_id, kind=UserKind.PATIENT).first()
        if incoming.patient_id is not None
        else None
    )
    try:
        # The door first, as on the upload page: a refused caller never has a byte decoded.
        check_upload_allowed(
            practitioner, patient, client_address=client_address, application=application
        )
    except DocumentNotFound as exc:
        raise PatientNotFound from exc
    upload = decoded(incoming)
    try:
        detected = inspect_upload(upload, max_bytes=settings.RECORDS_MAX_UPLOAD_BYTES)
    except RejectedFile as rejected:
        raise _refused_file(rejected) from rejected
    if detected.media_type != incoming.media_type:
        raise BadResource(
            415,
            "not-supported",
            _(
                "The attachment's data is not of its declared contentType (%(declared)s): it "
                "is %(found)s. Declare the type of the file sent."
            )
            % {
                "declared": media_type_name(incoming.media_type),
                "found": media_type_name(detected.media_type),
            },
        )
    category = Category.objects.filter(code=incoming.category).first()
    if category is None:
        raise BadResource(400, "code-invalid", _("This category is not in use."))
    try:
        document = upload_document(
            practitioner,
            patient,
            title=incoming.title,
            category=category,
            act_date=incoming.act_date,
            upload=upload,
            client_address=client_address,
            application=application,
        )
    except DocumentNotFound as exc:  # the door changed its answer meanwhile (recorded)
        raise PatientNotFound from exc
    except RejectedFile as rejected:
        raise _refused_file(rejected) from rejected
    return document


def _refused_file(rejected: RejectedFile) -> BadResource:
    """The file's checks refused it: the same sentence as on the upload page, with the status
    that names the reason."""
    if isinstance(rejected, StorageUnavailable):
        return BadResource(503, "transient", rejected.message)
    if rejected.code == "too_large":
        return too_large()
    if rejected.code == "empty":
        return BadResource(400, "required", rejected.message)
    if rejected.code == "unsupported_type":
        return BadResource(415, "not-supported", rejected.message)
    # Damaged, active content, an image bomb, a DOCTYPE...: the type is right, its content not.
    return BadResource(422, "business-rule", rejected.message)
