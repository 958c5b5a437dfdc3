"""AES-256-GCM with a versioned header, for values sealed under a data key.

Format (version 1)::

    0x01 | data key id (8 bytes, big endian) | nonce (12 random bytes) | ciphertext | tag (16)

The header is part of the associated data, so neither the version nor the key id can be altered
without the value failing to open.
"""

from __future__ import annotations

import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dmp_portal.crypto.errors import DecryptionError

VALUE_FORMAT_V1 = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER = struct.Struct(">BQ")
HEADER_BYTES = _HEADER.size


def seal(
    cipher: AESGCM, key_id: int, plaintext: bytes, aad: bytes, _nonce: bytes | None = None
) -> bytes:
    """``_nonce`` exists for known-answer tests only: a nonce must never repeat under a key."""
    header = _HEADER.pack(VALUE_FORMAT_V1, key_id)
    nonce = _nonce if _nonce is not None else secrets.token_bytes(NONCE_BYTES)
    return header + nonce + cipher.encrypt(nonce, plaintext, header + aad)


def key_id_of(sealed: bytes) -> int:
    if len(sealed) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("Sealed value too short.")
    version, key_id = _HEADER.unpack_from(sealed)
    if version != VALUE_FORMAT_V1:
        raise DecryptionError(f"Unknown sealed value format {version}.")
    return key_id


def open_sealed(cipher: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    key_id_of(sealed)  # validates length and version
    header = sealed[:HEADER_BYTES]
    nonce = sealed[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
    try:
        return cipher.decrypt(nonce, sealed[HEADER_BYTES + NONCE_BYTES :], header + aad)
    except InvalidTag as exc:
        raise DecryptionError("Sealed value does not open for this row, column or owner.") from exc
