"""Master keys (key-encryption keys) and the provider interface that wraps secrets with them.

Master keys never live in the database. Locally they come from settings (environment or secret
files in production, ``var/keys/`` in development); an external KMS such as HashiCorp Vault's
transit engine can replace :class:`LocalKeyProvider` by implementing :class:`KeyProvider`, without
touching callers, since callers only ever ask to ``wrap`` or ``unwrap`` small secrets.

Sealed format (version 1)::

    0x01 | len(key_id) | key_id (ASCII) | nonce (12 bytes) | AES-256-GCM ciphertext and tag

The header is authenticated with the caller's associated data, so neither can be swapped.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.crypto import hsm
from dmp_portal.crypto.errors import DecryptionError

FORMAT_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32


class KeyProvider(Protocol):
    def current_key_id(self) -> str: ...

    def wrap(self, secret: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, sealed: bytes, aad: bytes) -> bytes: ...

    def key_id_of(self, sealed: bytes) -> str: ...


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: bytes = b""

    def __repr__(self) -> str:  # never print key material, even in a traceback
        return f"MasterKey({self.key_id!r})"


def parse_master_keys(text: str) -> list[MasterKey]:
    """Parse ``id:base64key[,id:base64key...]``; the first key is the current one."""
    keys: list[MasterKey] = []
    for item in (part.strip() for part in text.replace("\n", ",").split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id or not key_id.isascii() or len(key_id) > 64:
            raise ImproperlyConfigured(
                "DMP_MASTER_KEYS must be a comma-separated list of id:base64key entries."
            )
        try:
            material = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"Master key {key_id!r} is not valid base64.") from exc
        if len(material) != KEY_BYTES:
            raise ImproperlyConfigured(f"Master key {key_id!r} must be {KEY_BYTES} bytes long.")
        if any(k.key_id == key_id for k in keys):
            raise ImproperlyConfigured(f"Master key id {key_id!r} appears twice.")
        keys.append(MasterKey(key_id, material))
    if not keys:
        raise ImproperlyConfigured("DMP_MASTER_KEYS holds no key.")
    return keys


def validate_blind_index_key(raw: str) -> bytes:
    """The blind-index root key: base64 of at least 32 random bytes."""
    try:
        root = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("DMP_BLIND_INDEX_KEY is not valid base64.") from exc
    if len(root) < KEY_BYTES:
        raise ImproperlyConfigured(f"DMP_BLIND_INDEX_KEY must hold at least {KEY_BYTES} bytes.")
    return root


def generate_master_key_line(key_id: str) -> str:
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")
    return f"{key_id}:{encoded}"


def ensure_development_keys(keys_dir: Path) -> tuple[str, str]:
    """Create (once) and read the development key files under ``var/keys/``."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    master_file = keys_dir / "master_keys"
    blind_file = keys_dir / "blind_index_key"
    if not master_file.exists():
        _write_private(master_file, generate_master_key_line("dev-1") + "\n")
    if not blind_file.exists():
        encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()
        _write_private(blind_file, encoded + "\n")
    return master_file.read_text().strip(), blind_file.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


class LocalKeyProvider:
    """Wraps secrets with master keys held in this process's memory."""

    def __init__(self, keys: list[MasterKey]) -> None:
        self._keys = {key.key_id: key for key in keys}
        self._current = keys[0]

    def current_key_id(self) -> str:
        return self._current.key_id

    def wrap(self, secret: bytes, aad: bytes) -> bytes:
        key_id = self._current.key_id.encode("ascii")
        header = bytes([FORMAT_VERSION, len(key_id)]) + key_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self._current.material).encrypt(nonce, secret, header + b"|" + aad)
        return header + nonce + sealed

    def key_id_of(self, sealed: bytes) -> str:
        if len(sealed) < 2 or sealed[0] != FORMAT_VERSION:
            raise DecryptionError("Unknown sealed format.")
        length = sealed[1]
        return sealed[2 : 2 + length].decode("ascii", errors="replace")

    def unwrap(self, sealed: bytes, aad: bytes) -> bytes:
        key_id = self.key_id_of(sealed)
        if len(sealed) < 2 + sealed[1] + NONCE_BYTES + 16:
            raise DecryptionError("Sealed value too short.")
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError(f"Master key {key_id!r} is not configured.")
        header_end = 2 + sealed[1]
        header = sealed[:header_end]
        nonce = sealed[header_end : header_end + NONCE_BYTES]
        try:
            return AESGCM(key.material).decrypt(
                nonce, sealed[header_end + NONCE_BYTES :], header + b"|" + aad
            )
        except InvalidTag as exc:
            raise DecryptionError("Sealed value does not open with this owner or key.") from exc


