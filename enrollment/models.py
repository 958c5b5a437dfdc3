"""The registry of insured people, enrolment requests and creation codes."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dmp_portal.crypto.fields import EncryptedJSONField, EncryptedTextField, is_destroyed
from dmp_portal.crypto.models import EncryptedModel


class Regime(models.TextChoices):
    """Values of the beneficiaries CSV ``regime`` column."""

    GENERAL = "general", _("General scheme")
    AGRICOLE = "agricole", _("Agricultural scheme (MSA)")
    INDEPENDANT = "independant", _("Self-employed")
    FONCTIONNAIRE = "fonctionnaire", _("Civil servants")
    ETUDIANT = "etudiant", _("Students")
    AUTRE = "autre", _("Other scheme")


class Beneficiary(EncryptedModel):
    """An insured person as the Vitale reference data knows them. Everything is encrypted with
    the person's data key, which the patient account takes over at activation."""

    data_key = models.ForeignKey("crypto.DataKey", on_delete=models.PROTECT, related_name="+")
    # Keyed hash of the normalised NIR: the only way to find someone, and unique.
    nir_index = models.CharField(max_length=64, unique=True, editable=False)
    nir = EncryptedTextField(_("social security number"))
    last_name = EncryptedTextField(_("last name"))
    first_name = EncryptedTextField(_("first name"))
    birth_date = EncryptedTextField(_("date of birth"))  # ISO 8601
    regime = EncryptedTextField(_("insurance scheme"))
    address = EncryptedJSONField(_("postal address"))  # see enrollment.postal.PostalAddress
    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="beneficiary",
        editable=False,
    )
    # When the person opposed the creation of their record (the flag and its date in one
    # column): no letter is ever sent to them while it is set. Set and lifted by staff through
    # the door, or by the registry's import (enrollment.services.opposition).
    opposed_at = models.DateTimeField(
        _("opposed to the creation of a record"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("added to the registry"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("registry of insured people")
        constraints = [
            # Opposition is to a record's creation: once the record exists it no longer applies
            # (closing the record is the patient's own path), so both never hold together.
            models.CheckConstraint(
                condition=Q(opposed_at__isnull=True) | Q(patient__isnull=True),
                name="beneficiary_opposition_without_record",
            ),
        ]

    def __str__(self) -> str:
        return gettext("insured person %(uid)s") % {"uid": self.uid}

    def age_on(self, day: date) -> int:
        return age_on(date.fromisoformat(self.birth_date), day)

    def is_minor_on(self, day: date) -> bool:
        """Under ``MAJORITY_AGE`` on ``day``: the one definition of a minor (a child's letters,
        confidential care). A birth date destroyed or given only in part decides nothing: not a
        minor."""
        if is_destroyed(self.birth_date):
            return False
        try:
            return self.age_on(day) < MAJORITY_AGE
        except ValueError:
            return False


# Legal representatives are the adults who act for a minor (issue 17).
MAJORITY_AGE = 18
REPRESENTATIVES_AT_MOST = 2


def age_on(born: date, day: date) -> int:
    """Full years between ``born`` and ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class RegistryRepresentative(models.Model):
    """A minor's legal representative, as the registry's import names them (column
    ``representative_nirs``): both are people of the registry, linked by their rows, so that no
    NIR is stored here. At most ``REPRESENTATIVES_AT_MOST`` per child, both adults: the import
    checks it with the child's row locked (enrollment.services.representatives); the database
    refuses a link twice and a person representing themself.

    Both links go with either person's registry entry (the purge deletes the purged person's).
    """

    child = models.ForeignKey(
        Beneficiary,
        on_delete=models.CASCADE,
        related_name="representative_links",
        verbose_name=_("minor"),
    )
    representative = models.ForeignKey(
        Beneficiary,
        on_delete=models.CASCADE,
        related_name="represented_links",
        verbose_name=_("legal representative"),
    )
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)

    class Meta:
        verbose_name = _("legal representative")
        verbose_name_plural = _("legal representatives")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "representative"], name="registry_representative_once"
            ),
            models.CheckConstraint(
                condition=~Q(child=models.F("representative")),
                name="registry_representative_not_self",
            ),
        ]

    def __str__(self) -> str:
        return gettext("legal representative no. %(number)s") % {"number": self.pk}


class RequestOutcome(models.TextChoices):
    PENDING = "pending", _("Not processed yet")
    LETTER = "letter", _("Letter requested")
    UNKNOWN = "unknown", _("Not in the registry")
    MINOR = "minor", _("Not eligible: minor")
    ENROLLED = "enrolled", _("Record already exists")
    CODE_PENDING = "code_pending", _("A code was sent recently")
    # The record exists: a reactivation letter (a new code for a new password) goes out.
    REACTIVATION = "reactivation", _("Reactivation letter requested")
    # The person opposed the creation of their record: no letter, the same answer on the page.
    OPPOSED = "opposed", _("No letter: the person opposed the creation of a record")
    # A minor: a letter to each legal representative of the registry who needs one (issue 17).
    REPRESENTATIVES = "representatives", _("Letters to the legal representatives requested")


class EnrollmentRequest(models.Model):
    """One valid request typed on /enrollment/; a background task decides what follows.

    The web request does the same work whatever the registry holds (store this row, queue the
    task), so neither its answer nor its timing tells whether a number is known.
    """

    nir_index = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=RequestOutcome.choices, default=RequestOutcome.PENDING
    )

    class Meta:
        verbose_name = _("enrolment request")
        verbose_name_plural = _("enrolment requests")

    def __str__(self) -> str:
        return gettext("enrolment request no. %(number)s") % {"number": self.pk}


class CodePurpose(models.TextChoices):
    """What a code opens: a new record, or an existing one whose holder lost their way in."""

    CREATION = "creation", _("Creation of the record")
    REACTIVATION = "reactivation", _("Reactivation of the account")
    # Issue 17: a minor's code, for one of their legal representatives (``representative``),
    # used by that person logged into their own account (enrollment.services.minors).
    REPRESENTATION = "representation", _("Legal representation of a minor")
    # Issue 17: a child's record taken over by the young adult at 18 (services.majority): the
    # existing account gets its first password, as a reactivation gives a new one.
    MAJORITY = "majority", _("Takeover of the record at majority")


class CreationCodeQuerySet(models.QuerySet):
    def live(self):
        """Neither used, nor replaced by a newer letter or a returned one, nor burned."""
        return self.filter(used_at__isnull=True, superseded_at__isnull=True, burned_at__isnull=True)

    def holding_back_letters(self, since, now):
        """Codes that stop a new letter: sent since ``since``, neither used nor replaced, and
        either still valid or burned by wrong tries. A burned code holds back like a live one,
        so that burning codes cannot be used to have letter after letter sent."""
        return self.filter(
            created_at__gte=since, used_at__isnull=True, superseded_at__isnull=True
        ).filter(Q(burned_at__isnull=False) | Q(expires_at__gt=now))


class CreationCode(models.Model):
    """A one-time code, printed in one letter; only its keyed hash is stored."""

    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="creation_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The same rules for both purposes; only what using the code does differs.
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=CodePurpose.choices, default=CodePurpose.CREATION
    )
    # A representation code's legal representative (their registry row), else None.
    representative = models.ForeignKey(
        Beneficiary,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("legal representative"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    burned_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    last_failed_at = models.DateTimeField(null=True, blank=True)

    objects = CreationCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("creation code")
        verbose_name_plural = _("creation codes")
        indexes = [
            models.Index(
                fields=["beneficiary"],
                condition=Q(
                    used_at__isnull=True, superseded_at__isnull=True, burned_at__isnull=True
                ),
                name="creation_code_live",
            ),
        ]

    def __str__(self) -> str:
        return f"creation code #{self.pk}"  # never the code, not even its hash

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.used_at is None
            and self.superseded_at is None
            and self.burned_at is None
            and now < self.expires_at
        )


class RepresentativeLetter(models.Model):
    """Which legal representative a minor's code letter is for: the letter itself
    (``letters.Letter``) names only the child, whose address it goes to. Gone with the letter or
    with the representative's registry entry (the letter is then void)."""

    letter = models.OneToOneField(
        "letters.Letter", on_delete=models.CASCADE, related_name="+", editable=False
    )
    representative = models.ForeignKey(
        Beneficiary,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("legal representative"),
    )

    class Meta:
        verbose_name = _("letter to a legal representative")
        verbose_name_plural = _("letters to legal representatives")

    def __str__(self) -> str:
        return f"representative letter #{self.pk}"


class ActivationAttempts(models.Model):
    """Wrong creation codes typed for one number (its blind index), known or not.

    In the database rather than the cache so that every refused try writes exactly one row,
    whatever the registry holds: the work (and the commit) of a refusal does not tell whether
    the number has a live code. Forgotten a day after the last wrong try, and when a new
    code is issued or the record activated.
    """

    nir_index = models.CharField(max_length=64, unique=True, editable=False)
    failures = models.PositiveIntegerField(default=0)
    last_failed_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("wrong creation code tries")
        verbose_name_plural = _("wrong creation code tries")

    def __str__(self) -> str:
        return f"activation attempts #{self.pk}"  # never the blind index


class RegistryChangeState(models.TextChoices):
    PENDING = "pending", _("Awaiting a second staff member")
    CONFIRMED = "confirmed", _("Confirmed and applied")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded by the registry import")


class RegistryChange(EncryptedModel):
    """A change to a person's identity or address, proposed by one staff member and applied
    only when a different one confirms it (four eyes): one staff member alone could otherwise
    send a pending enrolment's letter, and its creation code, to an address of their choosing.

    The proposed values are encrypted with the person's own data key, like the registry's
    fields; ``changed_fields`` names the fields only, so the review queue decrypts nothing.
    """

    data_key_path = "beneficiary.data_key"

    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="registry_changes"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    # {"last_name", "first_name", "birth_date", "regime", "address"}: the whole new identity.
    values = EncryptedJSONField(_("proposed values"))
    changed_fields = models.CharField(_("changed fields"), max_length=128)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=RegistryChangeState.choices,
        default=RegistryChangeState.PENDING,
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
        verbose_name = _("proposed registry change")
        verbose_name_plural = _("proposed registry changes")
        constraints = [
            # The database itself refuses a proposal confirmed by its own author.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposed_by")),
                name="registry_change_four_eyes",
            ),
            # One open proposal per person: a second one would be confirmed against stale data.
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(state="pending"),
                name="registry_change_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return gettext("proposed change no. %(number)s") % {"number": self.pk}  # never a value
