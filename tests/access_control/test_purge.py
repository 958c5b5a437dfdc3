"""Archive and purge (issue 16, item 5): which records are purged, when, and how often; the
command, its dry run and its refusals, each decided and recorded by the door; the daily task.
The search of a purged person's data in the dump, the media and the logs is in
test_purge_acceptance.py."""

from __future__ import annotations

import io
import threading
import uuid
from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from access_control import policy, purge
from access_control.decisions import DAILY_PURGE, DAILY_REVEAL, CommandLineOperator
from access_control.models import Consent, RecordClosure
from access_control.purge import PurgeRefused, purge_record, purgeable
from access_control.tasks import purge_closed_records
from accounts.models import ContactEmail, TOTPDevice, User
from audit.models import Action, AuditEvent, Outcome
from dmp_portal.celery import app
from dmp_portal.crypto.models import DataKey
from enrollment.models import Beneficiary
from records.models import Document
from tests.access_control.closure_records import close_record, days
from tests.access_control.purge_links import ERASED, KEPT, OTHER_PEOPLE, links_to_people
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    give_verified_email,
)
from tests.audit.factories import verify, with_own_connection
from tests.database_state import changed_tables, database_snapshot
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login
from tests.storage_backends import stored_files

pytestmark = pytest.mark.django_db

ARCHIVE_END = date(2036, 6, 30)


def closed_patient(archive_until: date = ARCHIVE_END) -> User:
    """A patient of the registry with a document, a contact address and a second factor,
    whose record is closed, archived until ``archive_until``."""
    patient, _client = patient_with_login()
    person = make_beneficiary()
    Beneficiary.objects.filter(pk=person.pk).update(patient=patient)
    add_document(patient, title="Compte rendu d'IRM", content=b"Contenu du compte rendu\n")
    give_verified_email(patient, "lea.dupont@example.org")
    close_record(patient, archive_until=archive_until)
    return User.objects.get(pk=patient.pk)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_records", *args, stdout=out)
    return out.getvalue()


def purge_events(patient: User | None, outcome: str = Outcome.ALLOWED) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(patient=patient, action=Action.PURGE_RECORD, outcome=outcome)
    )


def refusals(patient: User | None) -> list[tuple[str, uuid.UUID | None]]:
    """The door's recorded refusals to purge this record (None: the system chain): reason and
    actor of each, oldest first."""
    events = purge_events(patient, Outcome.REFUSED)
    return [(event.reason, event.actor_id) for event in sorted(events, key=lambda e: e.pk)]


def test_the_last_archive_day_is_kept_and_the_day_after_is_purged():
    last_day = closed_patient(archive_until=ARCHIVE_END)
    ended = closed_patient(archive_until=ARCHIVE_END - days(1))
    purged = closed_patient(archive_until=ARCHIVE_END - days(1))
    RecordClosure.objects.filter(patient=purged).update(purged_at=timezone.now())
    assert [c.patient_id for c in purgeable(ARCHIVE_END)] == [ended.pk]
    assert {c.patient_id for c in purgeable(ARCHIVE_END + days(1))} == {last_day.pk, ended.pk}

    # The same boundary through the command, on the days themselves (Paris time).
    with time_machine.travel(f"{ARCHIVE_END} 23:30 +0200", tick=False):
        assert f"account={last_day.pk}" not in run()
    assert RecordClosure.objects.get(patient=last_day).purged_at is None
    assert RecordClosure.objects.get(patient=ended).purged_at is not None
    with time_machine.travel(f"{ARCHIVE_END + days(1)} 00:30 +0200", tick=False):
        assert f"purged account={last_day.pk}" in run()
    assert RecordClosure.objects.get(patient=last_day).purged_at is not None


def test_a_record_that_is_not_closed_is_never_purgeable():
    patient, _client = patient_with_login()
    assert not purgeable(ARCHIVE_END + days(1)).filter(patient=patient).exists()
    with pytest.raises(PurgeRefused, match="Aucun dossier clos"):
        purge_record(patient.pk, today=ARCHIVE_END + days(1))
    # The door refused it, and its refusal is recorded on the person's chain, committed.
    assert refusals(patient) == [("not-closed:daily-purge", None)]
    assert purge_events(patient) == []


