"""Health documents and their categories."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from dmp_portal.crypto.fields import EncryptedTextField
from dmp_portal.crypto.models import EncryptedModel


class Category(models.Model):
    """The DMP's classes of documents, as data (seeded and changed by migrations), so
    that access rules and filters refer to rows, never to hard-coded branches."""

    code = models.SlugField(_("code"), unique=True)
    label_fr = models.CharField(_("label in French"), max_length=100)
    label_en = models.CharField(_("label in English"), max_length=100)
    position = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ("position", "code")
        verbose_name = _("document category")
        verbose_name_plural = _("document categories")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "fr").startswith("en") else self.label_fr


# Browsers display these safely; TIFF, text, RTF and XML are downloaded, never rendered.
INLINE_MEDIA_TYPES = {"application/pdf", "image/jpeg", "image/png"}


class DocumentStatus(models.TextChoices):
    CURRENT = "current", _("Current")
    REPLACED = "replaced", _("Replaced by a newer version")
    ARCHIVED = "archived", _("Archived")
    DELETED = "deleted", _("Deleted by its author")


class Document(EncryptedModel):
    """One document of a patient's record. Title, description, original name, checksum and
    file are encrypted with the patient's data key; what is left in clear (category, dates,
    type, size) is what filters and the admin need."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="documents"
    )
    data_key = models.ForeignKey("crypto.DataKey", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="documents", verbose_name=_("category")
    )
    title = EncryptedTextField(_("title"))
    description = EncryptedTextField(_("description"), null=True, blank=True)
    act_date = models.DateField(_("date of the act"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="authored_documents",
        verbose_name=_("added by"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.CURRENT
    )
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    hidden_from_practitioners = models.BooleanField(_("hidden from practitioners"), default=False)
    # The author's own choice (a practitioner's, issue 16), kept apart from the patient's flag
    # above: each one shows again only what they hid themselves, so the patient's "show again"
    # never undoes the author's hiding, nor the author's the patient's. The door reads both.
    hidden_by_author = models.BooleanField(_("hidden by its author"), default=False)
    # Held until an announcement consultation: the patient sees it from this moment on (the door
    # decides by the time). Reset to empty once revealed, by its author or by the daily task
    # (records.versions), which then sends the patient a notice: set means "not announced yet".
    # Confidential care of a minor (issue 17, item 4; public health code art. L1111-5): its
    # practitioner author keeps it from the minor's legal representatives, who then see neither
    # it nor any hint of it; the record's owner, the minor, always sees it (the door reads it
    # for a representative only). Set on the whole chain of versions (access_control.confidential).
    confidential_from_representatives = models.BooleanField(
        _("confidential from the legal representatives"), default=False
    )
    hidden_from_patient_until = models.DateTimeField(
        _("hidden from the patient until"), null=True, blank=True
    )
    file_name = models.CharField(max_length=255, editable=False)  # random; never the upload's
    display_name = EncryptedTextField(null=True, blank=True)  # the upload's name, for people
    media_type = models.CharField(_("file type"), max_length=64)
    extension = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [
            models.Index(fields=["patient", "status", "-act_date"], name="document_record_list")
        ]

    def __str__(self) -> str:
        return gettext("document %(uid)s") % {"uid": self.uid}  # never the title

    def file_aad(self) -> bytes:
        return f"records_document.file|row={self.uid}|owner={self.data_key.uid}".encode()

    @property
    def authored_by_patient(self) -> bool:
        return self.author_id == self.patient_id

    @property
    def viewable_inline(self) -> bool:
        """Shown in the page by the browser itself; anything else is only downloaded."""
        return self.media_type in INLINE_MEDIA_TYPES

    @property
    def hidden_from_others(self) -> bool:
        """Hidden from other practitioners, by the patient or by its author."""
        return self.hidden_from_practitioners or self.hidden_by_author

    def current_version(self) -> Document:
        """The version that replaced this one, and so on, up to the one not replaced (itself
        when it is not replaced): the door reads an earlier version through it. A version is
        replaced once at most (records.versions locks the row it replaces)."""
        version = self
        while version.status == DocumentStatus.REPLACED:
            newer = (
                Document.objects.select_related("patient", "data_key")
                .filter(replaces=version)
                .first()
            )
            if newer is None:  # never, by the invariant above; a safe answer all the same
                return version
            version = newer
        return version

    def versions(self) -> list[Document]:
        """Every version of this document, the current one first, then older and older."""
        chain = [self.current_version()]
        while chain[-1].replaces_id is not None:
            older = (
                Document.objects.select_related("author__practitioner_profile", "data_key")
                .filter(pk=chain[-1].replaces_id)
                .first()
            )
            if older is None:
                break
            chain.append(older)
        return chain

    def hidden_from_patient(self, now=None) -> bool:
        until = self.hidden_from_patient_until
        return until is not None and (now or timezone.now()) < until


class SearchToken(models.Model):
    """One keyed token of a document's title (``records.search_tokens``): a search finds the
    documents through these, without decrypting any title but those of the page it shows."""

    # Not named "document": that name is the door's scan's mark of a relation to a document
    # (tests/test_door_acceptance_scan.py), and would flag every unrelated ``.document``.
    indexed_document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="search_tokens"
    )
    token = models.CharField(max_length=32)

    class Meta:
        indexes = [
            # The look-up of a search: the documents holding one token, from the index alone.
            models.Index(fields=["token", "indexed_document"], name="search_token_lookup")
        ]
        constraints = [
            models.UniqueConstraint(fields=["indexed_document", "token"], name="search_token_once")
        ]

    def __str__(self) -> str:
        return gettext("search token of document %(id)s") % {"id": self.indexed_document_id}
