"""The acceptance test of issue 16's purge: a person enrolled by post, with a contact address,
documents, consents, letters and a history, closes their record; ten years and a day later
``purge_records`` runs. Then nothing in a dump of the database, the media folder or the logs
names them (name, NIR, address, titles, file contents, e-mail, login identifier, nor the blind
indexes that would find them), their key is gone so that a backup's ciphertexts no longer open,
and ``verify_audit`` still passes."""

from __future__ import annotations

import io
import logging
import os
import subprocess

import pytest
import time_machine
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client

from access_control.models import AccessRequest, Consent, RecordClosure
from accounts.contact import email_lookup
from accounts.models import User
from audit.models import Action, AuditEvent
from bench.world import stored_document
from dmp_portal.crypto.datakeys import cipher_for
from dmp_portal.crypto.errors import DataDestroyed
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.crypto.files import open_decrypted
from dmp_portal.crypto.models import DataKey
from enrollment.models import ActivationAttempts, Beneficiary, EnrollmentRequest
from enrollment.services.registry import nir_index
from letters.models import Letter
from records.models import Document
from tests.access_control.closure_records import close_record, days
from tests.access_control.factories import ask_access, grant, look_up
from tests.access_control.purge_links import rows_left
from tests.accounts.factories import (
    PractitionerProfileFactory,
    give_verified_email,
    logged_in_client,
)
from tests.audit.factories import verify
from tests.enrollment.factories import (
    PASSWORD,
    enrol_by_post,
    make_beneficiary,
    make_nir,
    submit_code,
)
from tests.records.factories import add_document
from tests.storage_backends import stored_bytes

LAST_NAME = "Quintavalle-Brisebarre"
FIRST_NAME = "Zéphyrine"
STREET = "17 allée des Grives-Musiciennes"
EMAIL = "zephyrine.quintavalle@example.org"
TITLES = ("Échographie hépatique Quintavalle", "Bilan lipidique de contrôle Brisebarre")
CONTENTS = (
    "Glycémie à jeun 1,32 g/L, patiente Quintavalle, contrôle dans trois mois.\n",
    "Cholestérol LDL 1,87 g/L : régime et nouvelle mesure.\n",
)


def dump_database(pg_dump: str) -> bytes:
    db = connection.settings_dict
    return subprocess.run(
        [pg_dump, "--data-only", "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"]]
        + [db["NAME"]],
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
    ).stdout


