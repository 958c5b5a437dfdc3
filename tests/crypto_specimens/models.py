from __future__ import annotations

from typing import ClassVar

from django.db import models

from dmp_portal.crypto.fields import EncryptedBinaryField, EncryptedJSONField, EncryptedTextField
from dmp_portal.crypto.models import EncryptedModel


class Specimen(EncryptedModel):
    data_key = models.ForeignKey("crypto.DataKey", on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(null=True)
    other_text = EncryptedTextField(null=True)
    payload = EncryptedJSONField(null=True)
    blob = EncryptedBinaryField(null=True)

    # For the type checker: the app is installed in test mode only, and the django-stubs plugin
    # reads the development settings, so it does not add the manager itself.
    objects: ClassVar[models.Manager[Specimen]]
