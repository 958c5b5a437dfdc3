"""``GET /fhir/metadata``: the CapabilityStatement, which lists exactly what the API does
(issue 19): the reads (this app's views), the writes (``POST /fhir/DocumentReference`` and the
transaction Bundle at ``POST /fhir/``) and the OAuth2 security, with the addresses of the
authorization server in SMART-on-FHIR's ``oauth-uris`` extension. A test compares it with the
routes, so that it never promises more, or less, than the URLs answer.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from access_control.fhir_bundle import Resource

SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
FHIR_VERSION = "4.0.1"


def _search_param(name: str, kind: str, documentation: str) -> Resource:
    return {"name": name, "type": kind, "documentation": documentation}


def capability_statement(
    *, base: str, authorize_url: str, token_url: str, revoke_url: str, published: datetime
) -> Resource:
    """Absolute addresses: the API's ``base`` and the authorization server's endpoints."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published.isoformat(timespec="seconds"),
        "publisher": "DMP",
        "kind": "instance",
        "software": {"name": _("DMP (shared medical record portal)")},
        "implementation": {
            "description": _("The DMP's FHIR R4 API for health professionals' software"),
            "url": base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": (
                                        "http://terminology.hl7.org/CodeSystem/"
                                        "restful-security-service"
                                    ),
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": _(
                        "OAuth2, authorization code with PKCE (S256); the access token in the "
                        "Authorization: Bearer header. Scopes: user/Patient.read, "
                        "user/DocumentReference.read, user/DocumentReference.write, "
                        "user/Binary.read."
                    ),
                    "extension": [
                        {
                            "url": SMART_OAUTH_URIS,
                            "extension": [
                                {"url": "authorize", "valueUri": authorize_url},
                                {"url": "token", "valueUri": token_url},
                                {"url": "revoke", "valueUri": revoke_url},
                            ],
                        }
                    ],
                },
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            _search_param(
                                "identifier",
                                "token",
                                _(
                                    "urn:oid:1.2.250.1.213.1.4.8|<NIR>, with POST "
                                    "/fhir/Patient/_search (form) only: never a NIR in an "
                                    "address."
                                ),
                            )
                        ],
                    },
                    {
                        "type": "DocumentReference",
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "create"},
                        ],
                        "searchParam": [
                            _search_param("patient", "reference", _("Required: the Patient's id.")),
                            _search_param(
                                "category",
                                "token",
                                _(
                                    "A CI-SIS class (urn:oid:1.2.250.1.213.1.1.4.1), a LOINC type "
                                    "or a category code of the portal "
                                    "(urn:dmp-portal:document-category)."
                                ),
                            ),
                            _search_param(
                                "date",
                                "date",
                                _(
                                    "When the document entered the record (YYYY-MM-DD, "
                                    "prefixes ge, le, gt, lt, eq)."
                                ),
                            ),
                            _search_param(
                                "period",
                                "date",
                                _("The date of the act (YYYY-MM-DD, prefixes ge, le, gt, lt, eq)."),
                            ),
                        ],
                    },
                    {"type": "Binary", "interaction": [{"code": "read"}]},
                ],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
