"""The contact e-mail address: given, confirmed by the link sent to it, changed or removed.

An address a person gives receives its confirmation link and nothing else until the link is
followed; only then does it replace the verified one (``accounts.selectors.verified_email``),
and the replaced address is told of the change. Every change that takes effect is audited
(``accounts.services.events.record_account_event``: the patient's chain for a patient, else the
system chain), never with the address itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from enum import StrEnum

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.contact import CONFIRMATION_LINK_VALIDITY, normalise_email
from accounts.models import ContactEmail, ContactEmailChange, User
from accounts.selectors import hash_activation_token, pending_contact_email
from accounts.services.events import ALLOWED, record_account_event
from accounts.throttling import Throttle
from dmp_portal.queueing import enqueue_on_commit

# Confirmation links sent to the addresses of one account within an hour: enough for typos,
# not a way to mail-bomb an address from a stolen session.
CONFIRMATIONS_PER_HOUR = 5
CONFIRMATION_THROTTLE = Throttle("contact-email-confirmation", CONFIRMATIONS_PER_HOUR, 3600)
# Wrong or stale confirmation links followed from one client address.
LINK_THROTTLE = Throttle("contact-email-link", 20, 15 * 60)


class ContactEmailRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContactEmailOutcome(StrEnum):
    UNCHANGED = "unchanged"
    # The address already waits for its confirmation: no new link (resend_confirmation sends one).
    PENDING = "pending"
    # A new address: its confirmation link is on its way.
    SENT = "sent"
    REMOVED = "removed"


def too_many(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many attempts. For your security, try again in %(minutes)d minute.",
        "Too many attempts. For your security, try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def give_contact_email(user: User, address: str, *, client_address: str) -> ContactEmailOutcome:
    """``user`` gives ``address`` as their contact address ("" removes it).

    The same address as the verified one changes nothing; the address already waiting for its
    confirmation is not sent another link (``resend_confirmation`` does that); a new address
    supersedes any pending one and is sent a confirmation link (throttled). Removing the verified
    address takes effect at once (nothing to prove) and tells the removed address.
    """
    address = address.strip()
    user.ensure_data_key()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
        current = ContactEmail.objects.filter(user=user).first()
        pending = pending_contact_email(user)
        if not address:
            _supersede_pending(user)
            if current is None:
                return ContactEmailOutcome.UNCHANGED
            return _remove(user, current, client_address)
        if current is not None and normalise_email(str(current.address)) == normalise_email(
            address
        ):
            _supersede_pending(user)
            return ContactEmailOutcome.UNCHANGED
        if pending is not None and normalise_email(str(pending.address)) == normalise_email(
            address
        ):
            return ContactEmailOutcome.PENDING
        waiting = CONFIRMATION_THROTTLE.attempt(str(user.pk))
        if waiting:
            raise ContactEmailRefused(too_many(waiting))
        _supersede_pending(user)
        change = ContactEmailChange.objects.create(user=user, address=address)
        enqueue_on_commit("accounts.tasks.send_contact_confirmation", change.pk)
    return ContactEmailOutcome.SENT


def resend_confirmation(user: User) -> bool:
    """Send the pending address a new confirmation link (the previous one stops working)."""
    pending = pending_contact_email(user)
    if pending is None:
        return False
    waiting = CONFIRMATION_THROTTLE.attempt(str(user.pk))
    if waiting:
        raise ContactEmailRefused(too_many(waiting))
    with transaction.atomic():
        enqueue_on_commit("accounts.tasks.send_contact_confirmation", pending.pk)
    return True


def _supersede_pending(user: User) -> None:
    ContactEmailChange.objects.filter(
        user=user, done_at__isnull=True, superseded_at__isnull=True
    ).update(superseded_at=timezone.now())


def _remove(user: User, current: ContactEmail, client_address: str) -> ContactEmailOutcome:
    now = timezone.now()
    change = ContactEmailChange.objects.create(
        user=user, address=None, done_at=now, replaced_address=str(current.address)
    )
    current.delete()
    record_account_event(
        "contact-email",
        ALLOWED,
        account=user,
        actor=user,
        reason="removed",
        client_address=client_address,
    )
    enqueue_on_commit("accounts.tasks.send_contact_change_notice", change.pk)
    return ContactEmailOutcome.REMOVED


def queue_unsent_confirmations() -> int:
    """Queue the confirmation link of every pending address never sent one; returns how many."""
    with transaction.atomic():
        pending = list(
            ContactEmailChange.objects.filter(
                done_at__isnull=True,
                superseded_at__isnull=True,
                sent_at__isnull=True,
                address__isnull=False,
            ).values_list("pk", flat=True)
        )
        for change_id in pending:
            enqueue_on_commit("accounts.tasks.send_contact_confirmation", change_id)
    return len(pending)


def confirmation_link_refused(client_address: str) -> bool:
    """Whether ``client_address`` is cooling off after too many bad confirmation links."""
    return bool(LINK_THROTTLE.refusal(client_address))


def confirmation_link_failed(client_address: str) -> None:
    """Count a wrong, used or expired confirmation link followed from ``client_address``."""
    LINK_THROTTLE.attempt(client_address)


def send_confirmation(change_id: int) -> bool:
    """E-mail the pending address its confirmation link: a new token each time (the previous
    link stops working), the only thing ever sent to an address not yet confirmed."""
    with transaction.atomic():
        change = (
            ContactEmailChange.objects.select_for_update(of=("self",))
            .select_related("user__data_key")
            .filter(pk=change_id, done_at__isnull=True, superseded_at__isnull=True)
            .first()
        )
        if change is None or not change.address:
            return False
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        change.token_hash = hash_activation_token(token)
        change.sent_at = now
        change.expires_at = now + CONFIRMATION_LINK_VALIDITY
        change.save(update_fields=["token_hash", "sent_at", "expires_at"])
        address, language = str(change.address), change.user.language
    context = {
        "confirm_url": f"{settings.DMP_SITE_URL}/accounts/email/confirm/{token}/",
        "validity_hours": int(CONFIRMATION_LINK_VALIDITY.total_seconds() // 3600),
    }
    mail_to("contact_confirm", context, address, language)
    return True


def confirm_contact_email(change_id: int, *, client_address: str) -> User:
    """Follow a confirmation link: its address becomes the verified contact address; the one
    it replaces is told. Refused when the link was used, superseded or has expired."""
    with transaction.atomic():
        change = (
            ContactEmailChange.objects.select_for_update(of=("self",))
            .select_related("user__data_key")
            .filter(pk=change_id)
            .first()
        )
        if change is None or not change.is_usable() or not change.address:
            raise ContactEmailRefused(_("This link is not valid (any more)."))
        user = change.user
        now = timezone.now()
        current = ContactEmail.objects.filter(user=user).first()
        if current is None:
            current = ContactEmail(user=user)
        elif normalise_email(str(current.address)) != normalise_email(str(change.address)):
            change.replaced_address = str(current.address)
        current.address = str(change.address)
        current.verified_at = now
        current.save()
        change.done_at = now
        change.save(update_fields=["done_at", "replaced_address"])
        record_account_event(
            "contact-email",
            ALLOWED,
            account=user,
            actor=user,
            reason="confirmed",
            client_address=client_address,
        )
        if change.replaced_address:
            enqueue_on_commit("accounts.tasks.send_contact_change_notice", change.pk)
    return user


def record_directory_email(user: User) -> None:
    """A practitioner who set their first password through the invitation link e-mailed to
    their directory address proved they read it: it becomes their verified contact address."""
    if not user.email:
        return
    user.ensure_data_key()
    contact = ContactEmail.objects.filter(user=user).first() or ContactEmail(user=user)
    contact.address = user.email
    contact.verified_at = timezone.now()
    contact.save()


def send_change_notice(change_id: int) -> bool:
    """Tell the replaced (verified) address that the contact address changed or was removed."""
    change = (
        ContactEmailChange.objects.select_related("user__data_key")
        .filter(pk=change_id, done_at__isnull=False)
        .first()
    )
    if change is None or not change.replaced_address:
        return False
    language = change.user.language
    with translation.override(language or settings.LANGUAGE_CODE):
        when = date_format(timezone.localtime(change.done_at), "DATETIME_FORMAT")
    context = {
        "removed": not change.address,
        "when": when,
        "site_url": settings.DMP_SITE_URL,
        "phone": settings.DMP_OPERATOR_PHONE,
    }
    mail_to("contact_changed", context, str(change.replaced_address), language)
    return True


def mail_to(template: str, context: Mapping[str, object], address: str, language: str) -> None:
    """Write ``accounts/email/<template>_*.txt`` in the person's language and send it. Callers
    pass a verified address, or the one a confirmation link is for (nothing else)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{template}_body.txt", context)
    send_mail(subject, body, None, [address])