@pytest.mark.django_db(transaction=True)  # committed, so that pg_dump sees it
def test_a_purged_record_leaves_nothing_that_names_the_person(pg_dump, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    person = make_beneficiary(nir=make_nir(sex="2"), last_name=LAST_NAME, first_name=FIRST_NAME)
    person.address = {**person.address, "lines": [*person.address["lines"][:-1], STREET]}
    person.save()
    patient = enrol_by_post(person)
    identifier = patient.username
    browser = logged_in_client(patient)
    give_verified_email(patient, EMAIL)
    # Their documents: one of their own, one from their doctor, replaced by a new version.
    add_document(patient, title=TITLES[0], content=CONTENTS[0].encode())
    profile = PractitionerProfileFactory.create()
    pro = logged_in_client(profile.user)
    old = stored_document(
        patient, author=profile.user, title=TITLES[1], act_date="2026-02-01", content=b"v1"
    )
    new = stored_document(
        patient, author=profile.user, title=TITLES[1], act_date="2026-02-02",
        content=CONTENTS[1].encode(),
    )  # fmt: skip
    Document.objects.filter(pk=old.pk).update(status="replaced")
    Document.objects.filter(pk=new.pk).update(replaces=old)
    # Consents, requests, look-ups and the history read: the record's life in the trail.
    look_up(pro, person.nir)
    ask_access(pro, person.nir)
    grant(browser, profile.rpps)
    assert browser.get("/access/history/").status_code == 200
    assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 200
    # A new letter asked for by number later (a reactivation), and a wrong code typed.
    Client(REMOTE_ADDR="192.0.2.12").post(
        "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
    )
    submit_code(Client(REMOTE_ADDR="192.0.2.11"), person.nir, "0000-0000-0000")
    assert Consent.objects.filter(patient=patient).exists()
    assert AccessRequest.objects.filter(patient=patient).exists()
    assert ActivationAttempts.objects.filter(nir_index=person.nir_index).exists()
    assert EnrollmentRequest.objects.filter(nir_index=person.nir_index).count() == 2
    letters = list(Letter.objects.filter(subject_uid=person.uid).exclude(pdf_name=""))
    assert len(letters) >= 2  # the creation letter and the opening notice at least

    # What finds the person, in clear or as a keyed hash, and what a backup keeps of them.
    secrets_of_the_person = [
        LAST_NAME,
        FIRST_NAME,
        STREET,
        person.nir,
        EMAIL,
        identifier,
        nir_index(person.nir),
        email_lookup(EMAIL),
        *TITLES,
        *CONTENTS,
        *(letter.reference for letter in letters),
    ]
    forms = [value.encode() for value in secrets_of_the_person]
    dump = dump_database(pg_dump)
    assert nir_index(person.nir).encode() in dump and identifier.encode() in dump  # found now
    stored_names = [d.file_name for d in Document.objects.filter(patient=patient)]
    stored_names += [letter.pdf_name for letter in letters]
    backup = FileSystemStorage(location=tmp_path / "backup")
    for name in stored_names:
        (tmp_path / "backup" / name).parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as stored_file:  # the ciphertext, on either backend
            (tmp_path / "backup" / name).write_bytes(stored_file.read())
    document = Document.objects.select_related("data_key").get(pk=new.pk)
    backed_up_file = (document.file_name, document.file_aad())
    with connection.cursor() as cursor:
        cursor.execute("SELECT nir FROM enrollment_beneficiary WHERE id = %s", [person.pk])
        backed_up_nir = bytes(cursor.fetchone()[0])
    nir_field = Beneficiary._meta.get_field("nir")
    key = DataKey.objects.get(pk=patient.data_key_id)
    assert nir_field.open(Beneficiary(uid=person.uid, data_key=key), backed_up_nir) == person.nir
    read = b"".join(open_decrypted(backup, *backed_up_file[:1], key, backed_up_file[1]))
    assert read == CONTENTS[1].encode()

    assert sum(rows_left(patient).values()) > 10  # many rows name them before the purge
    closure = close_record(patient)
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(f"{closure.archive_until + days(1)} 03:00 +0100"):
        call_command("purge_records", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [f"purged account={patient.pk}", "purged=1 failed=0"]

    # The database, as a backup would read it.
    dump = dump_database(pg_dump)
    assert b"COPY public.access_control_auditevent" in dump
    assert f"patient:{patient.pk}".encode() in dump  # the trail is still there, by its id
    for form in forms:
        assert form not in dump, form
    # The media folder: the person's files are gone, and nothing there names them.
    for name in stored_names:
        assert not default_storage.exists(name), name
    stored = stored_bytes()
    for form in forms:
        assert form not in stored, form
    # The logs and the command's output.
    written = (caplog.text + out.getvalue() + err.getvalue()).encode()
    assert f"account={patient.pk}".encode() in written
    for form in forms:
        assert form not in written, form

    # No row of the tables the purge empties points to the account or its key any more.
    assert set(rows_left(patient).values()) == {0}, rows_left(patient)

    # The key is gone: what a backup kept of the record no longer opens.
    key = DataKey.objects.get(pk=patient.data_key_id)
    assert key.wrapped_key is None and key.destroyed_at is not None
    with pytest.raises(DataDestroyed):
        cipher_for(key)
    assert is_destroyed(nir_field.open(Beneficiary(uid=person.uid, data_key=key), backed_up_nir))
    with pytest.raises(DataDestroyed):
        b"".join(open_decrypted(backup, backed_up_file[0], key, backed_up_file[1]))

    # The trail is intact and says the record was purged, naming the account's id only.
    assert verify()[0] == 0
    [event] = AuditEvent.objects.filter(patient=patient, action=Action.PURGE_RECORD)
    assert event.actor_id is None and event.reason.startswith("command-line:")
    assert RecordClosure.objects.get(patient=patient).purged_at is not None
    assert not User.objects.get(pk=patient.pk).is_active
    login = Client().post("/accounts/login/", {"username": identifier, "password": PASSWORD})
    assert login.status_code == 200  # the form again: the identifier opens nothing
