from django.db import models

from dmp_portal.crypto.fields import EncryptedBinaryField, EncryptedJSONField, EncryptedTextField
from dmp_portal.crypto.models import EncryptedModel


class Specimen(EncryptedModel):
    data_key = models.ForeignKey("crypto.DataKey", on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(null=True)
    other_text = EncryptedTextField(null=True)
    payload = EncryptedJSONField(null=True)
    blob = EncryptedBinaryField(null=True)
