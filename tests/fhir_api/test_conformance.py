"""Conformance (issue 19, item 3): the CapabilityStatement says what the routes do, and the
codes cover every category of the portal."""

from __future__ import annotations

from django.test import Client
from django.urls import Resolver404, resolve
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from access_control.fhir_bundle import (
    CATEGORY_CODES,
    CATEGORY_SYSTEM,
    categories_for,
    category_concept,
    type_concept,
)
from records.categories import DEFAULT_CATEGORIES

READS = {
    ("Patient", "search-type"): "/fhir/Patient/_search",
    ("DocumentReference", "search-type"): "/fhir/DocumentReference",
    ("DocumentReference", "read"): "/fhir/DocumentReference/x",
    ("Binary", "read"): "/fhir/Binary/x",
}


def _statement() -> dict:
    response = Client().get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def test_the_capability_statement_validates_and_names_the_oauth_endpoints(db):
    data = _statement()
    CapabilityStatement.model_validate(data)
    assert data["fhirVersion"] == "4.0.1"
    security = data["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["authorize"].endswith("/oauth/authorize/")
    assert uris["token"].endswith("/oauth/token/")


def test_the_statement_lists_exactly_the_implemented_interactions(db):
    rest = _statement()["rest"][0]
    declared = {
        (resource["type"], interaction["code"])
        for resource in rest["resource"]
        for interaction in resource["interaction"]
    }
    # The reads are this app's routes; the writes are the `fhirwrite` helper's (POST
    # /fhir/DocumentReference and the transaction at POST /fhir/).
    assert declared == set(READS) | {("DocumentReference", "create")}
    assert rest["interaction"] == [{"code": "transaction"}]
    for (kind, interaction), path in READS.items():
        try:
            match = resolve(path)
        except Resolver404:  # pragma: no cover - the failure message says which
            raise AssertionError(f"{kind} {interaction}: no route {path}") from None
        assert match.namespace == "fhir"
    documents = next(r for r in rest["resource"] if r["type"] == "DocumentReference")
    assert {p["name"] for p in documents["searchParam"]} == {
        "patient",
        "category",
        "date",
        "period",
    }


def test_every_category_has_its_codes():
    assert set(CATEGORY_CODES) == {code for code, _fr, _en in DEFAULT_CATEGORIES}
    for code, label, _en in DEFAULT_CATEGORIES:
        category = category_concept(code, label)
        assert {"system": CATEGORY_SYSTEM, "code": code} in category["coding"]
        assert type_concept(code, label)["coding"]
        assert code in categories_for("", code)
    assert categories_for("urn:oid:1.2.250.1.213.1.1.4.1", "10") == {
        "comptes-rendus",
        "biologie",
        "psychiatrie",
    }
