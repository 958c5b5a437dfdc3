"""Practitioner onboarding: import from the directory CSV, invitation link, first password."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import ActivationLink, PractitionerProfile, User, UserKind
from accounts.selectors import hash_activation_token
from accounts.services.contact_email import record_directory_email
from accounts.validators import PractitionerRowForm
from dmp_portal.csv_import import ImportReport
from dmp_portal.queueing import enqueue_on_commit


class ActivationRefused(Exception):
    pass


# Rows taken in one transaction (issue 18): a commit per row cost most of the import's time.
BATCH_ROWS = 500


def import_practitioners(rows: Iterable[tuple[int, Mapping[str, str]]]) -> ImportReport:
    """Upsert practitioners by RPPS number; each new one is e-mailed an activation link.

    ``rows`` pairs each row with its line number in the file, so that a rejected row can be
    found and fixed. A bad row is reported and skipped; it never stops the good ones.

    The rows are read as they come and taken ``BATCH_ROWS`` at a time, each batch in one
    transaction and each row in a savepoint (a rejected row leaves nothing, and its invitation
    is never queued: ``on_commit`` callbacks of a rolled-back savepoint are dropped). An error
    that is not a row's rolls back its batch only; running the file again completes it.
    """
    report = ImportReport()
    batch: list[tuple[int, dict[str, Any], bool]] = []
    for number, row in rows:
        form = PractitionerRowForm(data=row)
        if not form.is_valid():
            report.rejected.append((number, form.reason()))
            continue
        batch.append((number, form.cleaned_data, "city" in row))
        if len(batch) >= BATCH_ROWS:
            _import_batch(report, batch)
            batch = []
    _import_batch(report, batch)
    return report


@transaction.atomic
def _import_batch(report: ImportReport, batch: list[tuple[int, dict[str, Any], bool]]) -> None:
    for number, data, with_city in batch:
        try:
            with transaction.atomic():
                created = _upsert_practitioner(data, with_city=with_city)
        except IntegrityError:
            report.rejected.append(
                (number, _("rpps: this number is already used by another account."))
            )
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1


def _upsert_practitioner(data: Mapping[str, str], *, with_city: bool) -> bool:
    directory = ["last_name", "first_name", "profession", "specialty"]
    if with_city:
        directory.append("city")
    profile = (
        PractitionerProfile.objects.select_for_update()
        .select_related("user")
        .filter(rpps=data["rpps"])
        .first()
    )
    if profile is not None:
        for name in directory:
            setattr(profile, name, data[name])
        profile.save()
        profile.user.email = data["email"]
        profile.user.save(update_fields=["email"])
        return False
    user = User.objects.create_user(
        data["rpps"], kind=UserKind.PRACTITIONER, email=data["email"], is_active=False
    )
    PractitionerProfile.objects.create(
        user=user,
        rpps=data["rpps"],
        **{name: data[name] for name in directory},
    )
    user_id = str(user.pk)
    enqueue_on_commit("accounts.tasks.send_practitioner_invitation", user_id)
    return True


@transaction.atomic
def issue_activation_link(user: User) -> str:
    """A new single-use link token (older unused ones stop working); returned once, in clear."""
    now = timezone.now()
    ActivationLink.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    ActivationLink.objects.create(
        user=user,
        token_hash=hash_activation_token(token),
        created_at=now,
        expires_at=now + settings.ACTIVATION_LINK_VALIDITY,
    )
    return token


def send_invitation(user_id: str) -> bool:
    """E-mail a new activation link to a practitioner who has not activated yet."""
    user = User.objects.filter(pk=user_id, kind=UserKind.PRACTITIONER, is_active=False).first()
    if user is None:  # already activated, or removed since the import
        return False
    token = issue_activation_link(user)
    context = {
        "activation_url": f"{settings.DMP_SITE_URL}/accounts/activate/{token}/",
        "validity_hours": int(settings.ACTIVATION_LINK_VALIDITY.total_seconds() // 3600),
    }
    subject, body = _in_every_language(
        "accounts/email/invitation_subject.txt", "accounts/email/invitation_body.txt", context
    )
    send_mail(subject, body, None, [user.email])
    return True


# Between the versions of a message written in every language of the portal.
VERSION_SEPARATOR = "\n\n" + "-" * 40 + "\n\n"


def _in_every_language(
    subject_template: str, body_template: str, context: Mapping[str, object]
) -> tuple[str, str]:
    """A message for someone whose language is not known yet (an invitation comes before the
    first login, where it is remembered): the portal's first language, then each other one,
    in one e-mail. The subject joins the versions with " / " so that either reader sees their
    own in the inbox, and the message opens with a line, in each later language, that says its
    version follows."""
    subjects, bodies, pointers = [], [], []
    for index, (code, _name) in enumerate(settings.LANGUAGES):
        with translation.override(code):
            subjects.append(render_to_string(subject_template, context).strip())
            bodies.append(render_to_string(body_template, context).strip())
            if index:
                pointers.append(_("English version below."))
    head = "".join(pointer + "\n\n" for pointer in pointers)
    return " / ".join(subjects), head + VERSION_SEPARATOR.join(bodies) + "\n"


@transaction.atomic
def activate_practitioner(link_id: int, password: str) -> User:
    """Consume the link and set the first password (already checked by the password rules)."""
    link = ActivationLink.objects.select_for_update().select_related("user").get(pk=link_id)
    if not link.is_usable():
        raise ActivationRefused(_("This activation link has expired or was already used."))
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    user = link.user
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    record_directory_email(user)
    return user
