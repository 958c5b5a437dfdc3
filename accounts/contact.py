"""A person's contact e-mail address, and the single-use links the portal sends to it.

The portal writes to one address per account only: the one its owner proved to read by clicking
a confirmation link sent to it (``ContactEmail``). An address given and not yet confirmed waits
in a ``ContactEmailChange`` with nothing but its confirmation sent to it. Addresses are sealed
under the owner's data key; a keyed blind index of the normalised address lets the password
reset find the accounts of an address without storing it in clear. Links keep only a hash of
their token (like ``ActivationLink``), work once and expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.users import SingleUseLink, User
from dmp_portal.crypto.fields import EncryptedTextField
from dmp_portal.crypto.hashing import blind_index
from dmp_portal.crypto.models import EncryptedModel

# How long a password reset link works (issue 15: one hour).
RESET_LINK_VALIDITY = timedelta(hours=1)
# How long the link that confirms a new contact address works.
CONFIRMATION_LINK_VALIDITY = timedelta(hours=72)


def normalise_email(address: str) -> str:
    """The form of an address its blind index is computed on: trimmed, lower case (mailboxes
    are case-insensitive in practice, and a person does not retype the case they gave)."""
    return address.strip().lower()


def email_lookup(address: str) -> str:
    return blind_index(normalise_email(address), "contact-email")


class ContactEmail(EncryptedModel):
    """The verified contact address of an account: notifications and password reset links go
    here, and nowhere else."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="contact_email", verbose_name=_("account")
    )
    address = EncryptedTextField(_("e-mail address"))
    # Keyed blind index of the normalised address (``email_lookup``): several accounts may share
    # an address (a family), so it is not unique.
    lookup = models.CharField(max_length=64, db_index=True, editable=False)
    verified_at = models.DateTimeField(_("confirmed"))

    data_key_path = "user.data_key"

    class Meta:
        verbose_name = _("contact e-mail address")
        verbose_name_plural = _("contact e-mail addresses")

    def __str__(self) -> str:
        return f"contact address of #{self.user_id}"  # never the address

    def save(self, *args, **kwargs) -> None:
        # The index always follows the address it was computed from.
        self.lookup = email_lookup(str(self.address))
        super().save(*args, **kwargs)


class ContactEmailChange(EncryptedModel):
    """One change of an account's contact address: the new address, confirmed by the link sent
    to it (``address`` empty: the address was removed, nothing to confirm), and, once it took
    effect, the address it replaced, which is told of the change."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_email_changes")
    address = EncryptedTextField(null=True, blank=True)
    # Null until the confirmation link is sent (the task that sends it makes the token).
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # When the change took effect (confirmed, or removed); null while pending.
    done_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer change was asked before this one was confirmed.
    superseded_at = models.DateTimeField(null=True, blank=True)
    replaced_address = EncryptedTextField(null=True, blank=True)

    data_key_path = "user.data_key"

    class Meta:
        verbose_name = _("contact e-mail change")
        verbose_name_plural = _("contact e-mail changes")
        indexes = [
            models.Index(
                fields=["user"],
                condition=Q(done_at__isnull=True, superseded_at__isnull=True),
                name="contact_change_pending",
            )
        ]

    def __str__(self) -> str:
        return f"contact address change #{self.pk}"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.done_at is None
            and self.superseded_at is None
            and self.expires_at is not None
            and now < self.expires_at
        )


class PasswordResetLink(SingleUseLink):
    """A single-use link, valid one hour, to choose a new password. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_reset_links")

    class Meta:
        verbose_name = _("password reset link")
        verbose_name_plural = _("password reset links")

    def __str__(self) -> str:
        return f"password reset link #{self.pk}"
