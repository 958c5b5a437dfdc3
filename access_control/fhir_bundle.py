"""The record as a FHIR R4 Bundle of type ``collection`` (``dossier.fhir.json`` of the export).

Plain dicts, written as JSON, so that nothing here depends on a FHIR library at run time (the
tests validate the result with ``fhir.resources``). One Patient, one DocumentReference per
exported file, whose attachment points to the file inside the ZIP with its size and hash as
R4 defines them (``Attachment.hash``: the base64 of the SHA-1 of the data), the Consents and
the AuditEvents of the access history. Entries refer to each other by ``urn:uuid:`` full URLs,
as a collection without a server does.

The Bundle is written entry by entry (``bundle_chunks``): a record with a long history never
has its whole JSON in memory at once.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

# The NIR as the INS (identifiant national de santé) carries it.
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
# The portal's own code systems: its document categories and audit actions.
CATEGORY_SYSTEM = "urn:dmp-portal:document-category"
AUDIT_ACTION_SYSTEM = "urn:dmp-portal:audit-action"
# The French interoperability framework (CI-SIS): the classes of documents (TRE_A03-ClasseDocument,
# the values of JDV_J57-ClassCode-DMP) and the document types, which are LOINC codes.
CISIS_CLASS_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.1"
LOINC_SYSTEM = "http://loinc.org"
# Each category of the portal (records/categories.py) with its CI-SIS class and its LOINC type,
# when one says the same thing; else None, and the portal's own code stands alone
# (``CATEGORY_SYSTEM``). README, « FHIR API », « Codes », gives the table and the reasons.
CATEGORY_CODES: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
    "synthese": (("11", "Synthèse"), ("60591-5", "Patient summary Document")),
    "traitements": (("44", "Plan de soins, protocole de soins"), None),
    "comptes-rendus": (("10", "Compte rendu"), None),
    "imagerie": (("31", "Imagerie médicale"), ("18748-4", "Diagnostic imaging study")),
    "biologie": (("10", "Compte rendu"), ("11502-2", "Laboratory report")),
    "prevention": (None, ("87273-9", "Immunization note")),
    "certificats": (("52", "Certificat, déclaration"), None),
    "directives-anticipees": (None, ("42348-3", "Advance healthcare directives")),
    "psychiatrie": (("10", "Compte rendu"), None),
    "autres": (None, None),
}
# Ids of the consents and events (integers in the database) inside the Bundle: stable from one
# export to the next, and telling nothing outside it.
_NAMESPACE = uuid.UUID("0d6f6c1e-55a4-4c39-9c8e-3f8d1f1b9a52")

Resource = dict[str, Any]


def full_url(kind: str, key: object) -> str:
    """The ``urn:uuid:`` of an entry: the object's own uuid when it has one, else one derived
    from its kind and primary key."""
    if isinstance(key, uuid.UUID):
        return f"urn:uuid:{key}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}:{key}')}"


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def attachment_hash(sha1_digest: bytes) -> str:
    """``Attachment.hash`` (R4): base64 of the SHA-1 of the attachment's data."""
    return base64.b64encode(sha1_digest).decode("ascii")


def patient_resource(
    patient_id: uuid.UUID,
    *,
    last_name: str,
    first_name: str,
    birth_date: date | None,
    nir: str,
) -> Resource:
    resource: Resource = {"resourceType": "Patient", "id": str(patient_id)}
    if nir:
        resource["identifier"] = [{"system": NIR_SYSTEM, "value": nir.replace(" ", "")}]
    name: Resource = {"family": last_name} if last_name else {}
    if first_name:
        name["given"] = first_name.split()
    if name:
        resource["name"] = [name]
    if birth_date is not None:
        resource["birthDate"] = birth_date.isoformat()
    return resource


def category_concept(category_code: str, category_label: str) -> Resource:
    """``DocumentReference.category``: the CI-SIS class when the category has one, and always
    the portal's own code (what a search by ``category`` and a write name exactly)."""
    cisis, _loinc = CATEGORY_CODES.get(category_code, (None, None))
    coding: list[Resource] = []
    if cisis is not None:
        coding.append({"system": CISIS_CLASS_SYSTEM, "code": cisis[0], "display": cisis[1]})
    coding.append({"system": CATEGORY_SYSTEM, "code": category_code})
    return {"coding": coding, "text": category_label}


def type_concept(category_code: str, category_label: str) -> Resource:
    """``DocumentReference.type``: its LOINC code when the category names one type of
    document, else the portal's category code (a document type the portal does not know)."""
    _cisis, loinc = CATEGORY_CODES.get(category_code, (None, None))
    if loinc is not None:
        coding = {"system": LOINC_SYSTEM, "code": loinc[0], "display": loinc[1]}
    else:
        coding = {"system": CATEGORY_SYSTEM, "code": category_code}
    return {"coding": [coding], "text": category_label}


