"""What a practitioner's software sends to add a document (issue 19, item 2), read into plain
values: a FHIR R4 DocumentReference with its attachment inline (base64), or a ``transaction``
Bundle of one Binary and one DocumentReference whose attachment points to it.

Each mistake is a ``BadResource``: the HTTP status that names it and a French sentence giving
the expected format, which the view answers as an OperationOutcome. Nothing here touches the
database nor decides access (``fhir_api.services`` does, through the upload's own code); the
attachment's data is decoded only once the door has let the caller in (``decoded``).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fhir_api import categories_in
from fhir_api.bad_resource import BadResource
from records.file_types import CDA, JPEG, PDF, PNG, RTF, TEXT, TIFF

# What a resource adds to its attachment's base64: the other fields, a Bundle's wrapping.
JSON_OVERHEAD_BYTES = 64 * 1024
TITLE_MAX = 200  # the upload form's own limit (records/forms.py)
# The declared ``contentType`` (its parameters aside) and the type the file's checks must then
# find in the data (records/file_types.py): the DMP's metadata names CDA ``text/xml``.
DECLARED_TYPES = {
    "application/pdf": PDF.media_type,
    "image/jpeg": JPEG.media_type,
    "image/png": PNG.media_type,
    "image/tiff": TIFF.media_type,
    "text/plain": TEXT.media_type,
    "application/rtf": RTF.media_type,
    "text/rtf": RTF.media_type,
    "application/xml": CDA.media_type,
    "text/xml": CDA.media_type,
}
ACCEPTED_TYPES = "application/pdf, image/jpeg, image/png, image/tiff, text/plain, application/rtf, "
ACCEPTED_TYPES += "text/xml (HL7 CDA)"
# Relative (``Patient/<id>``) or absolute, as the read API writes it (``https://…/fhir/Patient/<id>``).
_PATIENT_REFERENCE = re.compile(r"(?:https?://[^\s]*/)?Patient/([A-Za-z0-9\-.]{1,64})")
_FULL_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(T.*)?")

Resource = Mapping[str, Any]


@dataclass(frozen=True)
class IncomingDocument:
    # None: the reference names no possible patient (answered as an unknown one, 404).
    patient_id: uuid.UUID | None
    category: str  # the portal's category code (records/categories.py)
    act_date: date
    title: str
    media_type: str  # the type the data must be, as records/file_types.py names it
    data: str  # base64, as sent, decoded only once the door allows (``decoded``)


@dataclass(frozen=True)
class IncomingTransaction:
    document: IncomingDocument
    # The entries' resource types in the request's order, which the response's follow.
    order: tuple[str, ...]


def max_body_bytes() -> int:
    """The largest body whose attachment can still be within ``RECORDS_MAX_UPLOAD_BYTES``
    once decoded: base64 takes 4 characters for every 3 bytes."""
    return 4 * math.ceil(settings.RECORDS_MAX_UPLOAD_BYTES / 3) + JSON_OVERHEAD_BYTES


def too_large() -> BadResource:
    return BadResource(
        413,
        "too-long",
        _("The document is larger than the maximum size of %(limit)s MB (once decoded).")
        % {"limit": settings.RECORDS_MAX_UPLOAD_BYTES // (1024 * 1024)},
    )


def read_json(body: bytes) -> Resource:
    """The body as a JSON object, or 400."""
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: arrays or objects nested deeper than the parser goes (a « JSON
        # bomb » well within the size limit); no FHIR resource is nested that deep.
        raise BadResource(
            400,
            "structure",
            _(
                "The body is not valid JSON: send one FHIR R4 resource in JSON, encoded in "
                "UTF-8 (Content-Type: application/fhir+json)."
            ),
        ) from exc
    if not isinstance(parsed, dict):
        raise BadResource(400, "structure", _("The body must be one FHIR resource: a JSON object."))
    return parsed


def document_reference_in(resource: Resource) -> IncomingDocument:
    """POST /fhir/DocumentReference: the resource, its attachment's data inline."""
    kind = resource.get("resourceType")
    if kind == "Bundle":
        raise BadResource(
            400,
            "invalid",
            _(
                "A Bundle is posted to /fhir/ (a transaction of one Binary and one "
                "DocumentReference), not to /fhir/DocumentReference."
            ),
        )
    if kind != "DocumentReference":
        raise BadResource(
            400,
            "invalid",
            _('Expected a resource with "resourceType": "DocumentReference".'),
        )
    attachment = _attachment(resource)
    if "data" not in attachment:
        raise BadResource(
            400,
            "required",
            _(
                "content[0].attachment.data is required: the file in base64, with its "
                "contentType (or post a transaction Bundle with a Binary to /fhir/)."
            ),
        )
    return _document(resource, _media_type(attachment.get("contentType")), attachment["data"])


