"""The audit writer: one call appends one event to its chain, in the caller's transaction.

Each event carries a MAC over the previous event's MAC and its own fields, keyed by a key that is
not in the database (``dmp_portal.crypto.hashing``, derived from ``DMP_BLIND_INDEX_KEY``). Someone
who can write to the database can still delete or edit rows, but cannot recompute the MACs, so
``verify_audit`` notices. The serialisation below is the contract between the writer and the
verifier: change it only with a new version tag, and keep verifying the old one.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import User, UserKind
from audit.models import (
    ANONYMOUS_ROLE,
    SYSTEM_CHAIN_KEY,
    Action,
    AuditChain,
    AuditEvent,
    Mode,
    Outcome,
    patient_chain_key,
    registry_chain_key,
)
from dmp_portal.crypto.hashing import keyed_hash
from dmp_portal.metrics import AUDIT_EVENTS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

__all__ = [
    "compute_mac",
    "normalise_address",
    "record_event",
]

MAC_PURPOSE = "audit-chain"
FORMAT_VERSION = 1


def normalise_address(value: str | None) -> str | None:
    """One spelling per address, so that what PostgreSQL's inet gives back hashes the same.

    An IPv4 address seen through an IPv6 socket (``::ffff:192.0.2.1``) is stored as IPv4, an
    IPv6 zone (``%eth0``) is dropped. Anything that is not an address (a forged or misconfigured
    X-Forwarded-For) is stored as unknown: refusing it would leave the access unrecorded.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(event: AuditEvent, chain_key: str, *, sequence: int | None = None) -> str:
    """The event's fields as one unambiguous string (JSON, sorted keys, no spaces).

    Every value is normalised from either its Python or its database form (UUID objects or text,
    inet text, aware datetimes in any zone), so that the writer and the verifier agree.
    """
    fields = {
        "v": FORMAT_VERSION,
        "chain": chain_key,
        "sequence": int(event.sequence if sequence is None else sequence),
        "occurred_at": _utc_iso(event.occurred_at),
        "actor": _text_or_none(event.actor_id),
        "actor_role": event.actor_role,
        "actor_rpps": event.actor_rpps,
        "patient": _text_or_none(event.patient_id),
        "document": None if event.document_uid is None else str(uuid.UUID(str(event.document_uid))),
        "action": str(event.action),
        "outcome": str(event.outcome),
        "mode": str(event.mode),
        "reason": event.reason,
        "client_address": normalise_address(event.client_address),
    }
    # Added by issue 19 and only when set: the events written before it keep their MAC.
    if event.application:
        fields["application"] = event.application
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_mac(event: AuditEvent, chain_key: str, *, sequence: int | None = None) -> str:
    """HMAC-SHA256 over the previous MAC and the event; ``sequence`` overrides the stored one
    (the verifier uses it to tell a moved event from an edited one)."""
    return keyed_hash(
        MAC_PURPOSE, event.previous_mac + "|" + canonical(event, chain_key, sequence=sequence)
    )


def _choice(value: str, choices: type, name: str) -> str:
    try:
        return choices(value).value
    except ValueError:
        raise ValueError(f"unknown audit {name}: {value!r}") from None


def _chain_key(patient: User | None, registry_id: int | None) -> str:
    if patient is not None:
        return patient_chain_key(patient.pk)
    if registry_id is not None:
        return registry_chain_key(int(registry_id))
    return SYSTEM_CHAIN_KEY


def _lock_chain(patient: User | None, registry_id: int | None = None) -> AuditChain:
    """The chain's head row, locked until the caller's transaction ends (created if needed)."""
    key = _chain_key(patient, registry_id)
    head = _locked_head(key)
    if head is not None:
        return head
    # INSERT ... ON CONFLICT DO NOTHING: when two first events of a chain race, the second
    # insert waits for the first transaction and then does nothing; no error, no savepoint.
    AuditChain.objects.bulk_create([AuditChain(key=key, patient=patient)], ignore_conflicts=True)
    return AuditChain.objects.select_for_update().get(key=key)


# The head's lock, written once (issue 20): every audited read runs it, and the ORM's building
# of the same SELECT ... FOR UPDATE (a QuerySet, its compiler, get()'s LIMIT) cost about as much
# as the round trip itself (timed in turns in one process on testenv's PostgreSQL).
_LOCK_HEAD_COLUMNS = ("id", "key", "patient_id", "last_sequence", "last_mac")
_LOCK_HEAD_SQL = (
    'SELECT "id", "key", "patient_id", "last_sequence", "last_mac"'
    ' FROM "access_control_auditchain" WHERE "key" = %s FOR UPDATE'
)


