"""Consents, blocks, access requests, emergencies, treating physicians, profession rules and
record settings.

Rows record what the patient decided; the rules that read them live in ``policy.py`` only. The
audit trail, which these decisions are recorded in, is an app of its own: ``audit``.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.professions import Profession
from dmp_portal.crypto.fields import EncryptedTextField
from dmp_portal.crypto.models import EncryptedModel


class ConsentQuerySet(models.QuerySet):
    def live(self, now=None):
        """Not revoked and not expired: the one definition of a consent that lets one read."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at=None)

    def unrevoked(self):
        """Not revoked, expired or not: the row a new grant extends (one per pair at most)."""
        return self.filter(revoked_at=None)


class RevocationReason(models.TextChoices):
    """Why a consent ended before its date (empty for consents revoked before issue 14)."""

    PATIENT = "patient", _("revoked by the patient")
    BLOCK = "block", _("ended by a block")
    CLOSURE = "closure", _("ended by the record's closure")


class BlockQuerySet(models.QuerySet):
    def active(self):
        """Not lifted: the one definition of a block."""
        return self.filter(lifted_at=None)


class EmergencyAccessQuerySet(models.QuerySet):
    def active(self, now=None):
        """Not yet ended (an opt-out is the door's business, not the row's)."""
        return self.filter(ends_at__gt=now or timezone.now())


class Consent(models.Model):
    """The patient lets one practitioner read their record, until a date or until revoked."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents_given"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents_received"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(
        _("reason for revocation"),
        max_length=16,
        choices=RevocationReason.choices,
        blank=True,
        default="",
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            # At most one live consent per pair: granting again extends it.
            models.UniqueConstraint(
                fields=["patient", "practitioner"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_consent_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["practitioner", "patient"], name="consent_lookup")]

    def __str__(self) -> str:
        return f"consent #{self.pk}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def last_day(self) -> date | None:
        """The last day the consent covers, as the patient typed it: ``expires_at`` is the
        midnight after that day (exclusive), so that the door grants through the whole day;
        shown as is, it would read one day later than the date typed."""
        if self.expires_at is None:
            return None
        return timezone.localdate(self.expires_at - timedelta(microseconds=1))


class Block(models.Model):
    """The patient refuses one practitioner everything, emergencies included."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="blocks_given"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="blocks_received"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = BlockQuerySet.as_manager()

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "practitioner"],
                condition=Q(lifted_at__isnull=True),
                name="one_live_block_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"block #{self.pk}"


class AccessRequest(models.Model):
    """A practitioner asks; the patient accepts (a consent follows) or declines."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests_received"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests_made"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    accepted = models.BooleanField(null=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "practitioner"],
                condition=Q(decided_at__isnull=True),
                name="one_open_request_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"access request #{self.pk}"


class TreatingPhysician(models.Model):
    """The patient's médecin traitant, who also reads documents hidden from practitioners."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treating_physician_link"
    )
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treated_patients"
    )
    designated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("treating physician")
        verbose_name_plural = _("treating physicians")

    def __str__(self) -> str:
        return f"treating physician of #{self.patient_id}"


