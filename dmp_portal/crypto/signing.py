"""Ed25519 signing of audit checkpoints, with a key that is never in the database.

``DMP_AUDIT_SIGNING_KEY`` is the raw 32-byte Ed25519 private key (its seed) in URL-safe base64,
the same spelling as the other keys. ``DMP_AUDIT_VERIFY_KEYS`` lists retired public keys (raw
32 bytes, URL-safe base64, comma-separated) whose checkpoints must still verify after a rotation;
the current key's public half is always accepted. A key id is the first 16 hexadecimal
characters of the SHA-256 of the raw public key: stored beside each signature, it names the key
without revealing anything, and it cannot be chosen by whoever writes to the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
SIGNATURE_BYTES = 64


def _decode(raw: str, name: str) -> bytes:
    text = raw.strip()
    try:
        material = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} is not valid base64.") from exc
    if len(material) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must hold exactly {KEY_BYTES} bytes (Ed25519).")
    return material


def encode_key(material: bytes) -> str:
    return base64.urlsafe_b64encode(material).decode().rstrip("=")


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def parse_signing_key(raw: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_decode(raw, "DMP_AUDIT_SIGNING_KEY"))


def parse_verify_keys(raw: str) -> list[Ed25519PublicKey]:
    return [
        Ed25519PublicKey.from_public_bytes(_decode(item, "DMP_AUDIT_VERIFY_KEYS entry"))
        for item in raw.replace("\n", ",").split(",")
        if item.strip()
    ]


def ensure_development_signing_key(keys_dir: Path) -> str:
    """Create (once) and read ``var/keys/audit_signing_key``, as for the other development keys."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / "audit_signing_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(encode_key(secrets.token_bytes(KEY_BYTES)) + "\n")
    return path.read_text().strip()


@lru_cache(maxsize=1)
def _signing_key() -> Ed25519PrivateKey:
    raw = settings.DMP_AUDIT_SIGNING_KEY
    if not raw:
        raise ImproperlyConfigured("No audit signing key is configured (DMP_AUDIT_SIGNING_KEY).")
    return parse_signing_key(raw)


@lru_cache(maxsize=1)
def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Key id -> public key: the current signing key's, then the retired ones."""
    keys: dict[str, Ed25519PublicKey] = {}
    if settings.DMP_AUDIT_SIGNING_KEY:
        current = _signing_key().public_key()
        keys[key_id(current)] = current
    for retired in parse_verify_keys(settings.DMP_AUDIT_VERIFY_KEYS or ""):
        keys.setdefault(key_id(retired), retired)
    return keys


def current_key_id() -> str:
    return key_id(_signing_key().public_key())


def sign(message: bytes) -> bytes:
    """The message's signature under the current signing key (``current_key_id``)."""
    return _signing_key().sign(message)


def verify(message: bytes, signature: bytes, signer: str) -> bool | None:
    """True if valid, False if not, None if the key id is unknown to this deployment."""
    key = verification_keys().get(signer)
    if key is None:
        return None
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def reset_signing_keys() -> None:
    _signing_key.cache_clear()
    verification_keys.cache_clear()
