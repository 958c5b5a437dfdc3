"""The FHIR API asks the door (issue 12's acceptance, for issue 19): with a door that refuses
everything, no call returns a document, a file or an identity, and each refusal is recorded by
the door itself, naming the application."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from unittest import mock

from django.contrib.auth.models import AnonymousUser

from access_control import policy
from audit.models import Action, AuditEvent, Outcome
from tests.fhir_api.factories import search_patient
from tests.records.factories import add_document

REFUSED_BY_TEST = "refused-by-fhir-door-test"


@contextmanager
def door_refuses_everything():
    real = policy.decide
    refusal = dataclasses.replace(
        real(AnonymousUser(), None, Action.VIEW), allowed=False, reason=REFUSED_BY_TEST
    )
    with mock.patch.object(policy, "decide", side_effect=lambda *a, **k: refusal):
        yield


def test_fhir_reads_refuse(world):
    document = add_document(world.patient, title="Compte rendu secret")
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with door_refuses_everything():
        responses = [
            world.api.get("/fhir/DocumentReference", {"patient": str(world.patient.pk)}),
            world.api.get(f"/fhir/DocumentReference/{document.uid}"),
            world.api.get(f"/fhir/Binary/{document.uid}"),
        ]
        found = search_patient(world.api, world.nir)
    assert [response.status_code for response in responses] == [404, 404, 404]
    for response in responses:
        assert b"Compte rendu secret" not in response.content
        assert b"%PDF" not in response.content
    assert found.json()["total"] == 0
    new = AuditEvent.objects.filter(pk__gt=last)
    refused = new.filter(outcome=Outcome.REFUSED, reason=REFUSED_BY_TEST)
    assert refused.count() == 4
    assert set(refused.values_list("application", flat=True)) == {world.app.client_id}
    assert not new.filter(outcome=Outcome.ALLOWED).exists()
    # Without the patch, the same calls open the record: the test can fail.
    assert world.api.get(f"/fhir/DocumentReference/{document.uid}").status_code == 200
