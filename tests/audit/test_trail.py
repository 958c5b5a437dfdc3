"""The audit trail: chains, the append-only trigger, verify_audit and concurrent writers."""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test import override_settings

from accounts.models import UserKind
from audit.models import GENESIS_MAC, Action, AuditChain, AuditEvent, Mode, Outcome
from audit.trail import record_event
from dmp_portal.crypto.hashing import reset_hash_keys
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    logged_in_client,
)
from tests.audit.factories import (
    bypassing_the_trigger,
    chain_of,
    record,
    verify,
    with_own_connection,
)

HEX = set("0123456789abcdef")


# --- Writing --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_patient_has_a_gapless_chain_and_patientless_events_go_to_the_system_chain():
    first, second = UserFactory(), UserFactory()
    for patient in (first, second, first, first, second):
        record(patient)
    with transaction.atomic():
        lookup = record_event(
            actor=None,
            patient=None,
            action=Action.LOOKUP,
            outcome=Outcome.REFUSED,
            reason="unknown",
        )

    for patient, count in ((first, 3), (second, 2)):
        events = chain_of(patient)
        assert [e.sequence for e in events] == list(range(1, count + 1))
        assert events[0].previous_mac == GENESIS_MAC
        assert [e.previous_mac for e in events[1:]] == [e.mac for e in events[:-1]]
        assert {e.patient_id for e in events} == {patient.pk}
        head = AuditChain.objects.get(key=f"patient:{patient.pk}")
        assert head.patient_id == patient.pk
        assert (head.last_sequence, head.last_mac) == (count, events[-1].mac)
    assert lookup.chain.key == "system"
    assert lookup.chain.patient_id is None
    assert (lookup.sequence, lookup.previous_mac) == (1, GENESIS_MAC)
    macs = list(AuditEvent.objects.values_list("mac", flat=True))
    assert len(set(macs)) == 6
    assert all(len(mac) == 64 and set(mac) <= HEX for mac in macs)


@pytest.mark.django_db
def test_an_event_records_who_with_role_and_rpps_what_and_where():
    patient = UserFactory()
    profile = PractitionerProfileFactory()
    document = uuid.uuid4()
    record(
        patient,
        actor=profile.user,
        action=Action.DOWNLOAD,
        mode=Mode.EMERGENCY,
        document_uid=document,
        client_address="::ffff:192.0.2.7",
    )
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.actor_role, event.actor_rpps) == (
        profile.user.pk,
        UserKind.PRACTITIONER,
        profile.rpps,
    )
    assert (event.patient_id, event.document_uid) == (patient.pk, document)
    assert (event.action, event.outcome, event.mode) == ("download", "allowed", "emergency")
    assert event.client_address == "192.0.2.7"  # an IPv4 client seen through an IPv6 socket
    assert event.occurred_at.utcoffset() == timedelta(0)

    staff = StaffFactory()
    record(patient, actor=staff, action=Action.LIST, client_address="2001:DB8:0:0::1")
    with transaction.atomic():
        anonymous = record_event(
            actor=None, patient=None, action=Action.LOGIN, outcome=Outcome.REFUSED
        )
    by_staff = chain_of(patient)[1]
    assert (by_staff.actor_role, by_staff.actor_rpps) == ("staff", "")
    assert by_staff.client_address == "2001:db8::1"
    assert (anonymous.actor_id, anonymous.actor_role, anonymous.client_address) == (
        None,
        "anonymous",
        None,
    )
    assert verify()[0] == 0


@pytest.mark.django_db
def test_an_event_rolled_back_with_its_read_leaves_no_event_and_no_gap():
    patient, newcomer = UserFactory(), UserFactory()
    record(patient)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=patient, patient=patient, action=Action.VIEW, outcome=Outcome.ALLOWED)
        record_event(actor=newcomer, patient=newcomer, action=Action.LIST, outcome="allowed")
        raise RuntimeError("the read failed after the event was written")

    assert [e.sequence for e in chain_of(patient)] == [1]
    assert AuditChain.objects.get(key=f"patient:{patient.pk}").last_sequence == 1
    assert not AuditChain.objects.filter(key=f"patient:{newcomer.pk}").exists()
    assert record(patient).sequence == 2
    assert record(newcomer).sequence == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"action": "read"},
        {"outcome": "maybe"},
        {"mode": "urgent"},
        {"reason": "x" * 65},
    ],
)
def test_malformed_values_are_refused_and_nothing_is_written(fields):
    patient = UserFactory()
    with pytest.raises(ValueError):
        record(patient, **fields)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "stored"),
    [("not-an-address", None), ("198.51.100.1, 10.0.0.1", None), ("fe80::1%eth0", "fe80::1")],
)
def test_a_bad_client_address_is_stored_as_unknown_and_the_access_still_recorded(given, stored):
    """The address comes from the request: a forged one must not leave an access unrecorded."""
    patient = UserFactory()
    record(patient, client_address=given)
    assert AuditEvent.objects.get().client_address == stored
    assert verify()[0] == 0


