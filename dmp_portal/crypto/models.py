"""Data keys, and the abstract base of every model holding encrypted fields."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DataKey(models.Model):
    """A 256-bit key for one person's data, stored only wrapped by a master key.

    ``uid`` names the owner in every associated data: a beneficiary's key is carried over to
    the patient account, so the same person keeps the same key and values stay readable.
    Destroying the wrapped key (crypto-shredding) makes every value under it unreadable.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(_("purpose"), max_length=32)
    wrapped_key = models.BinaryField(null=True, editable=False)
    master_key_id = models.CharField(_("master key"), max_length=64, db_index=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        constraints = [
            models.CheckConstraint(
                condition=Q(destroyed_at__isnull=True, wrapped_key__isnull=False)
                | Q(destroyed_at__isnull=False, wrapped_key__isnull=True),
                name="datakey_wrapped_unless_destroyed",
            )
        ]

    def __str__(self) -> str:
        return f"data key {self.uid} ({self.purpose})"

    @property
    def is_destroyed(self) -> bool:
        return self.destroyed_at is not None


class EncryptedModel(models.Model):
    """Base of models with encrypted fields: ``uid`` binds each ciphertext to its row.

    Subclasses set ``data_key_path``, the dotted path from an instance to its DataKey
    (``"data_key"``, ``"user.data_key"``...). The uid exists before the first save, unlike an
    auto-increment primary key, so a value can be bound to its row when it is first written.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    data_key_path = "data_key"

    class Meta:
        abstract = True

    def get_data_key(self) -> DataKey | None:
        # A path walked by name: only the end of it is known to be a DataKey (or None).
        target: Any = self
        for part in self.data_key_path.split("."):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target
