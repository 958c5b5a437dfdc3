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
# The directory's columns copied to the profile (``city`` only when the file has the column:
# a file without it leaves the city known before unchanged).
DIRECTORY_FIELDS = ("last_name", "first_name", "profession", "specialty")

Entry = tuple[int, dict[str, Any], bool]  # line number, the row's clean values, city column


def import_practitioners(rows: Iterable[tuple[int, Mapping[str, str]]]) -> ImportReport:
    """Upsert practitioners by RPPS number; each new one is e-mailed an activation link.

    ``rows`` pairs each row with its line number in the file, so that a rejected row can be
    found and fixed. A bad row is reported and skipped; it never stops the good ones.

    The rows are read as they come and taken ``BATCH_ROWS`` at a time, each batch in one
    transaction (``_import_batch``). An error that is not a row's rolls back its batch only:
    the earlier batches stay committed, their invitations queued, and running the same file
    again completes the import (known numbers are updated, the others created).
    """
    report = ImportReport()
    batch: list[Entry] = []
    for number, row in rows:
        form = PractitionerRowForm(data=row)
        if not form.is_valid():
            report.rejected.append((number, form.reason()))
            continue
        batch.append((number, form.cleaned_data, "city" in row))
        if len(batch) >= BATCH_ROWS:
            _import_batch(report, batch)
            batch = []
    if batch:
        _import_batch(report, batch)
    return report


@transaction.atomic
def _import_batch(report: ImportReport, batch: list[Entry]) -> None:
    """One batch in one transaction, in a few statements rather than five a row (issue 18).

    One locked lookup of the batch's numbers; a known practitioner is updated only in what
    changed (``_update_known``), the new ones are inserted in two bulk INSERTs. A number met
    again in the batch takes the row-by-row path after them, in file order, so the file's last
    row wins as before. When the bulk insert breaks a constraint (a login identifier already
    taken by another account, or a concurrent import), its rows take the row-by-row path
    instead, where such a row is rejected alone with its reason.
    """
    numbers = [data["rpps"] for _number, data, _with_city in batch]
    known = {
        profile.rpps: profile
        for profile in PractitionerProfile.objects.select_for_update()
        .select_related("user")
        .filter(rpps__in=numbers)
    }
    seen: set[str] = set()
    updates: list[Entry] = []
    creations: list[Entry] = []
    again: list[Entry] = []
    for entry in batch:
        rpps = entry[1]["rpps"]
        (again if rpps in seen else updates if rpps in known else creations).append(entry)
        seen.add(rpps)
    _update_known(report, updates, known)
    if not _create_new(report, creations):
        again = sorted(creations + again, key=lambda entry: entry[0])
    for entry in again:
        _import_row(report, entry)


def _update_known(
    report: ImportReport, entries: list[Entry], known: Mapping[str, PractitionerProfile]
) -> None:
    """Write only what changed: a re-run of the same directory file writes nothing, and a
    changed row is one UPDATE of its profile and one of its account's e-mail, without a
    savepoint (``bulk_update`` was slower: it builds a CASE of every row for every column)."""
    for _number, data, with_city in entries:
        profile = known[data["rpps"]]
        changes = {
            name: data[name]
            for name in DIRECTORY_FIELDS + (("city",) if with_city else ())
            if getattr(profile, name) != data[name]
        }
        if changes:
            for name, value in changes.items():
                setattr(profile, name, value)
            profile.fill_search_keys()
            keys = {"search_key": profile.search_key}
            keys["first_name_search_key"] = profile.first_name_search_key
            PractitionerProfile.objects.filter(pk=profile.pk).update(**changes, **keys)
        if profile.user.email != data["email"]:
            User.objects.filter(pk=profile.user_id).update(email=data["email"])
    report.updated += len(entries)


def _create_new(report: ImportReport, entries: list[Entry]) -> bool:
    """Insert the new practitioners at once; False (and nothing written) when a constraint
    refuses the insert, so that the caller takes them one by one."""
    users, profiles = [], []
    for _number, data, with_city in entries:
        user = User(
            username=data["rpps"], kind=UserKind.PRACTITIONER, email=data["email"], is_active=False
        )
        user.set_unusable_password()  # as create_user does without a password
        directory = DIRECTORY_FIELDS + (("city",) if with_city else ())
        profile = PractitionerProfile(
            user=user, rpps=data["rpps"], **{name: data[name] for name in directory}
        )
        profile.fill_search_keys()
        users.append(user)
        profiles.append(profile)
    try:
        with transaction.atomic():  # a savepoint: a refused insert leaves nothing
            User.objects.bulk_create(users)
            PractitionerProfile.objects.bulk_create(profiles)
    except IntegrityError:
        return False
    for user in users:
        enqueue_on_commit("accounts.tasks.send_practitioner_invitation", str(user.pk))
    report.created += len(entries)
    return True


def _import_row(report: ImportReport, entry: Entry) -> None:
    """One row in a savepoint: a rejected row leaves nothing, and its invitation is never
    queued (``on_commit`` callbacks of a rolled-back savepoint are dropped)."""
    number, data, with_city = entry
    try:
        with transaction.atomic():
            created = _upsert_practitioner(data, with_city=with_city)
    except IntegrityError:
        report.rejected.append((number, _("rpps: this number is already used by another account.")))
        return
    if created:
        report.created += 1
    else:
        report.updated += 1


def _upsert_practitioner(data: Mapping[str, str], *, with_city: bool) -> bool:
    directory = [*DIRECTORY_FIELDS, *(["city"] if with_city else [])]
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