def test_the_dry_run_lists_ids_and_dates_and_changes_nothing():
    patient = closed_patient(archive_until=date(2026, 1, 31))
    username = patient.username
    before = database_snapshot()
    events = AuditEvent.objects.count()
    files = stored_files()
    output = run("--dry-run")
    closed = timezone.localdate(RecordClosure.objects.get(patient=patient).closed_at)
    assert f"would_purge account={patient.pk} closed={closed} archive_until=2026-01-31" in output
    assert "would_purge=1" in output
    assert username not in output and "Dupont" not in output
    assert changed_tables(before, database_snapshot()) == set()
    assert AuditEvent.objects.count() == events
    assert stored_files() == files
    # One record by its account id, dry: the same line, and still nothing changes.
    assert f"would_purge account={patient.pk}" in run("--dry-run", "--account", str(patient.pk))
    assert changed_tables(before, database_snapshot()) == set()


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_record_within_its_archive_period_is_refused_even_by_id(dry_run):
    patient = closed_patient(archive_until=timezone.localdate())  # its last archive day
    before = database_snapshot()
    events = AuditEvent.objects.count()
    args = ["--account", str(patient.pk)] + (["--dry-run"] if dry_run else [])
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert refused.value.returncode != 0
    last_day = timezone.localdate()
    assert str(refused.value) == (
        f"Ce dossier est conservé en archive jusqu'au {last_day:%d/%m/%Y} : il ne peut pas "
        f"être purgé avant le {last_day + days(1):%d/%m/%Y}."
    )
    assert changed_tables(before, database_snapshot()) == set()
    # Nothing changed but the trail: the door's refusal, with why and who asked, dry or not.
    assert AuditEvent.objects.count() == events + 1
    [(reason, actor)] = refusals(patient)
    assert reason.startswith("within-archive-period:command-line:") and actor is None
    # The domain refuses it too, whoever asks: there is no way to force it.
    with pytest.raises(PurgeRefused):
        purge_record(patient.pk)
    assert refusals(patient)[1:] == [("within-archive-period:daily-purge", None)]
    assert DataKey.objects.get(pk=patient.data_key_id).destroyed_at is None
    assert purge_events(patient) == []
    assert verify()[0] == 0


def test_bad_account_ids_are_refused_in_french_and_change_nothing():
    patient, _client = patient_with_login()  # not closed
    before = database_snapshot()
    with pytest.raises(CommandError, match="Identifiant de compte invalide : un UUID est attendu"):
        run("--account", "Dupont")
    assert AuditEvent.objects.filter(action=Action.PURGE_RECORD).count() == 0  # not asked
    with pytest.raises(CommandError, match="Aucun dossier clos n'appartient à ce compte"):
        run("--account", str(patient.pk))
    [(reason, _actor)] = refusals(patient)
    assert reason.startswith("not-closed:command-line:")
    # An id that is no one's account: the same answer, the refusal on the system chain.
    nobody = uuid.uuid4()
    with pytest.raises(CommandError, match="Aucun dossier clos n'appartient à ce compte"):
        run("--account", str(nobody))
    [(reason, _actor)] = refusals(None)
    assert reason.startswith("no-such-record:command-line:")
    assert str(nobody) not in reason
    assert changed_tables(before, database_snapshot()) == set()


def test_one_record_by_id_once_its_archive_ended_and_the_event_names_the_operator():
    patient = closed_patient(archive_until=timezone.localdate() - days(1))
    other = closed_patient(archive_until=timezone.localdate() - days(1))
    assert run("--account", str(patient.pk)).strip() == f"purged account={patient.pk}"
    assert RecordClosure.objects.get(patient=other).purged_at is None  # only the one asked
    [event] = purge_events(patient)
    assert event.actor_id is None and event.reason.startswith("command-line:")
    assert event.chain.key == f"patient:{patient.pk}"
    assert run("--account", str(patient.pk)).strip() == "Ce dossier a déjà été purgé."
    assert len(purge_events(patient)) == 1


def test_the_purge_shreds_the_key_deletes_files_and_disables_the_account():
    patient = closed_patient(archive_until=timezone.localdate() - days(1))
    [document] = Document.objects.filter(patient=patient)
    assert default_storage.exists(document.file_name)
    assert purge_record(patient.pk) is True
    assert DataKey.objects.get(pk=patient.data_key_id).wrapped_key is None
    assert not default_storage.exists(document.file_name)
    assert not Document.objects.filter(patient=patient).exists()
    assert not Beneficiary.objects.filter(patient=patient).exists()
    assert not ContactEmail.objects.filter(user=patient).exists()
    assert not TOTPDevice.objects.filter(user=patient).exists()
    account = User.objects.get(pk=patient.pk)
    assert account.username.startswith("purged-") and account.username != patient.username
    assert not account.is_active and not account.has_usable_password() and account.email == ""
    assert verify()[0] == 0


def test_a_rerun_purges_nothing_more_and_an_interrupted_purge_resumes(monkeypatch, caplog):
    patient = closed_patient(archive_until=timezone.localdate() - days(1))
    [document] = Document.objects.filter(patient=patient)

    def fail(_patient):
        raise RuntimeError("interrupted while writing Dupont")

    # Interrupted after the key and the files went, before the rows: nothing is marked purged,
    # no event is written, and the record is still due.
    monkeypatch.setattr(purge, "_disable_account", fail)
    out = io.StringIO()
    with pytest.raises(CommandError, match="Dossiers non purgés : 1"):
        call_command("purge_records", stdout=out)
    assert out.getvalue().strip() == "purged=0 failed=1"
    # The log names the account and the kind of error, never the error's text.
    assert f"purge failed account={patient.pk} error=RuntimeError" in caplog.text
    assert "Dupont" not in caplog.text
    assert DataKey.objects.get(pk=patient.data_key_id).destroyed_at is not None
    assert not default_storage.exists(document.file_name)
    assert RecordClosure.objects.get(patient=patient).purged_at is None
    assert purge_events(patient) == []
    assert Document.objects.filter(patient=patient).exists()
    destroyed_at = DataKey.objects.get(pk=patient.data_key_id).destroyed_at

    monkeypatch.undo()
    assert f"purged account={patient.pk}" in run()
    assert not Document.objects.filter(patient=patient).exists()
    assert len(purge_events(patient)) == 1
    # The key destroyed by the first run was not destroyed again.
    assert DataKey.objects.get(pk=patient.data_key_id).destroyed_at == destroyed_at

    before = database_snapshot()
    assert run().strip() == "purged=0 failed=0"
    assert purge_record(patient.pk) is False
    assert changed_tables(before, database_snapshot()) == set()
    assert len(purge_events(patient)) == 1
    assert verify()[0] == 0


