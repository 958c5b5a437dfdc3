"""The FHIR R4 resources the API answers with (issue 19, item 3): plain dicts, built from what
the selectors return, through the builders the record's export uses
(``access_control.fhir_bundle``: the same Patient and DocumentReference, the same codes).

Every resource here validates against FHIR R4 (the tests check each with ``fhir.resources``'
R4B models). Ids are the portal's own UUIDs, never a NIR; ``base`` is the API's absolute
address (``https://…/fhir/``), which full URLs and links start with.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime

from django.utils.translation import gettext as _

from access_control import fhir_bundle
from access_control.fhir_bundle import Resource
from dmp_portal.crypto.fields import is_destroyed
from fhir_api.selectors import PatientMatch
from records.models import Document
from records.selectors import practitioner_name


def patient(match: PatientMatch) -> Resource:
    identity = match.identity
    return fhir_bundle.patient_resource(
        match.patient_id,
        last_name=identity.last_name,
        first_name=identity.first_name,
        birth_date=identity.birth_date,
        nir=identity.nir,
    )


def _title(document: Document) -> str:
    title = document.title
    return str(title) if is_destroyed(title) else title


def document_reference(document: Document, base: str) -> Resource:
    """A document as the API shows it: its attachment is the Binary to fetch (with the
    ``user/Binary.read`` scope), its author the patient or a practitioner with their RPPS."""
    patient_url = f"{base}Patient/{document.patient_id}"
    if document.author_id == document.patient_id:
        author: Resource = {"reference": patient_url}
    else:
        profile = getattr(document.author, "practitioner_profile", None)
        author = fhir_bundle.practitioner_reference(
            practitioner_name(document.author), profile.rpps if profile is not None else ""
        )
        if not author:  # an account without a profile: still a Reference, never empty
            author = {"display": _("A health professional")}
    return fhir_bundle.document_reference(
        document.uid,
        patient_url=patient_url,
        title=_title(document),
        category_code=document.category.code,
        category_label=str(document.category.label),
        act_date=document.act_date,
        added_at=document.created_at,
        author=author,
        media_type=document.media_type,
        size=document.size,
        sha1_digest=None,
        path=f"{base}Binary/{document.uid}",
    )


def binary(document: Document, content: bytes) -> Resource:
    return {
        "resourceType": "Binary",
        "id": str(document.uid),
        "contentType": document.media_type,
        "data": base64.b64encode(content).decode("ascii"),
    }


def searchset(
    entries: Iterable[tuple[str, Resource]],
    *,
    total: int,
    links: Iterable[tuple[str, str]],
    timestamp: datetime,
) -> Resource:
    """A search's answer: ``entries`` are (full URL, resource) pairs, all matches; ``links``
    (relation, URL) pairs (``self``, ``first``, ``previous``, ``next``, ``last``)."""
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timestamp.isoformat(timespec="seconds"),
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links],
    }
    found = [
        {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}
        for url, resource in entries
    ]
    if found:  # FHIR JSON has no empty arrays: no match, no ``entry``
        bundle["entry"] = found
    return bundle


def transaction_response(document: Document, order: Iterable[str], base: str) -> Resource:
    """A transaction's answer: its Binary and its DocumentReference (one document), both
    created, in ``order``, the request's order of their resource types."""
    added = document.created_at.isoformat(timespec="seconds")
    entries: dict[str, Resource] = {
        "Binary": {
            "response": {
                "status": "201 Created",
                "location": f"{base}Binary/{document.uid}",
                "lastModified": added,
            },
        },
        "DocumentReference": {
            "resource": document_reference(document, base),
            "response": {
                "status": "201 Created",
                "location": f"{base}DocumentReference/{document.uid}",
                "lastModified": added,
            },
        },
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [entries[kind] for kind in order],
    }