class ProfessionRule(models.Model):
    """Which profession may read which category of documents (data, changed only by a reviewed
    migration: never in the admin)."""

    profession = models.CharField(_("profession"), max_length=32, choices=Profession.choices)
    category = models.ForeignKey(
        "records.Category",
        on_delete=models.CASCADE,
        related_name="profession_rules",
        verbose_name=_("category"),
    )
    may_read = models.BooleanField(_("may read"), default=True)

    class Meta:
        verbose_name = _("profession rule")
        verbose_name_plural = _("profession rules")
        constraints = [
            models.UniqueConstraint(
                fields=["profession", "category"], name="one_rule_per_profession_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_profession_display()} / {self.category}"


class RecordSettings(EncryptedModel):
    """What the patient chose for their record: emergency access, notifications, contact."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="record_settings"
    )
    emergency_opt_out = models.BooleanField(_("refuse emergency access"), default=False)
    # Where notifications go is the patient's verified contact address (accounts.contact), no
    # longer a column here: an address is used only once its owner confirmed it.
    notify_first_access = models.BooleanField(_("a professional's first access"), default=True)
    notify_emergency = models.BooleanField(_("an emergency access"), default=True)
    notify_request = models.BooleanField(_("an access request"), default=True)
    notify_new_document = models.BooleanField(_("a document added by a professional"), default=True)

    data_key_path = "patient.data_key"

    class Meta:
        verbose_name = _("record settings")
        verbose_name_plural = _("record settings")

    def __str__(self) -> str:
        return f"settings of #{self.patient_id}"


class EmergencyAccess(EncryptedModel):
    """A practitioner without consent declared an emergency ("bris de glace"): time-boxed,
    announced to the patient, reviewed by staff. The reason is encrypted with the patient's
    key: staff review who, when and how often, not the patient's health."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="emergency_accesses_made",
        verbose_name=_("practitioner"),
    )
    reason = EncryptedTextField(_("reason"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"))
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )

    data_key_path = "patient.data_key"

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        indexes = [
            models.Index(fields=["practitioner", "patient", "-ends_at"], name="emergency_lookup")
        ]

    def __str__(self) -> str:
        return gettext("emergency access no. %(number)s") % {"number": self.pk}

    def is_active(self, now=None) -> bool:
        return (now or timezone.now()) < self.ends_at


class ClosureReason(models.TextChoices):
    PATIENT = "patient", _("Closed by the patient")
    DEATH = "death", _("Death recorded")


class RecordClosure(models.Model):
    """A closed record: at most one row per patient, deleted when the patient reopens it
    (the trail keeps both events). While it exists the door refuses every practitioner, and
    the patient may only read, export and reopen. ``archive_until`` is the day the archive
    period ends (``RECORD_ARCHIVE_YEARS`` after the closure); ``purged_at`` is set once
    ``purge_records`` destroyed the record, and the row then stays as the only trace that a
    record existed, holding nothing that names the person."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="record_closure"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=ClosureReason.choices)
    closed_at = models.DateTimeField(_("closed"), default=timezone.now)
    archive_until = models.DateField(_("archived until"))
    purged_at = models.DateTimeField(_("purged"), null=True, blank=True)

    class Meta:
        verbose_name = _("record closure")
        verbose_name_plural = _("record closures")
        indexes = [models.Index(fields=["archive_until"], name="closure_archive_until")]

    def __str__(self) -> str:
        return gettext("closure of #%(patient)s") % {"patient": self.patient_id}


class DeathProposalState(models.TextChoices):
    PENDING = "pending", _("Awaiting a second staff member")
    CONFIRMED = "confirmed", _("Confirmed: record closed")
    REJECTED = "rejected", _("Rejected")


class DeathProposal(models.Model):
    """A death recorded by staff, with four eyes: one staff member proposes it, a different one
    confirms it (which closes the record for good, ``access_control.closure``) or rejects it.
    One staff member alone could otherwise shut anyone out of their own record. The row names
    no cause nor date: only who proposed and decided, and when."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="death_proposals",
        verbose_name=_("patient"),
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=DeathProposalState.choices,
        default=DeathProposalState.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("recorded death")
        verbose_name_plural = _("recorded deaths")
        constraints = [
            # The database itself refuses a proposal decided by its own author.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposed_by")),
                name="death_proposal_four_eyes",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(state="pending"),
                name="death_proposal_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return gettext("recorded death no. %(number)s") % {"number": self.pk}


# --- Acting for someone (issue 17): a caregiver invited by the patient, a legal representative.


class CaregiverScope(models.TextChoices):
    READ = "read", _("Read the record")
    MANAGE = "manage", _("Read the record, manage consents and add documents")


class CaregiverEndReason(models.TextChoices):
    PATIENT = "patient", _("revoked by the patient")
    DECLINED = "declined", _("declined by the caregiver")
    CLOSURE = "closure", _("ended by the record's closure")
    # Past its last day: ended when the patient invites the same person again, so that they
    # may renew it (nothing else needs to end it: the door already ignores it, ``live``).
    EXPIRED = "expired", _("expired, past its last day")
    # The caregiver died (their own record closed by a recorded death): the patient they
    # helped must not go on seeing them among their caregivers. The patient's own death is
    # ``CLOSURE`` (their record closes).
    CAREGIVER_DEATH = "death", _("ended by the caregiver's death")


def caregiver_last_day(today: date) -> date:
    """The last end date an invitation made ``today`` may have: at most one year, the same
    date next year (29 February gives 28 February). The patient renews it knowingly, it never
    lingers."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


class CaregiverGrantQuerySet(models.QuerySet):
    def unrevoked(self):
        """Neither revoked nor declined (pending or accepted, over or not): one per pair."""
        return self.filter(revoked_at=None)

    def live(self, now=None):
        """Accepted, not revoked, and ``until`` (its last day) not past: the one definition of
        a grant that lets the caregiver act on the record."""
        today = timezone.localdate(now or timezone.now())
        return self.filter(revoked_at=None, accepted_at__isnull=False, until__gte=today)

    def pending(self, now=None):
        """Invited, neither accepted nor refused yet, and not past its last day."""
        today = timezone.localdate(now or timezone.now())
        return self.filter(revoked_at=None, accepted_at=None, until__gte=today)


class CaregiverGrant(models.Model):
    """A patient lets another enrolled person (their "aidant") read their record, or read it
    and manage its consents and uploads (``scope``), from their acceptance to ``until`` (the
    last day covered, at most ``caregiver_last_day`` of the invitation) or a revocation."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caregivers_invited"
    )
    caregiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caregiver_grants"
    )
    scope = models.CharField(_("scope"), max_length=8, choices=CaregiverScope.choices)
    invited_at = models.DateTimeField(_("date of the invitation"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    until = models.DateField(_("until"))
    revoked_at = models.DateTimeField(_("date it ended"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("reason it ended"),
        max_length=16,
        choices=CaregiverEndReason.choices,
        blank=True,
        default="",
    )

    objects = CaregiverGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("caregiver")
        verbose_name_plural = _("caregivers")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "caregiver"],
                condition=Q(revoked_at__isnull=True),
                name="one_unrevoked_caregiver_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(patient=models.F("caregiver")), name="caregiver_not_oneself"
            ),
        ]
        indexes = [models.Index(fields=["caregiver", "patient"], name="caregiver_lookup")]

    def __str__(self) -> str:
        return f"caregiver grant #{self.pk}"


class RepresentationEndReason(models.TextChoices):
    MAJORITY = "majority", _("the minor came of age")
    CLOSURE = "closure", _("ended by the record's closure")
    # The representative died (their own record closed by a recorded death).
    REPRESENTATIVE_DEATH = "death", _("ended by the representative's death")
    # The registry's import unlinked the representative (the national file's word that they no
    # longer represent the child): enrollment.services.representatives ends it at once.
    REGISTRY = "registry", _("ended by the registry")


class LegalRepresentationQuerySet(models.QuerySet):
    def live(self, now=None):
        """Not ended, and ``until`` (the eve of the 18th birthday) not past: the one definition
        of a representation that lets one act. The date is checked here, not only by the task
        that ends representations at majority, so that a task that did not run (a broker
        outage, a missed day) never lets a representative in on or after the birthday."""
        today = timezone.localdate(now or timezone.now())
        return self.filter(ended_at=None, until__gte=today)

    def unended(self):
        """Not ended yet, whether or not ``until`` is past: what a closure, a death or coming of
        age must end (a row past its date lets nobody in, but its end is still to be recorded)."""
        return self.filter(ended_at=None)


class LegalRepresentation(models.Model):
    """A legal representative (a parent's own patient account) manages a minor's record, from
    the use of the child's creation code (issue 17, item 2) to the 18th birthday or the
    record's closure (``ended_reason``). ``until`` is the last day covered, the eve of the 18th
    birthday, set when the row is created (enrollment.services.minors)."""

    minor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="representations"
    )
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="represented"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    until = models.DateField(_("until"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_reason = models.CharField(
        _("reason it ended"),
        max_length=16,
        choices=RepresentationEndReason.choices,
        blank=True,
        default="",
    )

    objects = LegalRepresentationQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal representation")
        verbose_name_plural = _("legal representations")
        constraints = [
            models.UniqueConstraint(
                fields=["minor", "representative"],
                condition=Q(ended_at__isnull=True),
                name="one_live_representation_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(minor=models.F("representative")),
                name="representative_not_oneself",
            ),
        ]
        indexes = [models.Index(fields=["representative", "minor"], name="representation_lookup")]

    def __str__(self) -> str:
        return f"representation #{self.pk}"
