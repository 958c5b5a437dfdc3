"""Notice of every opening: after an activation or a reactivation, the person is told by post
(at the Vitale address, in the next batch) and by e-mail at their confirmed contact address, so that
nobody can open their record in their name without their knowing it. No code in either.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.selectors import verified_email
from audit.models import Action, AuditEvent
from dmp_portal.queueing import enqueue_on_commit
from enrollment.models import Beneficiary
from letters.rendering.content import french_date
from letters.services import request_letter

OPENING_NOTICE = "opening_notice"
REACTIVATION_NOTICE = "reactivation_notice"
MAJORITY_NOTICE = "majority_notice"
OPENINGS = (Action.ACTIVATE, Action.REACTIVATE)


def announce_opening(beneficiary: Beneficiary, event: AuditEvent) -> None:
    """In the opening's transaction (``event`` records it): the notice letter is asked for, and
    the e-mail queued for when it commits; neither happens if the opening is rolled back."""
    reactivated = event.action == Action.REACTIVATE
    kind = REACTIVATION_NOTICE if reactivated else OPENING_NOTICE
    if event.action == Action.TAKE_OVER:
        # Issue 17, at 18 (services.majority): by post only; the e-mail task skips it, the
        # contact address being perhaps one a representative gave (not in OPENINGS).
        kind = MAJORITY_NOTICE
    request_letter(kind, beneficiary.uid, beneficiary.data_key)
    enqueue_on_commit("enrollment.tasks.send_opening_email", event.pk)


def send_opening_email(event_id: int) -> bool:
    """E-mail the notice of the opening recorded by ``event_id``; False when there is no such
    opening or the patient gave no address. In the language they last used (else French)."""
    event = (
        AuditEvent.objects.select_related("patient")
        .filter(pk=event_id, action__in=OPENINGS, patient__isnull=False)
        .first()
    )
    if event is None or event.patient is None:
        return False
    address = verified_email(event.patient)
    if address is None:
        return False
    day = timezone.localdate(event.occurred_at)
    context = {
        "reactivated": event.action == Action.REACTIVATE,
        "day": day,
        "phone": settings.DMP_OPERATOR_PHONE,
        "phone_hours": settings.DMP_OPERATOR_PHONE_HOURS,
        "site_url": settings.DMP_SITE_URL,
    }
    with translation.override(event.patient.language or settings.LANGUAGE_CODE):
        # In French, the first of the month is « 1er », as the letter says it (Django's French
        # DATE_FORMAT writes « 1 décembre »).
        french = translation.get_language() == "fr"
        context["day"] = french_date(day) if french else date_format(day, "DATE_FORMAT")
        subject = render_to_string("enrollment/email/opening_subject.txt", context)
        body = render_to_string("enrollment/email/opening_body.txt", context)
    send_mail(subject.strip(), body, None, [address])
    return True
