"""GET /fhir/DocumentReference and /fhir/DocumentReference/<id> (issue 19): what the web pages
show this practitioner, in FHIR R4 with the CI-SIS codes, in constant queries."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.operationoutcome import OperationOutcome

from access_control.fhir_bundle import CATEGORY_SYSTEM, CISIS_CLASS_SYSTEM, LOINC_SYSTEM
from access_control.services import grant_consent
from accounts.models import Profession
from audit.models import Action, AuditEvent, Outcome
from records.models import Document
from tests.accounts.factories import PractitionerProfileFactory
from tests.fhir_api.factories import access_token, api_client
from tests.records.factories import add_document


def _search(world, **params):
    return world.api.get("/fhir/DocumentReference", {"patient": str(world.patient.pk), **params})


def test_the_search_lists_the_record_with_cisis_codes(world):
    add_document(world.patient, title="IRM du genou", category="imagerie")
    add_document(world.patient, title="Bilan", category="biologie", author=world.doctor.user)
    response = _search(world)
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json())
    assert bundle.total == 2
    by_title = {
        entry["resource"]["description"]: entry["resource"] for entry in response.json()["entry"]
    }
    for resource in by_title.values():
        DocumentReference.model_validate(resource)
    imaging = by_title["IRM du genou"]
    assert imaging["category"][0]["coding"][0] == {
        "system": CISIS_CLASS_SYSTEM,
        "code": "31",
        "display": "Imagerie médicale",
    }
    assert {"system": CATEGORY_SYSTEM, "code": "imagerie"} in imaging["category"][0]["coding"]
    assert imaging["type"]["coding"][0]["system"] == LOINC_SYSTEM
    assert imaging["subject"]["reference"].endswith(f"/fhir/Patient/{world.patient.pk}")
    assert imaging["content"][0]["attachment"]["url"].endswith(f"/fhir/Binary/{imaging['id']}")
    lab = by_title["Bilan"]
    assert lab["author"][0]["identifier"]["value"] == world.doctor.rpps
    event = AuditEvent.objects.filter(action=Action.LIST).latest("pk")
    assert (event.application, event.outcome) == (world.app.client_id, Outcome.ALLOWED)


def test_category_and_dates_narrow_the_search(world):
    add_document(world.patient, title="IRM", category="imagerie", act_date=date(2026, 1, 5))
    add_document(world.patient, title="Bilan", category="biologie", act_date=date(2026, 3, 5))
    add_document(world.patient, title="Synthèse", category="synthese", act_date=date(2026, 3, 9))

    def titles(**params):
        response = _search(world, **params)
        assert response.status_code == 200, response.content
        # No match, no ``entry`` (FHIR JSON has no empty array).
        return sorted(e["resource"]["description"] for e in response.json().get("entry", []))

    assert titles(category=f"{CISIS_CLASS_SYSTEM}|31") == ["IRM"]
    assert titles(category="biologie,synthese") == ["Bilan", "Synthèse"]
    assert titles(category=f"{LOINC_SYSTEM}|11502-2") == ["Bilan"]
    assert titles(category="inconnue") == []
    assert titles(period="ge2026-03-01") == ["Bilan", "Synthèse"]
    assert titles(period=["ge2026-03-01", "lt2026-03-09"]) == ["Bilan"]
    today = date.today().isoformat()
    assert len(titles(date=f"le{today}")) == 3
    assert titles(date=f"gt{today}") == []


def test_paging_links_carry_the_search_and_never_a_nir(world):
    for number in range(5):
        add_document(world.patient, title=f"Document {number}", act_date=date(2026, 1, number + 1))
    response = _search(world, _count="2", _page="2", category="imagerie")
    data = response.json()
    Bundle.model_validate(data)
    assert data["total"] == 5 and len(data["entry"]) == 2
    links = {link["relation"]: link["url"] for link in data["link"]}
    assert set(links) == {"self", "first", "previous", "next", "last"}
    assert parse_qs(urlsplit(links["last"]).query)["_page"] == ["3"]
    assert parse_qs(urlsplit(links["next"]).query)["category"] == ["imagerie"]
    nir = world.nir.replace(" ", "")
    assert all(nir not in url for url in links.values())
    following = world.api.get(links["next"])
    assert [e["resource"]["description"] for e in following.json()["entry"]] == ["Document 0"]
    # More than the largest page is cut down to it.
    assert len(_search(world, _count="1000").json()["entry"]) == 5


def test_bad_search_parameters_are_400_with_the_expected_format(world):
    for params in (
        {"_count": "abc"},
        {"_count": "0"},
        {"_page": "-1"},
        {"date": "2026-13-45"},
        {"period": "soon"},
    ):
        response = _search(world, **params)
        assert response.status_code == 400, params
        OperationOutcome.model_validate(response.json())
    missing = world.api.get("/fhir/DocumentReference")
    assert missing.status_code == 400
    assert "patient=" in missing.json()["issue"][0]["diagnostics"]


def test_query_count_does_not_grow_with_the_documents(world):
    add_document(world.patient, title="Premier")
    _search(world)  # warm: the first call loads the categories' rules
    with CaptureQueriesContext(connection) as few:
        assert _search(world).status_code == 200
    for number in range(8):
        add_document(world.patient, title=f"Autre {number}", author=world.doctor.user)
    with CaptureQueriesContext(connection) as many:
        response = _search(world)
    assert len(response.json()["entry"]) == 9
    assert len(many) == len(few)


def test_the_read_and_what_an_outsider_gets(world):
    document = add_document(world.patient, title="Compte rendu")
    response = world.api.get(f"/fhir/DocumentReference/{document.uid}")
    assert response.status_code == 200
    DocumentReference.model_validate(response.json())
    assert response.json()["id"] == str(document.uid)
    outsider = world.charlie_api.get(f"/fhir/DocumentReference/{document.uid}")
    missing = world.api.get("/fhir/DocumentReference/00000000-0000-0000-0000-000000000001")
    garbage = world.api.get("/fhir/DocumentReference/pas-un-identifiant")
    assert outsider.status_code == missing.status_code == garbage.status_code == 404
    assert outsider.content == missing.content == garbage.content
    OperationOutcome.model_validate(outsider.json())
    assert (
        world.charlie_api.get("/fhir/DocumentReference", {"patient": str(world.patient.pk)}).content
        == missing.content
    )
    refused = AuditEvent.objects.filter(actor=world.charlie.user, outcome=Outcome.REFUSED)
    assert refused.count() == 2
    assert set(refused.values_list("application", flat=True)) == {world.app.client_id}


def test_hidden_documents_and_the_profession_matrix_hold(world):
    hidden = add_document(world.patient, title="Masqué")
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    psychiatry = add_document(world.patient, title="Psy", category="psychiatrie")
    add_document(world.patient, title="Visible")
    assert [e["resource"]["description"] for e in _search(world).json()["entry"]] == [
        "Visible",
        "Psy",
    ]
    assert world.api.get(f"/fhir/DocumentReference/{hidden.uid}").status_code == 404
    pharmacist = PractitionerProfileFactory.create(profession=Profession.PHARMACIEN)
    grant_consent(world.patient, pharmacist.rpps)
    raw, _token = access_token(pharmacist.user, world.app)
    client = api_client(raw)
    listed = client.get("/fhir/DocumentReference", {"patient": str(world.patient.pk)})
    assert [e["resource"]["description"] for e in listed.json()["entry"]] == ["Visible"]
    assert client.get(f"/fhir/DocumentReference/{psychiatry.uid}").status_code == 404
    assert client.get(f"/fhir/Binary/{psychiatry.uid}").status_code == 404
