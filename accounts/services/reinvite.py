"""Staff send a practitioner a new invitation (issue 15, item 8): the way back in for a
practitioner who lost their password or their second factor.

A practitioner cannot reset a second factor alone: the password reset keeps it, and no page
removes the last one. Staff can, here: the account goes back to the state of a new invitation
(no usable password, not active, no second factor, no backup code, no session, no
application's token) and the
practitioner is e-mailed a new single-use activation link, the invitation's own
(``send_invitation``): the link's holder sets a password, then a second factor, as at first.

The link goes to the directory's address, the practitioners' root of trust. When the
practitioner confirmed another contact address, that one is told too, without link or code:
if the directory's mailbox is the attacker's, the practitioner still learns of it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import User, UserKind
from accounts.selectors import verified_email
from accounts.services.applications import REVOKED_BY_REINVITATION, revoke_every_access
from accounts.services.events import ALLOWED, record_account_event
from accounts.services.factors import remove_every_second_factor
from accounts.services.practitioners import issue_activation_link
from accounts.services.sessions import end_other_sessions
from dmp_portal.queueing import enqueue_on_commit


class NotAPractitioner(Exception):
    """No practitioner's account has this id: nothing changed."""


@transaction.atomic
def reinvite_practitioner(
    practitioner_id: uuid.UUID | str, *, staff: User, client_address: str
) -> User:
    """Reset the practitioner's password, second factors and sessions, record it on the system
    chain in ``staff``'s name, and e-mail the new invitation once the transaction commits."""
    user = (
        User.objects.select_for_update()
        .filter(pk=practitioner_id, kind=UserKind.PRACTITIONER)
        .first()
    )
    if user is None:
        raise NotAPractitioner
    user.set_unusable_password()
    user.is_active = False  # the activation link makes it active again (send_invitation's rule)
    user.save(update_fields=["password", "is_active"])
    remove_every_second_factor(user)  # app, backup codes and passkeys: the lost phone's too
    end_other_sessions(user, None, actor=staff, client_address=client_address, reason="reinvite")
    # Issue 19: and every access of their software (a token outlives neither the deactivation
    # nor the lost factor; the activation link does not bring them back).
    revoke_every_access(
        user, reason=REVOKED_BY_REINVITATION, actor=staff, client_address=client_address
    )
    record_account_event(
        "reinvite", ALLOWED, account=user, actor=staff, client_address=client_address
    )
    enqueue_on_commit("accounts.tasks.send_practitioner_reinvitation", str(user.pk))
    enqueue_on_commit("accounts.tasks.send_practitioner_reinvitation_notice", str(user.pk))
    return user


def send_reinvitation(user_id: str) -> bool:
    """E-mail the new invitation: the invitation's own single-use link (``issue_activation_link``,
    which stops older ones), in words that say the access was reset by the service (staff may act
    on a suspicion, not only on request), what was removed, and whom to call if the practitioner
    did not expect it. Nothing if the account was activated meanwhile."""
    user = User.objects.filter(pk=user_id, kind=UserKind.PRACTITIONER, is_active=False).first()
    if user is None:
        return False
    token = issue_activation_link(user)
    context = {
        "activation_url": f"{settings.DMP_SITE_URL}/accounts/activate/{token}/",
        "validity_hours": int(settings.ACTIVATION_LINK_VALIDITY.total_seconds() // 3600),
        "phone": settings.DMP_OPERATOR_PHONE,
    }
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string("accounts/email/reinvitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/reinvitation_body.txt", context)
    send_mail(subject, body, None, [user.email])
    return True


def send_reinvitation_notice(user_id: str) -> bool:
    """Tell the practitioner's verified contact address, when it is not the directory's (where
    the link went), that the service reset their access: no link, no code, only whom to call.
    Nothing when there is no such address, or it is the directory's."""
    user = User.objects.filter(pk=user_id, kind=UserKind.PRACTITIONER).first()
    address = verified_email(user) if user is not None else None
    if user is None or address is None or address.casefold() == user.email.casefold():
        return False
    context = {"phone": settings.DMP_OPERATOR_PHONE, "site_url": settings.DMP_SITE_URL}
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string("accounts/email/reinvitation_notice_subject.txt", context)
        body = render_to_string("accounts/email/reinvitation_notice_body.txt", context)
    send_mail(subject.strip(), body, None, [address])
    return True
