"""Session lifetime and the second-factor gate, applied to every request."""

from __future__ import annotations

import time
from functools import cache, partial
from typing import Any, NamedTuple

from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from accounts.oidc import PROVIDER_FACTOR, second_factor_passed

# The session's start and last activity are also the columns of the account's sessions page,
# which the store copies from the data (accounts.sessions): named there, used here.
from accounts.sessions import SESSION_SEEN, SESSION_STARTED

__all__ = ["SESSION_EXPIRED_FLAG", "SESSION_SEEN", "SESSION_STARTED", "VerifiedUserMiddleware"]

SESSION_EXPIRED_FLAG = "_dmp_expired"
# Writing the session on every request costs a database write; a minute's precision is enough
# for a 15-minute idle timeout, and for the "last activity" of the sessions page (the store
# copies it into its column on that same write: no query of its own).
SEEN_PRECISION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends an authenticated session after 15 idle minutes or 12 hours, on the server."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = time.time()
            started = session.setdefault(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - seen > idle or now - started > absolute:
                session.flush()
                session[SESSION_EXPIRED_FLAG] = True
            elif now - seen >= SEEN_PRECISION_SECONDS or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """A user who passed only the password reaches nothing but the second-factor pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not second_factor_passed(request):
            path = request.path_info
            if not any(path.startswith(prefix) for prefix in self._open_prefixes()):
                return redirect(f"{reverse('accounts:login')}")
        elif user.is_authenticated and not user.is_verified():
            # Issue 19: passed through the OpenID Connect provider (accounts/oidc.py), whose
            # strong authentication (CPS card, e-CPS) is this session's second factor: named as
            # its django-otp device, so that the pages asking is_verified() agree.
            user.otp_device = PROVIDER_FACTOR
        return self.get_response(request)

    @staticmethod
    def _open_prefixes() -> tuple[str, ...]:
        return (
            reverse("accounts:login"),
            reverse("accounts:logout"),
            reverse("accounts:extend-session"),
            reverse("accounts:2fa-setup"),
            "/accounts/activate/",
            "/healthz",
            # The public pages: the help for a lost phone is read at this very step.
            reverse("public:help"),
            reverse("public:legal"),
            reverse("public:privacy"),
            reverse("public:accessibility"),
            "/i18n/",
            settings.STATIC_URL,
            # The FHIR API (issue 19) reads no session: its caller is named by a bearer token,
            # issued after both factors; a half-open session there is no one.
            "/fhir/",
        )


# The backend of a password login (accounts.http.log_in_first_factor); the OpenID Connect
# provider's sessions name no django-otp device (accounts.oidc) and keep the stock path.
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


class SessionDevice(NamedTuple):
    """The device a password session names (django-otp's persistent id), and its user."""

    model: type[Device]
    pk: int
    user_pk: Any


class VerifiedUserMiddleware(OTPMiddleware):
    """django-otp's ``OTPMiddleware`` (in its place, below authentication), whose check of the
    session's device costs no query of its own.

    django-otp loads the signed-in user (Django's ``get_user``), then the device the session
    names (``Device.from_persistent_id``): two ORM queries on every request, the second the
    largest part of the portal's own middleware cost (README « Load benchmark »). Here one
    statement loads the user and asks, in the same round trip, whether the named device still
    is hers and confirmed: django-otp's own conditions (``_finalize_device``). When it says yes
    and the session holds, the request gets what the stock path gives: the same user (active,
    the session's password hash current) marked verified by that device, which is loaded from
    the database only if a page reads it (``otp_device``: the admin and the pages asking for a
    passkey). In every other case (no device named, another backend, a device deleted,
    disabled or given to another account, an inactive account, a changed password, a malformed
    session) the stock path runs unchanged and decides as before, dropping the device from the
    session or ending the session: a device's removal still ends verification at the very next
    request. The asynchronous path (``auser``) is django-otp's, unchanged.
    """

    def _verify_user_sync(self, request, user):
        named = _session_device(request.session)
        signed_in = _user_if_device_holds(request.session, named) if named else None
        if named is None or signed_in is None:
            return super()._verify_user_sync(request, user)
        # Django's AuthenticationMiddleware caches the user it loads there: anything asking it
        # gets this very object, as with the stock path (which marks the object it cached).
        request._cached_user = signed_in
        self._init_user_fields(signed_in)
        signed_in.otp_device = SimpleLazyObject(partial(_device, named))
        return signed_in


def _session_device(session) -> SessionDevice | None:
    """The device named by a password session, or None (the stock path then decides)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id or session.get(BACKEND_SESSION_KEY) != PASSWORD_BACKEND:
        return None
    if PASSWORD_BACKEND not in settings.AUTHENTICATION_BACKENDS or SESSION_KEY not in session:
        return None
    # As django-otp reads a persistent id (Device._filter_persistent_id): "app.model/pk".
    try:
        model_label, device_id = OTPMiddleware._normalize_persistent_id(persistent_id).rsplit(
            "/", 1
        )
        app_label, model_name = model_label.split(".")
        model = apps.get_model(app_label, model_name)
        user_pk = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        device_pk = int(device_id)
    except (ValueError, LookupError, TypeError, ValidationError):
        return None
    if not issubclass(model, Device):
        return None
    return SessionDevice(model, device_pk, user_pk)


def _user_if_device_holds(session, named: SessionDevice):
    """The session's user, only where Django's ``get_user`` and django-otp would both accept
    her with the named device (the device hers and confirmed, the account active, the
    session's password hash current); None otherwise."""
    user_model = get_user_model()
    # The user's pk as its column holds it (a UUID is text on SQLite, the development base).
    user_pk = user_model._meta.pk.get_db_prep_value(named.user_pk, connection)
    users = user_model._default_manager.raw(_user_with_device_sql(named.model), [named.pk, user_pk])
    user = next(iter(users), None)
    if user is None:
        return None
    holds = bool(user.__dict__.pop(DEVICE_HOLDS))
    session_hash = session.get(HASH_SESSION_KEY)
    if not (
        holds
        and ModelBackend().user_can_authenticate(user)
        and session_hash
        and constant_time_compare(session_hash, user.get_session_auth_hash())
    ):
        return None
    return user


DEVICE_HOLDS = "otp_device_holds"


@cache
def _user_with_device_sql(model: type[Device]) -> str:
    """The user's row and whether ``model``'s row of that pk is hers and confirmed, in one
    statement (parameters: the device's pk, the user's pk).

    Written as SQL, built once per device model from the models' own names: the ORM's building
    of the same query (an annotated ``Exists``, or the device ``select_related`` to its user)
    costs more than the round trip it saves (README « Load benchmark », timed in turns: the
    join as slow as django-otp's two queries, the ``Exists`` slower)."""
    quote = connection.ops.quote_name
    user_meta, device_meta = get_user_model()._meta, model._meta

    def column(meta, name: str) -> str:
        return f"{quote(meta.db_table)}.{quote(str(meta.get_field(name).column))}"

    user_table, device_table = quote(user_meta.db_table), quote(device_meta.db_table)
    user_pk = f"{user_table}.{quote(str(user_meta.pk.column))}"
    return (
        f"SELECT {user_table}.*, EXISTS (SELECT 1 FROM {device_table}"  # noqa: S608 - names from the models
        f" WHERE {column(device_meta, device_meta.pk.name)} = %s"
        f" AND {column(device_meta, 'user')} = {user_pk} AND {column(device_meta, 'confirmed')})"
        f" AS {quote(DEVICE_HOLDS)} FROM {user_table} WHERE {user_pk} = %s"
    )


def _device(named: SessionDevice) -> Device | None:
    """The session's device, for a page that reads it (None if it went meanwhile)."""
    # Confirmed, as django-otp's own check asks: a device disabled since the statement above.
    return named.model.objects.filter(pk=named.pk, user_id=named.user_pk, confirmed=True).first()
