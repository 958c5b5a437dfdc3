"""Users, practitioner profiles and activation links.

People's identities that are not public stay out of this table: a patient's name, NIR and address
live encrypted with the enrolment data. Practitioners' names, RPPS number and profession are the
public data of the national directory of health professionals, so they are kept in clear.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.names import search_key
from accounts.professions import Profession
from accounts.validators import validate_rpps
from dmp_portal.crypto.datakeys import create_data_key


class UserKind(models.TextChoices):
    PATIENT = "patient", _("Patient")
    PRACTITIONER = "practitioner", _("Practitioner")
    STAFF = "staff", _("Staff")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, *, kind: str, **extra):
        user = self.model(username=username, kind=kind, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(username, password, kind=UserKind.STAFF, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    # The primary key is a random UUID, so that no URL, e-mail or admin page ever shows a
    # sequential number that would tell how many accounts exist or invite guessing.
    id = models.UUIDField(_("account id"), primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        _("login identifier"),
        max_length=64,
        unique=True,
        error_messages={"unique": _("This login identifier is already taken.")},
    )
    kind = models.CharField(_("kind of account"), max_length=16, choices=UserKind.choices)
    email = models.EmailField(_("e-mail address"), blank=True)
    # A staff member's name, which the header shows instead of the login identifier; patients
    # and practitioners are named by the registry and the directory, never here.
    first_name = models.CharField(_("first name"), max_length=150, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=150, blank=True, default="")
    # The portal's language the person last logged in with: their e-mails are written in it
    # (empty: never logged in, LANGUAGE_CODE).
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # The key of this person's encrypted data (second-factor secret; for a patient, the record).
    data_key = models.ForeignKey(
        "crypto.DataKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = UserManager()

    # Set by django-otp's middleware on each request (True once the second factor is passed).
    is_verified: Callable[[], bool]
    # Set on an unsaved account before its password is validated: the person's NIR, birth date
    # and names, which the password must not contain (see password_validation.py).
    _password_personal_data: list[object]

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=UserKind.values), name="user_kind_known"),
            # Only staff accounts may ever reach the admin.
            models.CheckConstraint(
                condition=Q(is_staff=False) | Q(kind=UserKind.STAFF), name="user_staff_is_staff"
            ),
        ]
        indexes = [
            # The admin's list of accounts, sorted by kind then date joined: read from the index
            # page by page, never a sort of every account.
            models.Index(fields=["kind", "date_joined"], name="user_admin_list"),
        ]

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        """The name set on the account ("" when none is)."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def public_id(self) -> uuid.UUID:
        return self.id

    @property
    def is_patient(self) -> bool:
        return self.kind == UserKind.PATIENT

    @property
    def is_practitioner(self) -> bool:
        return self.kind == UserKind.PRACTITIONER

    def personal_data_for_password_check(self) -> list[str]:
        """Values a password must not contain: names, identifiers, birth date."""
        values = [self.username, self.email.split("@")[0] if self.email else ""]
        profile = getattr(self, "practitioner_profile", None)
        if profile is not None:
            values += [profile.last_name, profile.first_name, profile.rpps]
        values += list(getattr(self, "_password_personal_data", []))
        return [value for value in values if value]

    @transaction.atomic
    def ensure_data_key(self) -> None:
        """Give this person a data key if they have none yet (patients get theirs at
        enrolment): whatever is sealed for them (a second-factor secret, a record) needs one."""
        if self.data_key_id is not None:
            return
        locked = User.objects.select_for_update().get(pk=self.pk)
        if locked.data_key_id is None:
            locked.data_key = create_data_key("account")
            locked.save(update_fields=["data_key"])
        self.data_key = locked.data_key


class PractitionerProfile(models.Model):
    user = models.OneToOneField(
        User,
        on_delete=models.CASCADE,
        related_name="practitioner_profile",
        verbose_name=_("account"),
    )
    rpps = models.CharField(
        _("RPPS number"), max_length=11, unique=True, validators=[validate_rpps]
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    profession = models.CharField(_("profession"), max_length=32, choices=Profession.choices)
    specialty = models.CharField(_("specialty"), max_length=100, blank=True)
    # Where they practise, as the directory gives it (optional column of the CSV): it tells
    # apart two practitioners of the same name when a patient grants access.
    city = models.CharField(_("city"), max_length=100, blank=True)
    # The last then first names in search form (accounts.names.search_key), kept by save():
    # the patient's search ignores accents and case with an index, on any database.
    search_key = models.CharField(_("search key"), max_length=201, editable=False, default="")
    # The same, first name first: a search on the first name alone is a prefix of this one,
    # with an index of its own.
    first_name_search_key = models.CharField(
        _("search key, first name first"), max_length=201, editable=False, default=""
    )

    class Meta:
        verbose_name = _("practitioner profile")
        verbose_name_plural = _("practitioner profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(rpps__regex=r"^[0-9]{11}$"), name="practitioner_rpps_11_digits"
            ),
        ]
        indexes = [
            # A prefix search (LIKE 'martin%'): PostgreSQL needs the pattern operator class
            # whatever the database's collation; other databases ignore it.
            models.Index(
                fields=["search_key"],
                name="practitioner_search_key",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["first_name_search_key"],
                name="practitioner_first_name_key",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.rpps})"

    def save(self, *args, **kwargs) -> None:
        self.fill_search_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"last_name", "first_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_key", "first_name_search_key"}
        super().save(*args, **kwargs)

    def fill_search_keys(self) -> None:
        """The search keys from the names: save() calls it, and so must a bulk write."""
        self.search_key = search_key(self.last_name, self.first_name)
        self.first_name_search_key = search_key(self.first_name, self.last_name)


class SingleUseLink(models.Model):
    """A link e-mailed once, that works once until it expires: only the hash of its token is
    stored. The activation link and the password reset link (``accounts.contact``) are two."""

    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and now < self.expires_at


class ActivationLink(SingleUseLink):
    """A single-use, expiring invitation to set a first password. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_links")

    class Meta:
        verbose_name = _("activation link")
        verbose_name_plural = _("activation links")

    def __str__(self) -> str:
        return f"activation link #{self.pk} for {self.user}"
