"""Letters sent by post, and the batches handed to the mail house."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from dmp_portal.crypto.fields import EncryptedJSONField
from dmp_portal.crypto.models import EncryptedModel

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """A non-secret reference printed on the letter, for support calls and the manifest."""
    return "L-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _index in range(10))


class LetterState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    RENDERED = "rendered", _("Rendered")
    DISPATCHED = "dispatched", _("Dispatched")
    RETURNED = "returned", _("Returned undelivered")
    VOID = "void", _("Void: the recipient's data was destroyed")


class LetterBatch(models.Model):
    uid = models.UUIDField(_("batch"), default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    letter_count = models.PositiveIntegerField(_("number of letters"), default=0)

    class Meta:
        verbose_name = _("letter batch")
        verbose_name_plural = _("letter batches")

    def __str__(self) -> str:
        return str(self.uid)


class Letter(EncryptedModel):
    """One letter. Its PDF is stored encrypted with the recipient's data key; what the mail
    house needs to sort it (postcode, locality, country) is encrypted here too."""

    data_key = models.ForeignKey("crypto.DataKey", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(
        _("reference"), max_length=16, unique=True, default=new_reference, editable=False
    )
    kind = models.CharField(_("kind"), max_length=32)
    # Whom the letter is for, in the app that asked for it (a beneficiary's uid).
    subject_uid = models.UUIDField(db_index=True, editable=False)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=LetterState.choices,
        default=LetterState.REQUESTED,
        db_index=True,
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    batch = models.ForeignKey(
        LetterBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letters",
        verbose_name=_("batch"),
    )
    pdf_name = models.CharField(max_length=255, blank=True, editable=False)
    page_count = models.PositiveSmallIntegerField(_("pages"), default=0)
    postal = EncryptedJSONField(null=True, editable=False)  # postcode, city, country

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")

    def __str__(self) -> str:
        return self.reference

    def pdf_aad(self) -> bytes:
        return f"letters_letter.pdf|row={self.uid}|owner={self.data_key.uid}".encode()