def transaction_in(bundle: Resource) -> IncomingTransaction:
    """POST /fhir/: a Bundle of type ``transaction`` holding one Binary and one
    DocumentReference whose ``content[0].attachment.url`` is the Binary's ``fullUrl``."""
    expected = _(
        'Expected a Bundle of "type": "transaction" with two entries, each with a fullUrl '
        '(urn:uuid:...) and a request {"method": "POST"}: one Binary (contentType, data in '
        "base64) and one DocumentReference whose content[0].attachment.url is the Binary's "
        "fullUrl."
    )
    if bundle.get("resourceType") == "DocumentReference":
        raise BadResource(
            400,
            "invalid",
            _("A DocumentReference alone is posted to /fhir/DocumentReference.") + " " + expected,
        )
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        raise BadResource(400, "invalid", expected)
    entries = bundle.get("entry")
    if not isinstance(entries, list) or len(entries) != 2:
        raise BadResource(400, "invalid", expected)
    by_kind: dict[str, tuple[str, Resource]] = {}
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise BadResource(400, "invalid", expected)
        kind = resource.get("resourceType")
        request = entry.get("request")
        full_url = entry.get("fullUrl")
        if (
            kind not in ("Binary", "DocumentReference")
            or kind in by_kind
            or not isinstance(full_url, str)
            or not full_url.startswith("urn:uuid:")
            or not isinstance(request, dict)
            or request.get("method") != "POST"
            or request.get("url") != kind
        ):
            raise BadResource(400, "invalid", expected)
        by_kind[kind] = (full_url, resource)
    binary_url, binary = by_kind["Binary"]
    _document_url, reference = by_kind["DocumentReference"]
    attachment = _attachment(reference)
    if attachment.get("url") != binary_url or "data" in attachment:
        raise BadResource(400, "invalid", expected)
    declared = binary.get("contentType")
    if attachment.get("contentType") not in (None, declared):
        raise BadResource(
            400,
            "invalid",
            _("The attachment's contentType and the Binary's contentType must be the same."),
        )
    if "data" not in binary:
        raise BadResource(400, "required", expected)
    document = _document(reference, _media_type(declared), binary["data"])
    return IncomingTransaction(document, tuple(by_kind))


def decoded(incoming: IncomingDocument) -> io.BytesIO:
    """The attachment's bytes: 413 over the size limit (known from the base64's length,
    before decoding), 400 when it is not base64."""
    if not isinstance(incoming.data, str):
        raise _not_base64()
    text = "".join(incoming.data.split())  # base64Binary may be wrapped
    padding = len(text) - len(text.rstrip("="))
    if len(text) * 3 // 4 - padding > settings.RECORDS_MAX_UPLOAD_BYTES:
        raise too_large()
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _not_base64() from exc
    if not data:
        raise BadResource(400, "required", _("The attachment's data is empty."))
    return io.BytesIO(data)


def _not_base64() -> BadResource:
    return BadResource(
        400,
        "invalid",
        _(
            "The attachment's data is not valid base64: the file's bytes encoded as in "
            "RFC 4648 (A-Z, a-z, 0-9, +, / and = padding)."
        ),
    )


