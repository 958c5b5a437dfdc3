"""Encrypted model fields: text, JSON and bytes, sealed under the row's data key.

Each value is bound by its associated data to its table, column, row (``uid``) and owner (the
data key's uid), so a ciphertext copied elsewhere does not open. Values are decrypted lazily,
when the attribute is first read, so listing rows costs no decryption of unread columns.
Encrypted columns cannot be filtered on (use a blind index) nor written with ``update()``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext

from dmp_portal.crypto import aead
from dmp_portal.crypto.datakeys import cipher_for
from dmp_portal.crypto.errors import DataDestroyed, DecryptionError

security_log = logging.getLogger("dmp.security")
_OPENED = "_crypto_opened"


class _Sealed:
    """A ciphertext loaded from the database and not yet opened."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def __repr__(self) -> str:
        return "<sealed>"


class DestroyedValue:
    """What an encrypted attribute reads as once its data key was destroyed."""

    def __str__(self) -> str:
        return gettext("[destroyed data]")

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<destroyed>"


DESTROYED = DestroyedValue()


def is_destroyed(value: Any) -> bool:
    return value is DESTROYED


class _EncryptedDescriptor(DeferredAttribute):
    """A data descriptor (it defines __set__), so every read passes here and can decrypt."""

    field: EncryptedField  # the descriptor of an encrypted field only

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        attname = self.field.attname
        value = super().__get__(instance, cls)  # loads the column if it was deferred
        if isinstance(value, _Sealed):
            plaintext = self.field.open(instance, value.blob)
            instance.__dict__[attname] = plaintext
            # Remember the ciphertext: saving an unchanged value must not re-encrypt it.
            instance.__dict__.setdefault(_OPENED, {})[attname] = (value.blob, plaintext)
            return plaintext
        return value

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.Field):
    """Base of the encrypted fields; the column is bytea (BLOB on SQLite)."""

    descriptor_class = _EncryptedDescriptor

    def get_internal_type(self) -> str:
        return "BinaryField"

    # --- conversion between Python values and plaintext bytes (subclasses) -------------------
    def to_bytes(self, value: Any) -> bytes:
        raise NotImplementedError

    def from_bytes(self, data: bytes) -> Any:
        raise NotImplementedError

    # --- sealing -------------------------------------------------------------------------------
    def associated_data(self, instance, data_key) -> bytes:
        if not getattr(instance, "uid", None):
            raise ImproperlyConfigured(f"{type(instance).__name__} has no uid to bind values to.")
        return (
            f"{self.model._meta.db_table}.{self.column}|row={instance.uid}|owner={data_key.uid}"
        ).encode()

    def open(self, instance, blob: bytes) -> Any:
        data_key = instance.get_data_key()
        if data_key is None or data_key.is_destroyed:
            return DESTROYED
        try:
            if aead.key_id_of(blob) != data_key.pk:
                raise DecryptionError("value sealed under another data key")
            plaintext = aead.open_sealed(
                cipher_for(data_key), blob, self.associated_data(instance, data_key)
            )
        except DecryptionError:
            security_log.error(
                "decryption refused: table=%s column=%s row=%s",
                self.model._meta.db_table,
                self.column,
                instance.uid,
            )
            raise
        except DataDestroyed:
            return DESTROYED
        return self.from_bytes(plaintext)

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None:
            return None
        if isinstance(value, _Sealed):
            return value.blob
        opened = model_instance.__dict__.get(_OPENED, {}).get(self.attname)
        if opened is not None and opened[1] is value:
            return opened[0]
        if value is DESTROYED:
            raise DataDestroyed("cannot save a value whose data key was destroyed")
        data_key = model_instance.get_data_key()
        if data_key is None:
            raise ImproperlyConfigured(
                f"{type(model_instance).__name__}.{self.name}: no data key to encrypt with."
            )
        blob = aead.seal(
            cipher_for(data_key),
            data_key.pk,
            self.to_bytes(value),
            self.associated_data(model_instance, data_key),
        )
        model_instance.__dict__.setdefault(_OPENED, {})[self.attname] = (blob, value)
        return blob

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(
                f"{self.name} is encrypted: write it through save(), never update() or a filter."
            )
        return connection.Database.Binary(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return _Sealed(bytes(value))

    def value_to_string(self, obj) -> str:
        raise TypeError(f"{self.name} is encrypted and is never serialised in clear.")


class EncryptedTextField(EncryptedField):
    def to_bytes(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def from_bytes(self, data: bytes) -> str:
        return data.decode("utf-8")

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.CharField, **kwargs})


class EncryptedJSONField(EncryptedField):
    def to_bytes(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def from_bytes(self, data: bytes) -> Any:
        return json.loads(data)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


class EncryptedBinaryField(EncryptedField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def to_bytes(self, value: Any) -> bytes:
        return bytes(value)

    def from_bytes(self, data: bytes) -> bytes:
        return data