@pytest.mark.django_db
def test_the_patient_of_an_event_must_be_a_patient_account():
    practitioner = PractitionerProfileFactory().user
    with pytest.raises(ValueError, match="patient account"):
        record(practitioner)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_refused():
    patient = UserFactory()
    with pytest.raises(TransactionManagementError, match="transaction.atomic"):
        record_event(actor=patient, patient=patient, action=Action.VIEW, outcome=Outcome.ALLOWED)
    assert not AuditEvent.objects.exists()
    assert not AuditChain.objects.exists()


# --- Append-only ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_models_refuse_to_change_or_delete_an_event():
    event = record(UserFactory())
    event.reason = "changed"
    for attempt in (
        event.save,
        event.delete,
        lambda: AuditEvent.objects.filter(pk=event.pk).update(reason="changed"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(TypeError, match="append-only"):
            attempt()
    event.refresh_from_db()
    assert event.reason == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_control_auditevent SET reason = 'changed' WHERE id = %s",
        "DELETE FROM access_control_auditevent WHERE id = %s",
    ],
)
def test_the_trigger_refuses_update_and_delete_even_in_maintenance(statement):
    event = record(UserFactory())
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL dmp.audit_maintenance = 'on'")
        cursor.execute(statement, [event.pk])
    event.refresh_from_db()
    assert event.reason == ""


# Committed rows: PostgreSQL refuses TRUNCATE while the transaction has pending FK checks.
@pytest.mark.django_db(transaction=True)
def test_the_trigger_refuses_truncate_outside_maintenance():
    record(UserFactory())
    refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL dmp.audit_maintenance = 'off'")
        cursor.execute("TRUNCATE access_control_auditevent")
    assert AuditEvent.objects.count() == 1


# Committed rows: PostgreSQL refuses TRUNCATE while the transaction has pending FK checks.
@pytest.mark.django_db(transaction=True)
def test_the_maintenance_escape_is_for_superusers_only():
    """The portal's role (never a superuser) cannot empty the trail, even naming the setting."""
    record(UserFactory())
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS audit_test_app")
        cursor.execute("CREATE ROLE audit_test_app NOSUPERUSER")
        cursor.execute("GRANT ALL ON access_control_auditevent TO audit_test_app")
    try:
        refused = pytest.raises(DatabaseError, match="append-only: TRUNCATE refused")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE audit_test_app")
            cursor.execute("SET LOCAL dmp.audit_maintenance = 'on'")
            cursor.execute("TRUNCATE access_control_auditevent")
        assert AuditEvent.objects.count() == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("REVOKE ALL ON access_control_auditevent FROM audit_test_app")
            cursor.execute("DROP ROLE audit_test_app")


# --- verify_audit ---------------------------------------------------------------------------


@pytest.fixture
def trail(db):
    """Five events of one patient, three of another, two on the system chain."""
    first, second = UserFactory(), UserFactory()
    doctor = PractitionerProfileFactory().user
    for _ in range(5):
        record(first, actor=doctor, client_address="198.51.100.4")
    for _ in range(3):
        record(second, document_uid=uuid.uuid4())
    for _ in range(2):
        with transaction.atomic():
            record_event(actor=None, patient=None, action=Action.LOGIN, outcome=Outcome.REFUSED)
    return {"patient": first, "events": chain_of(first), "key": f"patient:{first.pk}"}


def test_verify_audit_passes_an_intact_trail(trail):
    assert verify() == (0, "ok chains=3 events=10 checkpoints=0 last_checkpoint=0\n", "")