def _attachment(resource: Resource) -> Resource:
    content = resource.get("content")
    if isinstance(content, list) and len(content) > 1:
        # One document, one file: a second content (another format of it) would otherwise
        # be dropped without a word.
        raise BadResource(
            400,
            "invalid",
            _(
                "content must hold exactly one attachment, the document's file: "
                '[{"attachment": {"contentType": ..., "data": ...}}].'
            ),
        )
    attachment = None
    if isinstance(content, list) and content and isinstance(content[0], dict):
        attachment = content[0].get("attachment")
    if not isinstance(attachment, dict):
        raise BadResource(
            400,
            "required",
            _('content[0].attachment is required: {"contentType": ..., "data": ...}.'),
        )
    return attachment


def _media_type(declared: object) -> str:
    """The type the data must be (415 when the portal accepts no such file)."""
    if not isinstance(declared, str) or not declared.strip():
        raise BadResource(
            400,
            "required",
            _("The attachment's contentType is required, one of: %(types)s.")
            % {"types": ACCEPTED_TYPES},
        )
    media_type = declared.split(";")[0].strip().lower()
    if media_type not in DECLARED_TYPES:
        raise BadResource(
            415,
            "not-supported",
            _("This type of file is not accepted (%(declared)s). Accepted types: %(types)s.")
            % {"declared": media_type[:100], "types": ACCEPTED_TYPES},
        )
    return DECLARED_TYPES[media_type]


def _document(resource: Resource, media_type: str, data: object) -> IncomingDocument:
    status = resource.get("status", "current")
    if status != "current":
        # A new document is current: any other status (entered-in-error, superseded) would be
        # stored as current, which is not what the software said.
        raise BadResource(
            400,
            "invalid",
            _('A new document\'s status is "current" (or leave status out).'),
        )
    if not isinstance(data, str):
        raise _not_base64()  # a number, a list...: its shape, not its content (never decoded)
    return IncomingDocument(
        patient_id=_patient_id(resource.get("subject")),
        category=categories_in.category(resource),
        act_date=_act_date(resource),
        title=_title(resource),
        media_type=media_type,
        data=data,
    )


def _patient_id(subject: object) -> uuid.UUID | None:
    """The id ``subject`` names; None when it names no patient (missing, not a Patient
    reference, not an id): answered as an unknown patient, 404, whose message gives the
    expected format, so that no answer tells a missing patient from a refused one."""
    reference = subject.get("reference") if isinstance(subject, dict) else None
    match = _PATIENT_REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    try:
        return uuid.UUID(match.group(1)) if match is not None else None
    except ValueError:
        return None


def _title(resource: Resource) -> str:
    title = resource.get("description")
    if not isinstance(title, str) or not title.strip():
        raise BadResource(
            400, "required", _("description is required: the document's title, as a string.")
        )
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise BadResource(
            400,
            "too-long",
            _("description is too long: at most %(max)d characters.") % {"max": TITLE_MAX},
        )
    return title


def _act_date(resource: Resource) -> date:
    """The date of the act: ``context.period.start``, else ``date`` (its day), else today, as
    on the upload page; never in the future."""
    context = resource.get("context")
    period = context.get("period") if isinstance(context, dict) else None
    value = period.get("start") if isinstance(period, dict) else None
    if value is None:
        value = resource.get("date")
    if value is None:
        return timezone.localdate()
    match = _FULL_DATE.fullmatch(value) if isinstance(value, str) else None
    try:
        act_date = date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        act_date = None
    if act_date is None:
        raise BadResource(
            400,
            "invalid",
            _(
                "The date of the act (context.period.start, or date) must be a date as "
                "YYYY-MM-DD, for example 2026-03-12."
            ),
        )
    if act_date > timezone.localdate():
        raise BadResource(400, "invalid", _("The date of the act cannot be in the future."))
    return act_date
