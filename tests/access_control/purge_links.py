"""Every foreign key to an account, a data key, or a row the purge deletes whole (a registry
entry, a document, a letter), and what a purge leaves of the rows that point to the purged
person: the purge tests fail when a model adds one that is not classified here, so that whoever
adds it decides what the purge does with it (access_control/purge.py), its stored files
included."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps
from django.db.models import Model

from accounts.models import User
from dmp_portal.crypto.models import DataKey
from enrollment.models import Beneficiary
from letters.models import Letter
from records.models import Document

# What a person's rows point to: their account and key, and the rows deleted whole.
TARGETS = (User, DataKey, Beneficiary, Document, Letter)

# No row points to the purged person any more (deleted by the purge, or with a row it deletes).
ERASED = {
    "accounts.ActivationLink.user",
    "accounts.ContactEmail.user",
    "accounts.ContactEmailChange.user",
    "accounts.PasswordResetLink.user",
    "accounts.TOTPDevice.user",
    "accounts.BackupCodeDevice.user",
    "accounts.PasskeyDevice.user",
    "accounts.StaffPasskeyEnrolment.user",
    "accounts.ThrottleLock.account",
    "accounts.AccountSession.user",
    "enrollment.Beneficiary.patient",
    "enrollment.Beneficiary.data_key",
    "records.Document.patient",
    "records.Document.data_key",
    "records.Document.author",
    "access_control.Consent.patient",
    "access_control.Block.patient",
    "access_control.AccessRequest.patient",
    "access_control.TreatingPhysician.patient",
    "access_control.RecordSettings.patient",
    "access_control.EmergencyAccess.patient",
    "access_control.DeathProposal.patient",
    # Issue 17's ties, deleted on either side (the trail keeps who acted for whom).
    "access_control.CaregiverGrant.patient",
    "access_control.CaregiverGrant.caregiver",
    "access_control.LegalRepresentation.minor",
    "access_control.LegalRepresentation.representative",
    "letters.Letter.data_key",
    # Rows of the rows the purge deletes: with them (cascade), or cut first (a version).
    "enrollment.CreationCode.beneficiary",
    "enrollment.RegistryChange.beneficiary",
    # A minor's links to their legal representatives (issue 17), whichever side is purged.
    "enrollment.RegistryRepresentative.child",
    "enrollment.RegistryRepresentative.representative",
    # A minor's codes and letters for one representative (issue 17), with either registry row.
    "enrollment.CreationCode.representative",
    "enrollment.RepresentativeLetter.representative",
    "enrollment.RepresentativeLetter.letter",
    "records.Document.replaces",
    # Issue 20: a document's search tokens go with it (cascade).
    "records.SearchToken.indexed_document",
}
# Kept, pointing to the account's random id or its destroyed key, and nothing else of them.
KEPT = {
    "accounts.User.data_key",
    "audit.AuditChain.patient",
    "audit.AuditEvent.actor",
    "audit.AuditEvent.patient",
    "access_control.RecordClosure.patient",
}
# Only ever a practitioner or a staff member, never a patient's account.
OTHER_PEOPLE = {
    "accounts.PractitionerProfile.user",
    "accounts.StaffPasskeyEnrolment.issued_by",
    "enrollment.RegistryChange.proposed_by",
    "enrollment.RegistryChange.decided_by",
    "access_control.Consent.practitioner",
    "access_control.Block.practitioner",
    "access_control.AccessRequest.practitioner",
    "access_control.TreatingPhysician.physician",
    "access_control.EmergencyAccess.practitioner",
    "access_control.EmergencyAccess.reviewed_by",
    "access_control.DeathProposal.proposed_by",
    "access_control.DeathProposal.decided_by",
    "admin.LogEntry.user",
    # Issue 19: OAuth2 approvals and tokens are a practitioner's (the consent page and the
    # validator refuse anyone else); applications are registered by staff, ID tokens and
    # device grants never issued.
    "oauth2_provider.Application.user",
    "oauth2_provider.Grant.user",
    "oauth2_provider.AccessToken.user",
    "oauth2_provider.RefreshToken.user",
    "oauth2_provider.IDToken.user",
    "oauth2_provider.DeviceGrant.user",
}


def links_to_people() -> Iterator[tuple[str, type[Model], str]]:
    """("app.Model.field", model, field name) of every foreign key to one of ``TARGETS``."""
    for model in apps.get_models():
        if model.__module__.startswith("tests."):  # the encryption tests' specimen
            continue
        for field in model._meta.get_fields():
            if (
                field.is_relation
                and field.concrete
                and (field.many_to_one or field.one_to_one)
                and field.related_model in TARGETS
            ):
                yield f"{model._meta.label}.{field.name}", model, field.name


def rows_left(patient: User) -> dict[str, int]:
    """For each ERASED link, how many rows still point to ``patient`` or to their data key."""
    left = {}
    for label, model, name in links_to_people():
        if label not in ERASED:
            continue
        target = (
            patient.data_key_id
            if model._meta.get_field(name).related_model is DataKey
            else patient.pk
        )
        left[label] = model._default_manager.filter(**{name: target}).count()
    return left