class ChainedKeyProvider:
    """Wraps with one provider, unwraps with whichever made the sealed value.

    Rotating from one provider to another (local master keys to an HSM's, or one HSM to the
    next) then works as rotating keys within one: ``rotate_keys`` unwraps each data key with
    the provider that wrapped it and wraps it again with the current one. Providers are told
    apart by the sealed value's first byte (its format), and key ids must differ across them,
    since ``DataKey.master_key_id`` records the id alone.
    """

    def __init__(self, current: KeyProvider, older: dict[int, KeyProvider]) -> None:
        self._current = current
        self._by_format = older

    def current_key_id(self) -> str:
        return self._current.current_key_id()

    def wrap(self, secret: bytes, aad: bytes) -> bytes:
        return self._current.wrap(secret, aad)

    def _provider_of(self, sealed: bytes) -> KeyProvider:
        provider = self._by_format.get(sealed[0]) if sealed else None
        if provider is None:
            raise DecryptionError("Unknown sealed format, or its key provider is not configured.")
        return provider

    def key_id_of(self, sealed: bytes) -> str:
        return self._provider_of(sealed).key_id_of(sealed)

    def unwrap(self, sealed: bytes, aad: bytes) -> bytes:
        return self._provider_of(sealed).unwrap(sealed, aad)


def _chained(current_is_hsm: bool) -> KeyProvider:
    """Both providers, the current one wrapping, either unwrapping what it made (rotation).

    ``DMP_KEY_PROVIDER=pkcs11``: the HSM's keys first, the local master keys (if still set)
    only unwrap, until ``rotate_keys`` has moved every data key into the HSM. ``local`` with
    ``DMP_PKCS11_KEY_LABELS`` still set: the way back out of an HSM (to another one, or to
    local keys), the HSM only unwrapping.
    """
    labels = hsm.parse_key_labels(settings.DMP_PKCS11_KEY_LABELS)
    local = parse_master_keys(settings.DMP_MASTER_KEYS) if settings.DMP_MASTER_KEYS else []
    if not local and not current_is_hsm:
        raise ImproperlyConfigured("No master key is configured (DMP_MASTER_KEYS).")
    shared = {key.key_id for key in local} & set(labels)
    if shared:
        raise ImproperlyConfigured(
            f"Key ids {sorted(shared)} are both local master keys and PKCS#11 labels."
        )
    module, token = settings.DMP_PKCS11_MODULE, settings.DMP_PKCS11_TOKEN_LABEL
    if not module or not token or not settings.DMP_PKCS11_PIN:
        raise ImproperlyConfigured(
            "The PKCS#11 provider needs DMP_PKCS11_MODULE, DMP_PKCS11_TOKEN_LABEL, "
            "DMP_PKCS11_PIN and DMP_PKCS11_KEY_LABELS."
        )
    in_hsm = hsm.Pkcs11KeyProvider(module, token, settings.DMP_PKCS11_PIN, labels)
    by_format: dict[int, KeyProvider] = {hsm.FORMAT_VERSION: in_hsm}
    if local:
        by_format[FORMAT_VERSION] = LocalKeyProvider(local)
    return ChainedKeyProvider(
        by_format[hsm.FORMAT_VERSION if current_is_hsm else FORMAT_VERSION], by_format
    )


@lru_cache(maxsize=1)
def get_key_provider() -> KeyProvider:
    """The provider named by ``DMP_KEY_PROVIDER``: ``local`` (default) or ``pkcs11``."""
    if settings.DMP_KEY_PROVIDER not in ("local", "pkcs11"):
        raise ImproperlyConfigured("DMP_KEY_PROVIDER must be local or pkcs11.")
    if settings.DMP_KEY_PROVIDER == "pkcs11" or settings.DMP_PKCS11_KEY_LABELS:
        return _chained(current_is_hsm=settings.DMP_KEY_PROVIDER == "pkcs11")
    raw = settings.DMP_MASTER_KEYS
    if not raw:
        raise ImproperlyConfigured("No master key is configured (DMP_MASTER_KEYS).")
    return LocalKeyProvider(parse_master_keys(raw))


def reset_key_provider() -> None:
    """Forget the cached provider (tests, and after a configuration change)."""
    get_key_provider.cache_clear()
