"""Password forgotten (a single-use link to the verified contact address) and password change.

Neither touches the second factor: after a reset, the next login still asks for the code of
the authenticator app; a change asks for it on the spot. So a reset is only for an account that
has a confirmed second factor (TOTP or passkey): one without (just reactivated by post, or never
set up) is sent no link and no link opens it, since whoever holds the mailbox would then set up
their own factor. Both end every other session of the account, through Django's session auth
hash (a session whose stored hash no longer matches the password is flushed at its next
request); the change keeps the current one. Both also end every access a practitioner's
software holds (``revoke_every_access``: its tokens came with the old password). Both are
audited (``record_account_event``): a reset in no one's name, since holding the mailbox's link
does not prove who one is.

The reset request answers the same whatever the address: it does the same work for an unknown
address as for a known one (one blind-index look-up, one audit event, one task queued: with the
accounts' ids, or none), and the e-mail itself is written by that task, outside the request.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.contact import RESET_LINK_VALIDITY
from accounts.models import PasswordResetLink, User, UserKind
from accounts.selectors import (
    accounts_with_verified_email,
    has_second_factor,
    hash_activation_token,
    usable_reset_link,
    verified_email,
)
from accounts.services.applications import (
    REVOKED_BY_PASSWORD_CHANGE,
    REVOKED_BY_PASSWORD_RESET,
    revoke_every_access,
)
from accounts.services.authentication import LoginRefused, verify_second_factor
from accounts.services.contact_email import mail_to, too_many
from accounts.services.events import ALLOWED, REFUSED, record_account_event
from accounts.services.sessions import end_other_sessions
from accounts.throttling import Throttle
from dmp_portal.queueing import enqueue_on_commit

# Reset requests: per client address (spraying addresses) and per e-mail address (flooding one
# mailbox), counted whatever the address, so that the throttle tells nothing either.
RESET_REQUESTS_PER_CLIENT = 20
RESET_REQUESTS_PER_ADDRESS = 3
RESET_PERIOD_SECONDS = 3600
# Reset links followed from one client address that turn out wrong, used or expired.
RESET_LINK_FAILURES_PER_CLIENT = 20
RESET_LINK_COOLOFF_SECONDS = 15 * 60


class PasswordRefused(Exception):
    """``field``: the form field the message belongs to (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _change_throttle() -> Throttle:
    return Throttle(
        "password-change",
        settings.LOGIN_FAILURES_PER_ACCOUNT,
        int(settings.LOGIN_COOLOFF.total_seconds()),
    )


CLIENT_THROTTLE = Throttle("reset-request-client", RESET_REQUESTS_PER_CLIENT, RESET_PERIOD_SECONDS)
ADDRESS_THROTTLE = Throttle(
    "reset-request-address", RESET_REQUESTS_PER_ADDRESS, RESET_PERIOD_SECONDS
)
LINK_THROTTLE = Throttle(
    "reset-link-client", RESET_LINK_FAILURES_PER_CLIENT, RESET_LINK_COOLOFF_SECONDS
)


def request_password_reset(address: str, *, client_address: str) -> None:
    """Someone asks for a reset link for ``address``. Each active patient or practitioner
    account whose verified contact address it is gets a link, by a task; an unknown or
    unverified address gets nothing. Either way: one look-up, one audit event (the system
    chain records an unknown address without it) and exactly one task queued (with no id for an
    unknown address: the broker is reached either way), and the caller shows the same page.
    Throttled per client and per address, whatever the address (PasswordRefused)."""
    for throttle, subject in (
        (CLIENT_THROTTLE, client_address),
        (ADDRESS_THROTTLE, address.strip().lower()),
    ):
        waiting = throttle.attempt(subject)
        if waiting:
            raise PasswordRefused(too_many(waiting))
    with transaction.atomic():
        accounts = accounts_with_verified_email(address)
        for user in accounts:
            record_account_event(
                "password-reset-request",
                ALLOWED,
                account=user,
                actor=None,
                reason=_account_reason("", user),
                client_address=client_address,
            )
        if not accounts:
            record_account_event(
                "password-reset-request",
                REFUSED,
                account=None,
                actor=None,
                reason="unknown-address",
                client_address=client_address,
            )
        # One task whatever the address: the known path must not do more work (a broker push).
        enqueue_on_commit("accounts.tasks.send_password_reset", *(user.pk for user in accounts))


def _account_reason(reason: str, user: User) -> str:
    """On the system chain (a practitioner), the event says which account it is about."""
    if user.kind == UserKind.PATIENT:
        return reason
    return " ".join(part for part in (reason, f"account:{user.pk}") if part)[:64]


def expire_reset_links(user: User) -> None:
    """Every unused reset link of ``user`` stops working: after a reset, a change or a postal
    reactivation, a link kept from before (perhaps by whoever holds the mailbox) opens nothing."""
    PasswordResetLink.objects.filter(user=user, used_at__isnull=True).update(
        expires_at=timezone.now()
    )


@transaction.atomic
def issue_reset_link(user: User) -> str:
    """A new single-use link token (older unused ones stop working); returned once, in clear."""
    expire_reset_links(user)
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    PasswordResetLink.objects.create(
        user=user,
        token_hash=hash_activation_token(token),
        created_at=now,
        expires_at=now + RESET_LINK_VALIDITY,
    )
    return token


def send_reset_links(user_ids: tuple[str, ...]) -> int:
    """The task of one reset request: a link to each account (none for an unknown address).
    Returns how many were sent."""
    return sum(send_reset_link(user_id) for user_id in user_ids)


def send_reset_link(user_id: str) -> bool:
    """E-mail a reset link to the verified contact address of an active account that has a
    confirmed second factor. Nothing otherwise: without a factor, the link's holder would set up
    their own (the reset page explains the postal reactivation instead)."""
    user = User.objects.filter(
        pk=user_id, is_active=True, kind__in=[UserKind.PATIENT, UserKind.PRACTITIONER]
    ).first()
    address = verified_email(user) if user is not None else None
    if user is None or address is None or not has_second_factor(user):
        return False
    token = issue_reset_link(user)
    context = {
        "reset_url": f"{settings.DMP_SITE_URL}/accounts/password/reset/{token}/",
        "validity_hours": int(RESET_LINK_VALIDITY.total_seconds() // 3600),
        "identifier": user.get_username(),
        "phone": settings.DMP_OPERATOR_PHONE,
    }
    mail_to("password_reset", context, address, user.language)
    return True


def reset_link_refused(client_address: str) -> bool:
    """Whether ``client_address`` is cooling off after too many bad reset links (then even a
    good link gets the same "not valid" page: guessing tokens gains nothing)."""
    return bool(LINK_THROTTLE.refusal(client_address))


def open_reset_link(
    *, client_address: str, token: str | None = None, link_id: int | None = None
) -> PasswordResetLink | None:
    """The reset link of ``token`` (followed from the e-mail) or ``link_id`` (kept in the
    session) if it can still set a password: unused, not expired, its account active and holding
    a confirmed second factor. Otherwise None, the one "not valid" answer for every case: the
    refusal is counted against ``client_address`` and audited (``refuse_reset_link``). Nothing is
    recorded while the client address cools off (a flood would only fill the trail)."""
    if reset_link_refused(client_address):
        return None
    link = usable_reset_link(token=token, link_id=link_id)
    if link is not None and link.user.is_active and has_second_factor(link.user):
        return link
    refuse_reset_link(client_address=client_address, token=token, link_id=link_id)
    return None


def refuse_reset_link(
    *, client_address: str, token: str | None = None, link_id: int | None = None
) -> None:
    """Count and audit a wrong, used or expired link: refused on the system chain (reason
    ``bad-link``, never the token), and, when the link is a real one of some account, on that
    account's chain too (the patient's for a patient), in no one's name: its owner sees that
    someone tried an old link."""
    LINK_THROTTLE.attempt(client_address)
    links = PasswordResetLink.objects.select_related("user")
    if token is not None:
        link = links.filter(token_hash=hash_activation_token(token)).first()
    else:
        link = links.filter(pk=link_id).first() if link_id is not None else None
    with transaction.atomic():
        record_account_event(
            "password-reset",
            REFUSED,
            account=None,
            actor=None,
            reason="bad-link",
            client_address=client_address,
        )
        if link is not None:
            record_account_event(
                "password-reset",
                REFUSED,
                account=link.user,
                actor=None,
                reason=_account_reason("bad-link", link.user),
                client_address=client_address,
            )


def reset_password(link_id: int, password: str, *, client_address: str) -> User:
    """Consume the link and set the new password (already checked by the password rules).
    The second factor stays; every session of the account ends (its auth hash changes).
    Recorded in no one's name: holding the mailbox's link proves no one's identity, so the
    patient finds the reset among what others did, where they look first."""
    with transaction.atomic():
        link = (
            PasswordResetLink.objects.select_for_update()
            .select_related("user")
            .filter(pk=link_id)
            .first()
        )
        usable = (
            link is not None
            and link.is_usable()
            and link.user.is_active
            and has_second_factor(link.user)
        )
        if link is not None and usable:
            now = timezone.now()
            link.used_at = now
            link.save(update_fields=["used_at"])
            user = link.user
            expire_reset_links(user)
            user.set_password(password)
            user.save(update_fields=["password"])
            record_account_event(
                "password-reset",
                ALLOWED,
                account=user,
                actor=None,
                reason=_account_reason("", user),
                client_address=client_address,
            )
            end_other_sessions(
                user, None, client_address=client_address, reason="password", unproven=True
            )
            # Issue 19: the software's tokens too (a reset is what follows a lost account).
            revoke_every_access(
                user, reason=REVOKED_BY_PASSWORD_RESET, actor=None, client_address=client_address
            )
            enqueue_on_commit("accounts.tasks.send_password_changed_notice", user.pk)
            return user
    refuse_reset_link(client_address=client_address, link_id=link_id)
    raise PasswordRefused(_("This link is not valid (any more)."))


def change_password(
    user: User,
    *,
    old_password: str,
    new_password: str,
    otp_token: str,
    client_address: str,
    known_browser: bool,
    keep_session_key: str | None = None,
) -> User:
    """A signed-in person changes their password: the current one and a fresh second factor
    (the login's check, throttled like it) are asked first; a wrong one changes nothing.
    The caller keeps the current session (``update_session_auth_hash``); the others end."""
    throttle = _change_throttle()
    subject = str(user.pk)
    waiting = throttle.attempt(subject)
    if waiting:
        raise PasswordRefused(too_many(waiting))
    if not user.check_password(old_password):
        _record_refusal(user, "wrong-password", client_address)
        raise PasswordRefused(_("This is not your current password."), field="old_password")
    try:
        verify_second_factor(
            user, otp_token, client_address=client_address, known_browser=known_browser
        )
    except LoginRefused as refusal:
        _record_refusal(user, "wrong-code", client_address)
        raise PasswordRefused(refusal.message, field="otp_token") from refusal
    throttle.succeeded(subject)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.set_password(new_password)
        locked.save(update_fields=["password"])
        # A link asked before, perhaps by whoever reads the mailbox, must not undo the change.
        expire_reset_links(locked)
        record_account_event(
            "password-change",
            ALLOWED,
            account=locked,
            actor=locked,
            client_address=client_address,
        )
        # Django's session auth hash already refuses them; this also takes them out of the store
        # and off the sessions page at once.
        end_other_sessions(
            locked, keep_session_key, client_address=client_address, reason="password"
        )
        # Issue 19: the software's tokens too; the practitioner approves them again.
        revoke_every_access(
            locked, reason=REVOKED_BY_PASSWORD_CHANGE, actor=locked, client_address=client_address
        )
        enqueue_on_commit("accounts.tasks.send_password_changed_notice", locked.pk)
    user.password = locked.password
    return user


def _record_refusal(user: User, reason: str, client_address: str) -> None:
    record_account_event(
        "password-change",
        REFUSED,
        account=user,
        actor=user,
        reason=reason,
        client_address=client_address,
    )


def send_changed_notice(user_id: str) -> bool:
    """Tell the verified contact address, if any, that the password was changed."""
    user = User.objects.filter(pk=user_id).first()
    address = verified_email(user) if user is not None else None
    if user is None or address is None:
        return False
    with translation.override(user.language or settings.LANGUAGE_CODE):
        when = date_format(timezone.localtime(), "DATETIME_FORMAT")
    context = {
        "when": when,
        "site_url": settings.DMP_SITE_URL,
        "phone": settings.DMP_OPERATOR_PHONE,
    }
    mail_to("password_changed", context, address, user.language)
    return True
