"""Background jobs of the accounts app. They take ids, never personal data."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import User, UserKind
from accounts.services.practitioners import issue_activation_link


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_practitioner_invitation(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, kind=UserKind.PRACTITIONER, is_active=False).first()
    if user is None:  # already activated, or removed since the import
        return
    token = issue_activation_link(user)
    context = {
        "activation_url": f"{settings.DMP_SITE_URL}/accounts/activate/{token}/",
        "validity_hours": int(settings.ACTIVATION_LINK_VALIDITY.total_seconds() // 3600),
        "site_url": settings.DMP_SITE_URL,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation_body.txt", context)
    send_mail(subject, body, None, [user.email])