def test_verify_audit_names_an_edited_event(trail):
    edited = trail["events"][2]
    with bypassing_the_trigger() as cursor:
        cursor.execute(
            "UPDATE access_control_auditevent SET outcome = 'refused' WHERE id = %s", [edited.pk]
        )
    code, out, err = verify()
    assert code == 1
    assert out == ""
    assert err.splitlines()[0] == (
        f"broken chain={trail['key']} sequence=3 event={edited.pk} edited: "
        "its MAC does not match its fields"
    )
    assert len(err.splitlines()) == 1  # the other chains are intact


def test_verify_audit_names_the_first_of_several_edited_events(trail):
    with bypassing_the_trigger() as cursor:
        for event in (trail["events"][3], trail["events"][1]):
            cursor.execute(
                "UPDATE access_control_auditevent SET client_address = '203.0.113.9' WHERE id = %s",
                [event.pk],
            )
    code, _, err = verify()
    assert code == 1
    assert f"sequence=2 event={trail['events'][1].pk} edited" in err


def test_verify_audit_catches_a_mac_recomputed_without_the_key(trail):
    """A forger who rewrites an event and its MAC cannot make it verify without the key."""
    forged = trail["events"][1]
    with bypassing_the_trigger() as cursor:
        cursor.execute(
            "UPDATE access_control_auditevent SET actor_rpps = '', mac = encode(sha256("
            "convert_to(previous_mac || 'forged', 'UTF8')), 'hex') WHERE id = %s",
            [forged.pk],
        )
    code, _, err = verify()
    assert code == 1
    assert f"chain={trail['key']} sequence=2 event={forged.pk} edited" in err


def test_verify_audit_names_a_deleted_event_in_the_middle(trail):
    deleted, following = trail["events"][2], trail["events"][3]
    with bypassing_the_trigger() as cursor:
        cursor.execute("DELETE FROM access_control_auditevent WHERE id = %s", [deleted.pk])
    code, _, err = verify()
    assert code == 1
    assert err.splitlines()[0] == (
        f"broken chain={trail['key']} sequence=3 event=- missing: sequence 3 absent; "
        f"the next event is sequence 4 (event {following.pk})"
    )


def test_verify_audit_names_a_deleted_last_event(trail):
    deleted, remaining = trail["events"][4], trail["events"][3]
    with bypassing_the_trigger() as cursor:
        cursor.execute("DELETE FROM access_control_auditevent WHERE id = %s", [deleted.pk])
    code, _, err = verify()
    assert code == 1
    assert err.splitlines()[0] == (
        f"broken chain={trail['key']} sequence=5 event=- missing: sequence 5 absent: the chain "
        f"head records 5 events, the last is event {remaining.pk}"
    )


def test_verify_audit_names_a_reordered_pair(trail):
    second, third = trail["events"][1], trail["events"][2]
    with bypassing_the_trigger() as cursor:
        swap = "UPDATE access_control_auditevent SET sequence = %s WHERE id = %s"
        cursor.execute(swap, [1000, second.pk])  # (chain, sequence) is unique
        cursor.execute(swap, [2, third.pk])
        cursor.execute(swap, [3, second.pk])
    code, _, err = verify()
    assert code == 1
    assert err.splitlines()[0] == (
        f"broken chain={trail['key']} sequence=2 event={third.pk} reordered: "
        "it was written as sequence 3"
    )


def test_verify_audit_catches_a_chain_head_that_was_tampered_with(trail):
    with connection.cursor() as cursor:  # heads are updated by design: no trigger there
        cursor.execute(
            "UPDATE access_control_auditchain SET last_mac = %s WHERE key = %s",
            ["f" * 64, trail["key"]],
        )
    code, _, err = verify()
    assert code == 1
    assert f"chain={trail['key']} sequence=5 event={trail['events'][4].pk} head mismatch" in err


def test_verify_audit_depends_on_a_key_outside_the_database(trail):
    other_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    reset_hash_keys()
    try:
        with override_settings(DMP_BLIND_INDEX_KEY=other_key):
            code, _, err = verify()
    finally:
        reset_hash_keys()
    assert code == 1
    assert len(err.splitlines()) == 3  # every chain fails under another key
    assert verify()[0] == 0


# --- Concurrent writers (each thread has its own database connection) ----------------------


