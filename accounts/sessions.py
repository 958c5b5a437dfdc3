"""The session store (``SESSION_ENGINE = "accounts.sessions"``): Django's database sessions,
each row found by a keyed hash of the session's key and naming the account it belongs to, so
that a person can see their open sessions and end them (/accounts/sessions/).

Why a store of our own rather than a table of "known sessions" beside ``django_session``:
- ending a session must delete it from the store, so that its cookie is refused at once; a
  side table that keeps only a hash of the key cannot find the store's row, and one that keeps
  the key in clear is a second copy of every live credential;
- Django's own table keys each row by the cookie's value in clear: whoever reads the database
  (a backup, a replica, a support query) could take over every open session. Here the cookie's
  value is never stored: a row is found by HMAC(key) under a key derived from
  ``DMP_BLIND_INDEX_KEY`` (``dmp_portal.crypto.hashing``), so a copy of the table opens nothing.

The columns that describe a session (its account, browser, network, approximate place, start
and last activity) are copied from the session's own data each time the store saves it: the
login writes the browser, network and place once (``accounts.http.complete_second_factor``),
the timeout middleware the last activity at most once a minute, and ``cycle_key`` carries them
to the new key. So the list costs no query of its own, and a session ended or expired leaves
nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dmp_portal.crypto.hashing import keyed_hash

# Keys of the session's data, written by accounts.middleware and accounts.http.
SESSION_STARTED = "_dmp_started"  # when the signed-in session started (epoch seconds)
SESSION_SEEN = "_dmp_seen"  # its last activity, to the minute (epoch seconds)
# What the person is shown to recognise this session: {"browser": ..., "network": ...,
# "place": ...}. Written once both factors are done; a session without it is not (yet) one of the
# account's.
SESSION_DEVICE = "_dmp_device"
# « Lyon, France »: a town and a country, cut to this length (accounts.services.places).
PLACE_MAX_LENGTH = 120

KEY_HASH_PURPOSE = "session-key"


def hash_session_key(session_key: str) -> str:
    """The store's key for a session: HMAC-SHA256 of the cookie's value (64 hex digits)."""
    return keyed_hash(KEY_HASH_PURPOSE, session_key)


class AccountSessionQuerySet(models.QuerySet["AccountSession"]):
    def alive(self) -> AccountSessionQuerySet:
        """Sessions the portal would still accept: signed in with both factors, within the idle
        and absolute timeouts (``accounts.middleware.SessionTimeoutMiddleware`` ends the others
        at their next request; until then they are not shown as open)."""
        now = timezone.now()
        return self.filter(
            user__isnull=False,
            expire_date__gt=now,
            last_seen_at__gt=now - settings.SESSION_IDLE_TIMEOUT,
            started_at__gt=now - settings.SESSION_ABSOLUTE_TIMEOUT,
        )

    def stale(self) -> AccountSessionQuerySet:
        """Sessions past a timeout whose cookie never came back to be ended."""
        now = timezone.now()
        return self.filter(
            models.Q(expire_date__lte=now)
            | models.Q(last_seen_at__lte=now - settings.SESSION_IDLE_TIMEOUT)
            | models.Q(started_at__lte=now - settings.SESSION_ABSOLUTE_TIMEOUT)
        )


class AccountSession(models.Model):
    """One session of the store. ``key_hash`` is a keyed hash of the cookie's value, never the
    value itself; ``session_data`` is Django's signed session dictionary."""

    key_hash = models.CharField(primary_key=True, max_length=64)
    session_data = models.TextField()
    expire_date = models.DateTimeField(db_index=True)
    # Set once both factors are done (the data holds SESSION_DEVICE): the account's sessions.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )
    browser = models.CharField(_("browser"), max_length=80, blank=True)
    # The network only (an IPv4 /24 or an IPv6 /48), never the full address: enough for the
    # person to recognise "that is my home, my office", no more (data minimisation).
    network = models.CharField(_("network"), max_length=48, blank=True)
    # The town and country of that network, or the country alone, from the place database
    # (DMP_GEOIP_PATH) at login; "" without one. Never more precise than a town.
    place = models.CharField(_("approximate place"), max_length=PLACE_MAX_LENGTH, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last activity"), null=True, blank=True)

    objects = AccountSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return f"session {self.key_hash[:8]}"

    def get_decoded(self) -> dict[str, Any]:
        return SessionStore().decode(self.session_data)

    def session_auth_hash(self) -> str:
        """The password-derived hash this session was signed in with ("" if none): a session
        whose hash no longer matches the account's is refused by Django at its next request."""
        return str(self.get_decoded().get(HASH_SESSION_KEY, ""))


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def _described(data: dict[str, Any]) -> dict[str, Any]:
    """The columns that describe a session, read from its data."""
    device = data.get(SESSION_DEVICE)
    if not isinstance(device, dict) or not data.get(SESSION_KEY):
        return {"user_id": None, "browser": "", "network": "", "place": "", "started_at": None}
    return {
        "user_id": data[SESSION_KEY],
        "browser": str(device.get("browser", ""))[:80],
        "network": str(device.get("network", ""))[:48],
        "place": str(device.get("place", ""))[:PLACE_MAX_LENGTH],
        "started_at": _moment(data.get(SESSION_STARTED)),
    }


class SessionStore(SessionBase):
    """Django's database session store, keyed by ``hash_session_key``. The asynchronous
    methods are SessionBase's, which run these in a thread."""

    def _row(self) -> AccountSession | None:
        if self.session_key is None:
            return None
        return AccountSession.objects.filter(
            key_hash=hash_session_key(self.session_key), expire_date__gt=timezone.now()
        ).first()

    def load(self) -> dict[str, Any]:
        row = self._row()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row.session_data)

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        return AccountSession.objects.filter(key_hash=hash_session_key(session_key)).exists()

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()  # type: ignore[attr-defined]  # SessionBase's, missing from django-stubs
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # the key was taken: draw another
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]  # as above
        row = AccountSession(
            key_hash=hash_session_key(self.session_key),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
            last_seen_at=_moment(data.get(SESSION_SEEN)) or timezone.now(),
            **_described(data),
        )
        try:
            with transaction.atomic():
                row.save(force_insert=must_create, force_update=not must_create)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            # The row is gone (the session was ended meanwhile): Django answers that the
            # session was interrupted, and the request's changes to it are not saved.
            if not must_create:
                raise UpdateError from None
            raise
        return None

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        AccountSession.objects.filter(key_hash=hash_session_key(session_key)).delete()

    @classmethod
    def clear_expired(cls) -> None:
        AccountSession.objects.filter(expire_date__lt=timezone.now()).delete()
