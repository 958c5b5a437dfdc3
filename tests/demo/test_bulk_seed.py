"""seed_bulk: data written in bulk reads back through the normal door, and never in clear."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User, UserKind
from audit.models import Action
from demo.bulk_seed import FIRST_NAMES, LAST_NAMES, SMALL_PDF, TITLES, SeedPlan, seed
from enrollment import nir
from records import selectors
from records.models import Document
from tests.crypto.canaries import forms_of
from tests.storage_backends import stored_files


def _patients(report):
    return list(
        User.objects.filter(username__startswith=f"bulk-{report.run}-p").select_related(
            "data_key", "beneficiary"
        )
    )


@pytest.mark.django_db
def test_seeded_records_read_through_the_door_for_the_patient_and_the_consented_practitioner():
    report = seed(SeedPlan(patients=3, documents_per_patient=4))

    assert (report.patients, report.documents) == (3, 12)
    patients = _patients(report)
    assert len(patients) == 3
    assert len({patient.data_key_id for patient in patients}) == 3  # one key per patient
    practitioner = User.objects.get(username__startswith=f"bulk-{report.run}-m")
    for patient in patients:
        # The registry entry shares the patient's key and decrypts to a valid NIR.
        assert patient.beneficiary.data_key_id == patient.data_key_id
        assert nir.validate(patient.beneficiary.nir) == patient.beneficiary.nir

        page = selectors.record_page(patient, patient, selectors.RecordFilters(), 1)
        assert len(page.object_list) == 4
        for row in page.object_list:
            assert row.title.rsplit(" n°", 1)[0] in TITLES
        document = selectors.document_for(patient, page.object_list[0].uid, Action.DOWNLOAD)
        assert b"".join(selectors.document_content(document)) == SMALL_PDF

        # The consent was seeded: the practitioner sees what is not hidden from practitioners.
        seen = selectors.record_page(practitioner, patient, selectors.RecordFilters(), 1)
        expected = Document.objects.filter(patient=patient, hidden_from_practitioners=False)
        assert {row.uid for row in seen.object_list} == set(expected.values_list("uid", flat=True))


@pytest.mark.django_db(transaction=True)
def test_nothing_seeded_is_stored_in_clear_and_two_workers_share_the_batches(pg_dump):
    report = seed(SeedPlan(patients=3, documents_per_patient=4, workers=2, patients_per_batch=2))

    assert report.documents == 12
    patients = _patients(report)
    assert len(patients) == 3  # both forked workers' batches were committed
    db = connection.settings_dict
    dump = subprocess.run(
        [pg_dump, "--data-only", "-h", db["HOST"], "-p", str(db["PORT"])]
        + ["-U", db["USER"], db["NAME"]],
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
    ).stdout
    assert b"COPY public.records_document" in dump
    clear_values = [*TITLES, *LAST_NAMES, *FIRST_NAMES, "compte-rendu.pdf"]
    clear_values += [patient.beneficiary.nir for patient in patients]
    for value in clear_values:
        for form in forms_of(value)[:3]:  # raw, hex (bytea), UTF-16
            assert form not in dump, value
    files = [(name, content) for name, content in stored_files() if name.endswith(".bin")]
    names = {Path(name).name for name in Document.objects.values_list("file_name", flat=True)}
    assert names <= {Path(name).name for name, _content in files}
    for _name, content in files:
        assert b"%PDF" not in content


@pytest.mark.django_db
def test_seed_bulk_is_refused_in_production_unless_forced(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refusé en production"):
        call_command("seed_bulk", "--patients", "1")
    assert not User.objects.filter(kind=UserKind.PATIENT).exists()