def run_threads(count: int, work) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body(index: int) -> None:
        try:
            start.wait(timeout=30)
            work(index)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_one_chain_keep_it_gapless_and_intact():
    patient = UserFactory()
    doctors = [PractitionerProfileFactory().user for _ in range(8)]

    def work(index: int) -> None:
        for _ in range(25):
            record(patient, actor=doctors[index])

    run_threads(8, work)  # the chain does not exist yet: its creation races too
    assert [e.sequence for e in chain_of(patient)] == list(range(1, 201))
    assert AuditChain.objects.get().last_sequence == 200
    assert verify() == (0, "ok chains=1 events=200 checkpoints=0 last_checkpoint=0\n", "")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_different_chains_stay_correct():
    patients = [UserFactory() for _ in range(4)]

    def work(index: int) -> None:
        for _ in range(25):
            record(patients[index])

    run_threads(4, work)
    for patient in patients:
        assert [e.sequence for e in chain_of(patient)] == list(range(1, 26))
    assert verify() == (0, "ok chains=4 events=100 checkpoints=0 last_checkpoint=0\n", "")


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_blocked(waiter, holder: int, timeout: float = 30.0) -> bool:
    """Poll PostgreSQL until the backend ``waiter()`` names (None: not connected yet) waits for
    a lock that backend ``holder`` holds (bounded: False once ``timeout`` has passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = waiter()
        if pid is None:
            time.sleep(0.02)
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT %s = ANY(pg_blocking_pids(%s)) AND EXISTS ("
                "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)",
                [holder, pid, pid],
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


@pytest.mark.django_db(transaction=True)
def test_an_open_read_locks_only_its_own_patients_chain() -> None:
    first, second = UserFactory.create(), UserFactory.create()
    record(first)  # the chains exist: what is tested is the lock on the head, not its creation
    record(second)
    holding, release = threading.Event(), threading.Event()
    done = {"second": threading.Event(), "first again": threading.Event()}
    pids: dict[str, int] = {}

    def hold_first() -> None:
        pids["holder"] = backend_pid()
        with transaction.atomic():
            record_event(actor=first, patient=first, action=Action.VIEW, outcome="allowed")
            holding.set()
            release.wait(timeout=60)  # the read goes on, its transaction still open

    def write(patient, name: str) -> None:
        pids[name] = backend_pid()
        record(patient)
        done[name].set()

    threads = [threading.Thread(target=with_own_connection, args=(hold_first,))]
    threads[0].start()
    try:
        assert holding.wait(timeout=30)
        for patient, name in ((second, "second"), (first, "first again")):
            thread = threading.Thread(target=with_own_connection, args=(write, patient, name))
            threads.append(thread)
            thread.start()
        # Another patient's event commits while the first chain is locked...
        assert done["second"].wait(timeout=30)
        # ...but the first patient's next event waits, in PostgreSQL, for the open transaction
        # (seen in pg_locks: a thread that had not started yet, or wrote without waiting,
        # would not be found waiting there).
        assert wait_until_blocked(lambda: pids.get("first again"), pids["holder"])
        assert not done["first again"].is_set()
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=60)
    assert done["first again"].is_set()
    assert [e.sequence for e in chain_of(first)] == [1, 2, 3]
    assert [e.sequence for e in chain_of(second)] == [1, 2]


# --- Admin ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_lists_events_read_only():
    patient = UserFactory()
    event = record(patient, action=Action.HIDE, reason="by-owner")
    staff = StaffFactory()
    client = logged_in_client(staff)

    listing = client.get("/admin/audit/auditevent/")
    assert listing.status_code == 200
    # The event is shown, never whose record it is about (tests/test_admin_filters.py).
    assert f"patient:{patient.pk}" not in listing.content.decode()
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert "by-owner" in page.content.decode()
    assert event.mac not in page.content.decode() and str(patient.pk) not in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    deletion = client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert deletion.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_the_application_an_event_names_is_sealed_by_its_mac():
    """Issue 19: an event of the FHIR API names its OAuth2 application; erasing that name (or
    naming another) breaks the chain, as editing any other field does."""
    patient = UserFactory()
    with transaction.atomic():
        event = record_event(
            actor=None,
            patient=patient,
            action=Action.LIST,
            outcome=Outcome.REFUSED,
            application="cabinet-soft",
        )
    record(patient)
    assert AuditEvent.objects.get(pk=event.pk).application == "cabinet-soft"
    assert verify()[0] == 0
    with bypassing_the_trigger() as cursor:
        cursor.execute(
            "UPDATE access_control_auditevent SET application = '' WHERE id = %s", [event.pk]
        )
    code, _, err = verify()
    assert code == 1
    assert f"sequence=1 event={event.pk} edited" in err