def test_the_daily_task_purges_with_no_actor_and_is_scheduled():
    patient = closed_patient(archive_until=timezone.localdate() - days(1))
    kept = closed_patient(archive_until=timezone.localdate())
    assert purge_closed_records.delay().get() == 1
    [event] = purge_events(patient)
    assert event.actor_id is None and event.reason == "daily-purge"
    assert RecordClosure.objects.get(patient=kept).purged_at is None
    entry = settings.CELERY_BEAT_SCHEDULE["purge-closed-records"]
    assert entry["task"] == "access_control.tasks.purge_closed_records"
    assert entry["schedule"] == 24 * 3600
    assert not entry.get("args") and not entry.get("kwargs")
    assert entry["task"] in app.tasks


def test_the_old_login_no_longer_opens_anything(client):
    patient = closed_patient(archive_until=timezone.localdate() - days(1))
    purge_record(patient.pk)
    response = client.post("/accounts/login/", {"username": patient.username, "password": PASSWORD})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session


def test_every_link_to_a_person_is_classified_for_the_purge():
    """A new foreign key to an account or a data key fails here until its purge is decided."""
    found = {label for label, _model, _field in links_to_people()}
    assert found == ERASED | KEPT | OTHER_PEOPLE
    assert not (ERASED & KEPT or ERASED & OTHER_PEOPLE or KEPT & OTHER_PEOPLE)


@pytest.mark.django_db(transaction=True)  # each thread commits on its own connection
def test_two_purges_at_once_purge_once():
    patient = closed_patient(archive_until=timezone.localdate() - days(1))
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def purge_it() -> None:
        barrier.wait()
        results.append(purge_record(patient.pk))

    threads = [threading.Thread(target=with_own_connection, args=(purge_it,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False, True]
    assert len(purge_events(patient)) == 1
    assert verify()[0] == 0


def test_only_the_operator_and_the_daily_purge_may_purge_and_only_a_record_past_its_archive():
    """The rule is the door's (``policy.decide``): anyone else is refused, the patient, staff
    and a practitioner they consented to included, whatever the record's state."""
    due = closed_patient(archive_until=timezone.localdate() - days(1))
    kept = closed_patient(archive_until=timezone.localdate())
    open_record, _client = patient_with_login()
    operator = CommandLineOperator("ops")
    [document] = Document.objects.filter(patient=due)
    assert policy.decide(operator, due, Action.PURGE_RECORD).reason == "command-line:ops"
    assert policy.decide(DAILY_PURGE, due, Action.PURGE_RECORD).reason == "daily-purge"
    assert policy.decide(operator, kept, Action.PURGE_RECORD).reason == (
        "within-archive-period:command-line:ops"
    )
    assert policy.decide(DAILY_PURGE, open_record, Action.PURGE_RECORD).reason == (
        "not-closed:daily-purge"
    )
    assert policy.decide(operator, None, Action.PURGE_RECORD).reason == (
        "no-such-record:command-line:ops"
    )
    # Allowed for a record only, never for one of its documents; the other daily task and the
    # operator have nothing else of the record either.
    assert not policy.decide(operator, due, Action.PURGE_RECORD, document).allowed
    assert not policy.decide(DAILY_REVEAL, due, Action.PURGE_RECORD).allowed
    assert not policy.decide(DAILY_PURGE, due, Action.EXPORT_LETTER).allowed
    assert not policy.decide(operator, due, Action.VIEW).allowed
    # Everyone else, on a record due or not, open or closed.
    practitioner = PractitionerProfileFactory().user
    Consent.objects.create(patient=open_record, practitioner=practitioner)
    for patient in (due, kept, open_record):
        for actor in (patient, StaffFactory(), practitioner, None):
            decision = policy.decide(actor, patient, Action.PURGE_RECORD)
            assert not decision.allowed, (actor, patient, decision)


def test_the_patient_sees_a_refused_early_purge_in_their_history():
    """A closed record is still the patient's to read, its history included: an attempt to
    purge it within its archive period is one more refused line there, by the system."""
    patient, client = patient_with_login()
    close_record(patient, archive_until=timezone.localdate())
    with pytest.raises(CommandError):
        run("--account", str(patient.pk))
    page = client.get("/access/history/")
    assert page.status_code == 200
    [row] = [row for row in page.content.decode().split("<tr") if "Destruction du dossier" in row]
    assert "Refusé" in row and "Système ou personne non identifiée" in row
