"""What a posted resource must look like (issue 19 review, M2 and later 4): a value of the
wrong JSON kind (a number, a string or an object where a list is expected...), JSON nested
past the parser's depth, a second ``content`` or a ``status`` other than ``current`` answer a
French 400 OperationOutcome giving the expected format, never Django's HTML 500 page nor a
silent drop; nothing is stored; an unexpected error is a 500 OperationOutcome."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from fhir.resources.R4B.operationoutcome import OperationOutcome

from fhir_api import documents_in, services
from tests.fhir_api.factories_write import (
    consented_patient_and_token,
    document_reference,
    post_json,
    refused_post,
    transaction,
)

pytestmark = [pytest.mark.django_db, pytest.mark.csrf_raw]

CATEGORY_SHAPE = 'category est une liste de concepts et type un seul concept : "category": ['
NOT_BASE64 = "ne sont pas du base64 valide"


@pytest.fixture
def world():
    return consented_patient_and_token()


def _refused(path: str, body, token: str) -> tuple[int, str, str]:
    status, issue = refused_post(path, body, token)
    return status, issue["code"], issue.get("diagnostics") or ""


def _with(resource: dict, **changes) -> dict:
    return {**resource, **changes}


SHAPES = {
    "category a number": (lambda r: _with(r, category=5), "structure", CATEGORY_SHAPE),
    "category true": (lambda r: _with(r, category=True), "structure", CATEGORY_SHAPE),
    "category a string": (lambda r: _with(r, category="biologie"), "structure", CATEGORY_SHAPE),
    "category an object": (
        lambda r: _with(r, category=r["category"][0]),
        "structure",
        CATEGORY_SHAPE,
    ),
    "category a list of numbers": (lambda r: _with(r, category=[5]), "structure", CATEGORY_SHAPE),
    "type a list": (lambda r: _with(r, type=r["category"]), "structure", CATEGORY_SHAPE),
    "type a string": (lambda r: _with(r, type="11502-2"), "structure", CATEGORY_SHAPE),
    "data a number": (
        lambda r: _with(r, content=[{"attachment": {"contentType": "text/plain", "data": 5}}]),
        "invalid",
        NOT_BASE64,
    ),
    "two contents": (
        lambda r: _with(r, content=r["content"] * 2),
        "invalid",
        'content doit contenir une seule pièce jointe, le fichier du document : [{"attachment"',
    ),
    "status entered-in-error": (
        lambda r: _with(r, status="entered-in-error"),
        "invalid",
        'Le status d\'un nouveau document est "current" (ou omettez status).',
    ),
    "status a number": (lambda r: _with(r, status=1), "invalid", '"current"'),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_a_value_of_the_wrong_shape_answers_400_with_the_expected_format(world, case):
    patient, token = world
    change, code, expected = SHAPES[case]
    status, got_code, text = _refused(
        "/fhir/DocumentReference", change(document_reference(patient.pk)), token
    )
    assert (status, got_code) == (400, code), text
    assert expected in text


def test_the_same_shapes_in_a_transaction(world):
    patient, token = world
    bundle = transaction(patient.pk)
    bundle["entry"][1]["resource"]["category"] = 5
    status, code, text = _refused("/fhir/", bundle, token)
    assert (status, code) == (400, "structure") and CATEGORY_SHAPE in text
    bundle = transaction(patient.pk)
    bundle["entry"][0]["resource"]["data"] = ["QUJD"]
    status, _code, text = _refused("/fhir/", bundle, token)
    assert status == 400 and NOT_BASE64 in text


def test_json_nested_past_the_parser_answers_400(world):
    _patient, token = world
    depth = 200_000  # about 400 kB, well within the body's limit
    body = b'{"resourceType":"DocumentReference","x":' + b"[" * depth + b"]" * depth + b"}"
    status, code, text = _refused("/fhir/DocumentReference", body, token)
    assert (status, code) == (400, "structure")
    assert "n'est pas du JSON valide" in text


def test_an_unexpected_error_of_a_write_is_a_500_operation_outcome(world, monkeypatch, caplog):
    patient, token = world

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    caplog.set_level(logging.ERROR, logger="dmp.operations")
    monkeypatch.setattr(services, "add_document", broken)
    status, code, text = _refused("/fhir/DocumentReference", document_reference(patient.pk), token)
    assert (status, code) == (500, "exception") and "boom" not in text
    # Before the endpoint itself (the body's size check): the wrapper's own last resort.
    monkeypatch.setattr(documents_in, "max_body_bytes", broken)
    status, code, _text = _refused("/fhir/", transaction(patient.pk), token)
    assert (status, code) == (500, "exception")
    assert sum(1 for record in caplog.records if record.exc_info) == 2


def test_a_current_status_or_none_is_taken(world):
    patient, token = world
    resource = document_reference(patient.pk)
    del resource["status"]
    response = post_json(Client(), "/fhir/DocumentReference", resource, token)
    assert response.status_code == 201, json.loads(response.content)


def _set(path: tuple, value):
    def change(resource: dict) -> dict:
        changed = json.loads(json.dumps(resource))
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return changed

    return change


# Every element the parse reads, given a value of each wrong JSON kind: a 4xx OperationOutcome
# with a French text (the status says which: 404 for a subject naming no patient), never a 500.
WRONG_KINDS: tuple[object, ...] = (5, True, None, "x", [], [5], {}, {"a": [1]})
ELEMENTS = (
    ("resourceType",),
    ("status",),
    ("subject",),
    ("subject", "reference"),
    ("context",),
    ("context", "period"),
    ("context", "period", "start"),
    ("description",),
    ("category",),
    ("category", 0),
    ("category", 0, "coding"),
    ("category", 0, "coding", 0),
    ("category", 0, "coding", 0, "system"),
    ("category", 0, "coding", 0, "code"),
    ("content",),
    ("content", 0),
    ("content", 0, "attachment"),
    ("content", 0, "attachment", "contentType"),
    ("content", 0, "attachment", "data"),
)


@pytest.mark.parametrize("element", ELEMENTS, ids=lambda path: ".".join(map(str, path)))
def test_no_element_of_a_wrong_kind_ends_in_an_error_of_the_server(world, element):
    patient, token = world
    for value in WRONG_KINDS:
        resource = _set(element, value)(document_reference(patient.pk))
        response = post_json(Client(), "/fhir/DocumentReference", resource, token)
        assert response.status_code in (201, 400, 404, 415), (element, value, response.status_code)
        if response.status_code != 201:
            outcome = OperationOutcome.model_validate(response.json())
            assert outcome.issue[0].diagnostics, (element, value)


TRANSACTION_ELEMENTS = (
    ("type",),
    ("entry",),
    ("entry", 0),
    ("entry", 0, "fullUrl"),
    ("entry", 0, "request"),
    ("entry", 0, "request", "method"),
    ("entry", 0, "resource"),
    ("entry", 0, "resource", "resourceType"),
    ("entry", 0, "resource", "contentType"),
    ("entry", 0, "resource", "data"),
    ("entry", 1, "resource", "content", 0, "attachment", "url"),
)


@pytest.mark.parametrize("element", TRANSACTION_ELEMENTS, ids=lambda path: ".".join(map(str, path)))
def test_no_element_of_a_transaction_of_a_wrong_kind_ends_in_an_error_of_the_server(world, element):
    patient, token = world
    for value in WRONG_KINDS:
        bundle = _set(element, value)(transaction(patient.pk))
        response = post_json(Client(), "/fhir/", bundle, token)
        assert response.status_code in (400, 404, 415), (element, value, response.status_code)
        OperationOutcome.model_validate(response.json())