def _locked_head(key: str) -> AuditChain | None:
    """The chain's head, locked until the transaction ends; None if the chain has none yet."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        # The development SQLite database locks the whole file on write: no FOR UPDATE there.
        return AuditChain.objects.select_for_update().filter(key=key).first()
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_HEAD_SQL, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    return AuditChain.from_db(connection.alias, list(_LOCK_HEAD_COLUMNS), row)


# The event and the chain's new head in one statement, one round trip (issue 20, item 3): the
# head moves only from the sequence read under the lock (a guard: zero rows otherwise), and the
# event is inserted from the head's RETURNING, so that both or neither are written. Plain INSERT
# and UPDATE, so the append-only trigger and the grants (INSERT on events, UPDATE on heads) hold.
# The casts name the column types, as the values of an INSERT ... SELECT have none of their own.
_APPEND_SQL = """
WITH head AS (
    UPDATE access_control_auditchain SET last_sequence = %s, last_mac = %s
    WHERE id = %s AND last_sequence = %s
    RETURNING id
)
INSERT INTO access_control_auditevent (
    chain_id, sequence, occurred_at, actor_id, actor_role, actor_rpps, patient_id, document_uid,
    action, outcome, mode, reason, client_address, application, previous_mac, mac
)
SELECT head.id, %s::bigint, %s::timestamptz, %s::uuid, %s::varchar, %s::varchar, %s::uuid,
    %s::uuid, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::inet, %s::varchar,
    %s::varchar, %s::varchar
FROM head
RETURNING id
"""


def _append(event: AuditEvent, chain: AuditChain) -> None:
    """Write ``event`` and move ``chain``'s head to it, in the caller's transaction."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        # The development SQLite database has no data-modifying WITH: two statements.
        event.save()
        AuditChain.objects.filter(pk=chain.pk).update(
            last_sequence=event.sequence, last_mac=event.mac
        )
        return
    params = [
        event.sequence,
        event.mac,
        chain.pk,
        chain.last_sequence,
        event.sequence,
        event.occurred_at,
        event.actor_id,
        event.actor_role,
        event.actor_rpps,
        event.patient_id,
        event.document_uid,
        event.action,
        event.outcome,
        event.mode,
        event.reason,
        event.client_address,
        event.application,
        event.previous_mac,
        event.mac,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, params)
        row = cursor.fetchone()
    if row is None:
        # Cannot happen while the head is locked: refuse rather than write a forked chain.
        raise DatabaseError(f"audit chain {chain.pk} moved while locked")
    event.pk = row[0]
    # Loaded from the database from now on: a later save() is refused as an edit.
    event._state.adding = False
    event._state.db = connection.alias


def record_event(
    *,
    actor: User | AnonymousUser | None,
    patient: User | None,
    action: str,
    outcome: str,
    mode: str = Mode.NORMAL,
    document_uid: uuid.UUID | None = None,
    reason: str = "",
    client_address: str = "",
    registry_id: int | None = None,
    application: str = "",
) -> AuditEvent:
    """Append one event to the patient's chain; without a patient, to the chain of the registry
    person ``registry_id`` (a person with no record yet), else to the system chain.

    Must run inside ``transaction.atomic()``: the event commits with the read it records, or
    neither does. The chain's head stays locked until that transaction ends, so call this late
    in the transaction (after any slow work), and record events of one chain per transaction, or
    of several chains always in the same order, to avoid deadlocks between writers. Needs the
    default READ COMMITTED isolation.

    ``actor`` may be None or an anonymous user. A value that is not one of the choices, a reason
    over 64 characters or a patient that is not a patient account raise ValueError: those are
    programming errors, whereas a bad client address comes from outside and is stored as unknown.
    """
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(
            "record_event must be called inside transaction.atomic(), so that the event commits "
            "together with the access it records."
        )
    action = _choice(action, Action, "action")
    outcome = _choice(outcome, Outcome, "outcome")
    mode = _choice(mode, Mode, "mode")
    if len(reason) > 64:
        raise ValueError("an audit reason is a short code (64 characters at most)")
    if patient is not None and patient.kind != UserKind.PATIENT:
        raise ValueError("the patient of an audit event must be a patient account")
    # request.user of an anonymous visitor is no one (a User is always authenticated).
    user = actor if isinstance(actor, User) else None
    actor_role, actor_rpps = ANONYMOUS_ROLE, ""
    if user is not None:
        actor_role = user.kind
        if user.kind == UserKind.PRACTITIONER:
            profile = getattr(user, "practitioner_profile", None)
            actor_rpps = profile.rpps if profile is not None else ""
    document = None if document_uid is None else uuid.UUID(str(document_uid))
    address = normalise_address(client_address)

    chain = _lock_chain(patient, registry_id)
    event = AuditEvent(
        chain=chain,
        sequence=chain.last_sequence + 1,
        # Taken under the lock, so that times never go backwards within a chain.
        occurred_at=timezone.now(),
        actor=user,
        actor_role=actor_role,
        actor_rpps=actor_rpps,
        patient=patient,
        document_uid=document,
        action=action,
        outcome=outcome,
        mode=mode,
        reason=reason,
        client_address=address,
        application=application,
        previous_mac=chain.last_mac,
    )
    event.mac = compute_mac(event, chain.key)
    _append(event, chain)
    chain.last_sequence, chain.last_mac = event.sequence, event.mac
    # Counted at once, not on commit: an on-commit callback per event would be noise among the
    # tasks a transaction queues. An event rolled back with its transaction is counted too.
    AUDIT_EVENTS.labels(action=action, outcome=outcome).inc()
    return event
