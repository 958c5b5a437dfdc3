"""Data keys: create, unwrap (cached), destroy, and rewrap under the newest master key."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.utils import timezone

from dmp_portal.crypto import ledger
from dmp_portal.crypto.errors import DataDestroyed
from dmp_portal.crypto.keyring import get_key_provider
from dmp_portal.crypto.models import DataKey

DATA_KEY_BYTES = 32
_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[int, bytes], tuple[bytes, AESGCM]] = OrderedDict()
_cache_lock = threading.Lock()


def _wrap_aad(data_key: DataKey) -> bytes:
    return f"crypto.datakey|owner={data_key.uid}".encode()


def build_data_key(purpose: str) -> DataKey:
    """A fresh random key wrapped by the current master key, not saved yet (bulk inserts)."""
    provider = get_key_provider()
    data_key = DataKey(purpose=purpose)
    data_key.wrapped_key = provider.wrap(secrets.token_bytes(DATA_KEY_BYTES), _wrap_aad(data_key))
    data_key.master_key_id = provider.current_key_id()
    return data_key


def create_data_key(purpose: str) -> DataKey:
    """A fresh random key for one person's data, saved wrapped by the current master key."""
    data_key = build_data_key(purpose)
    data_key.save()
    return data_key


def _wrapped(data_key: DataKey) -> bytes:
    if data_key.destroyed_at is not None or data_key.wrapped_key is None:
        raise DataDestroyed(f"data key {data_key.uid} was destroyed")
    return bytes(data_key.wrapped_key)


def _unwrapped(data_key: DataKey) -> tuple[bytes, AESGCM]:
    wrapped = _wrapped(data_key)
    # Keyed by the wrapped bytes: a rewrapped or destroyed key never hits a stale entry.
    cache_key = (data_key.pk, hashlib.sha256(wrapped).digest())
    with _cache_lock:
        hit = _cache.get(cache_key)
        if hit is not None:
            _cache.move_to_end(cache_key)
            return hit
    material = get_key_provider().unwrap(wrapped, _wrap_aad(data_key))
    entry = (material, AESGCM(material))
    with _cache_lock:
        _cache[cache_key] = entry
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return entry


def cipher_for(data_key: DataKey) -> AESGCM:
    return _unwrapped(data_key)[1]


def key_material(data_key: DataKey) -> bytes:
    return _unwrapped(data_key)[0]


def forget_cached_keys() -> None:
    with _cache_lock:
        _cache.clear()


def destroy_data_key(data_key: DataKey) -> None:
    """Crypto-shredding: every value under this key becomes unreadable, for good, even after a
    restore of an older database backup.

    The destruction is first appended to the ledger of destroyed keys, and made durable
    (``ledger.append``: fsync), and only then is the key erased in the database. Why in this
    order: a crash between the two leaves a ledger line for a key whose destruction was
    decided but not done, and replaying the ledger (``manage.py replay_shred_ledger``) completes
    the decision; the other order could leave a key erased in the database but absent from the
    ledger, and a restore of a backup would then bring it back, its destruction lost for ever.
    If the ledger cannot be written, ``OSError`` is raised and the key is left intact.

    The line stands even if the caller's transaction is rolled back afterwards: a destruction
    is decided before this call, and the next replay carries it out.
    """
    ledger.append(data_key.uid, timezone.now())
    erase_data_key(data_key)


@transaction.atomic
def erase_data_key(data_key: DataKey) -> None:
    """Erase the wrapped key in the database only (the replay of the ledger, whose line is
    already written); everything else calls ``destroy_data_key``."""
    DataKey.objects.filter(pk=data_key.pk).update(
        wrapped_key=None, master_key_id="", destroyed_at=timezone.now()
    )
    data_key.refresh_from_db()
    with _cache_lock:
        for cache_key in [k for k in _cache if k[0] == data_key.pk]:
            del _cache[cache_key]


@dataclass
class ReplayCounts:
    """Per line of the ledger: its key erased now, already destroyed, or not in the database
    (a key created after the backup that was restored, or a line repeated)."""

    replayed: int = 0
    already: int = 0
    unknown: int = 0


def replay_ledger(path: Path, batch_size: int = 1000) -> ReplayCounts:
    """Destroy again every key of the ledger at ``path`` that the database still holds (after
    a restore of a backup taken before its destruction). Idempotent.

    The whole ledger is checked first: a malformed line raises ``MalformedLedger`` before any
    key is touched. Then it is read again in batches (memory bounded whatever its length).
    """
    ledger.check(path)
    counts = ReplayCounts()
    batch: list[ledger.LedgerEntry] = []
    for entry in ledger.entries(path):
        batch.append(entry)
        if len(batch) >= batch_size:
            _replay_batch(batch, counts)
            batch = []
    _replay_batch(batch, counts)
    return counts


def _replay_batch(batch: list[ledger.LedgerEntry], counts: ReplayCounts) -> None:
    found = {key.uid: key for key in DataKey.objects.filter(uid__in=[e.key_uid for e in batch])}
    for entry in batch:
        data_key = found.get(entry.key_uid)
        if data_key is None:
            counts.unknown += 1
        elif data_key.destroyed_at is not None:
            counts.already += 1
        else:
            erase_data_key(data_key)
            counts.replayed += 1


def count_under_older_master_keys() -> int:
    current = get_key_provider().current_key_id()
    return DataKey.objects.filter(destroyed_at__isnull=True).exclude(master_key_id=current).count()


def rewrap_batch(batch_size: int = 500) -> int:
    """Rewrap up to ``batch_size`` data keys under the current master key; returns how many.

    Each batch is one short transaction whose rows are locked with SKIP LOCKED, so the portal
    keeps running and several rotations can share the work; an interrupted run simply resumes.
    """
    provider = get_key_provider()
    current = provider.current_key_id()
    with transaction.atomic():
        batch = list(
            DataKey.objects.select_for_update(skip_locked=True)
            .filter(destroyed_at__isnull=True)
            .exclude(master_key_id=current)
            .order_by("pk")[:batch_size]
        )
        now = timezone.now()
        for data_key in batch:
            aad = _wrap_aad(data_key)
            material = provider.unwrap(_wrapped(data_key), aad)
            data_key.wrapped_key = provider.wrap(material, aad)
            data_key.master_key_id = current
            data_key.rotated_at = now
        DataKey.objects.bulk_update(batch, ["wrapped_key", "master_key_id", "rotated_at"])
    return len(batch)
