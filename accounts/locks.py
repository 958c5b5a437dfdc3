"""The login throttles that hold now, as staff see them (issue 15, item 9).

A throttle's counters live in the cache under keyed hashes (``accounts.throttling``): the
cache cannot be listed, and its keys tell nothing. When a login throttle trips, a row is
written here too (rarely: at most once per cool-off and subject), saying only what is safe to
show staff: which throttle, until when, the account the identifier belongs to if any (never
the identifier typed, which may be a mistyped password or someone else's guess), and the
network of the client (never its address). Staff lift one from the admin; the row goes, and
so do the cache's counters.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ThrottleLockQuerySet(models.QuerySet["ThrottleLock"]):
    def holding(self) -> ThrottleLockQuerySet:
        return self.filter(until__gt=timezone.now())


class ThrottleLock(models.Model):
    scope = models.CharField(_("throttle"), max_length=32)
    # The keyed hash the cache's keys carry: how lifting finds them.
    key_digest = models.CharField(max_length=64)
    until = models.DateTimeField(_("until"), db_index=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )
    network = models.CharField(_("network"), max_length=48, blank=True)
    tripped_at = models.DateTimeField(_("since"), default=timezone.now)

    objects = ThrottleLockQuerySet.as_manager()

    class Meta:
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_digest"], name="throttlelock_key"),
        ]

    def __str__(self) -> str:
        # The admin's title: never the account it names (a patient's is "Patient account").
        return gettext("Login throttle no. %(number)s") % {"number": self.pk}
