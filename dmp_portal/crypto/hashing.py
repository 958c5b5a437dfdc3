"""Keyed hashes: blind indexes for exact look-ups and hashes of short secrets.

Each purpose gets its own key, derived with HKDF from the blind-index root key
(``DMP_BLIND_INDEX_KEY``, never SECRET_KEY, which rotates for other reasons), so that a hash made
for one purpose cannot be matched against another, and a stolen database cannot be searched by
hashing every possible NIR without that key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.crypto.keyring import validate_blind_index_key


@lru_cache(maxsize=32)
def _purpose_key(purpose: str) -> bytes:
    raw = settings.DMP_BLIND_INDEX_KEY
    if not raw:
        raise ImproperlyConfigured("No blind-index root key is configured (DMP_BLIND_INDEX_KEY).")
    root = validate_blind_index_key(raw)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"dmp:{purpose}".encode()
    ).derive(root)


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 of an already normalised value, as 64 hexadecimal characters."""
    return hmac.new(_purpose_key(purpose), value.encode("utf-8"), hashlib.sha256).hexdigest()


def blind_index(value: str, purpose: str) -> str:
    """The blind index of a normalised value (for example a NIR without spaces, upper case)."""
    return keyed_hash(f"blind-index:{purpose}", value)


def reset_hash_keys() -> None:
    _purpose_key.cache_clear()