def categories_for(system: str, code: str) -> set[str]:
    """The portal's categories that a coding names: its own code, a CI-SIS class (several
    categories may share one: « Compte rendu ») or a LOINC type. ``system`` empty: any."""
    found = set()
    for category, (cisis, loinc) in CATEGORY_CODES.items():
        if system in ("", CATEGORY_SYSTEM) and code == category:
            found.add(category)
        if system in ("", CISIS_CLASS_SYSTEM) and cisis is not None and code == cisis[0]:
            found.add(category)
        if system in ("", LOINC_SYSTEM) and loinc is not None and code == loinc[0]:
            found.add(category)
    return found


def document_reference(
    document_id: uuid.UUID,
    *,
    patient_url: str,
    title: str,
    category_code: str,
    category_label: str,
    act_date: date,
    added_at: datetime,
    author: Resource,
    media_type: str,
    size: int,
    sha1_digest: bytes | None,
    path: str,
) -> Resource:
    """``author``: a Reference (the Patient's, or a practitioner's display and RPPS).
    ``path``: where the attachment's data is (a file of the export, or the API's Binary);
    ``sha1_digest``: None when the caller does not hold the data (the API's reads)."""
    attachment: Resource = {
        "contentType": media_type,
        "url": path,
        "size": size,
        "title": title,
        "creation": act_date.isoformat(),
    }
    if sha1_digest is not None:
        attachment["hash"] = attachment_hash(sha1_digest)
    return {
        "resourceType": "DocumentReference",
        "id": str(document_id),
        "status": "current",
        "type": type_concept(category_code, category_label),
        "category": [category_concept(category_code, category_label)],
        "subject": {"reference": patient_url},
        # The date of the act the document is about; ``date`` is when it entered the record.
        "context": {"period": {"start": act_date.isoformat(), "end": act_date.isoformat()}},
        "date": _instant(added_at),
        "author": [author],
        "description": title,
        "content": [{"attachment": attachment}],
    }


def practitioner_reference(name: str, rpps: str) -> Resource:
    reference: Resource = {"display": name} if name else {}
    if rpps:
        reference["identifier"] = {"system": RPPS_SYSTEM, "value": rpps}
    return reference


def consent_resource(
    consent_id: int,
    *,
    patient_url: str,
    practitioner: Resource,
    granted_at: datetime,
    ends_at: datetime | None,
    active: bool,
) -> Resource:
    """A consent given to one practitioner: a permit over the period it ran (or runs)."""
    period = {"start": _instant(granted_at)}
    if ends_at is not None:
        period["end"] = _instant(ends_at)
    return {
        "resourceType": "Consent",
        "id": full_url("consent", consent_id).removeprefix("urn:uuid:"),
        "status": "active" if active else "inactive",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": patient_url},
        "dateTime": _instant(granted_at),
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": (
                                    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
                                ),
                                "code": "PRCP",
                            }
                        ]
                    },
                    "reference": practitioner,
                }
            ],
        },
    }


def audit_event_resource(
    key: object,
    *,
    occurred_at: datetime,
    action: str,
    action_label: str,
    allowed: bool,
    emergency: bool,
    who: str,
    rpps: str,
    document_url: str | None,
    patient_url: str,
) -> Resource:
    """One line of the access history. ``document_url``: the DocumentReference of the Bundle
    it names, when that document is in it (never one the patient may not see)."""
    agent: Resource = {"requestor": True, "who": practitioner_reference(who, rpps)}
    if not rpps:
        agent["who"] = {"display": who}
    entities: list[Resource] = [{"what": {"reference": patient_url}}]
    if document_url is not None:
        entities.append({"what": {"reference": document_url}})
    resource: Resource = {
        "resourceType": "AuditEvent",
        "id": full_url("audit-event", key).removeprefix("urn:uuid:"),
        "type": {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110110",
            "display": "Patient Record",
        },
        "subtype": [{"system": AUDIT_ACTION_SYSTEM, "code": action, "display": action_label}],
        "recorded": _instant(occurred_at),
        # 0: success; 4: minor failure (the door refused).
        "outcome": "0" if allowed else "4",
        "agent": [agent],
        "source": {"observer": {"display": "DMP"}},
        "entity": entities,
    }
    if emergency:
        resource["purposeOfEvent"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "ETREAT",
                    }
                ]
            }
        ]
    return resource


def bundle_chunks(
    bundle_id: uuid.UUID, timestamp: datetime, entries: Iterable[tuple[str, Resource]]
) -> Iterator[bytes]:
    """The Bundle's JSON, one entry at a time: ``entries`` are (full URL, resource) pairs."""
    head = {
        "resourceType": "Bundle",
        "id": str(bundle_id),
        "type": "collection",
        "timestamp": _instant(timestamp),
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "entry": [\n').encode()
    separator = ""
    for url, resource in entries:
        entry = {"fullUrl": url, "resource": resource}
        yield (separator + json.dumps(entry, ensure_ascii=False)).encode()
        separator = ",\n"
    yield b"\n]}\n"
