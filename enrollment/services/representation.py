"""A minor's code used by their legal representative (issue 17, item 2): the child's account
and the representation. See ``services.minors`` for the letters that carry the code.

Apart from ``services.minors`` because it builds on ``services.activation``, which the
enrolment request's module (and so ``services.minors``) must not import.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from access_control.models import LegalRepresentation
from accounts.models import User, UserKind
from audit.models import Action, Mode, Outcome
from audit.trail import record_event
from enrollment.models import Beneficiary, CodePurpose, CreationCode, RegistryRepresentative
from enrollment.services.activation import ActivationRefused, forget_failures, new_identifier
from enrollment.services.minors import is_minor, represents
from enrollment.services.representatives import representation_until

# The reason of the event that records a representation's start.
REPRESENTATION_STARTED = "representation"


def create_child_account(child: Beneficiary) -> User:
    """The child's patient account (call with the child's row locked, in the caller's
    transaction): no usable password, so no login, and the registry row linked as an
    activation does. The one place that creates it (item 5's takeover gives it a password)."""
    if child.patient_id is not None:
        raise ActivationRefused()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                new_identifier(), None, kind=UserKind.PATIENT, data_key=child.data_key
            )
    except IntegrityError as exc:  # the identifier was taken between check and insert
        raise ActivationRefused() from exc
    Beneficiary.objects.filter(pk=child.pk).update(patient=user)
    child.patient = user
    return user


def link_representative(
    code_id: int, representative: User, client_address: str = ""
) -> Beneficiary:
    """Use a minor's code (checked by ``activation.check_code`` for ``representative``): the
    child's account the first time, and this representative's ``LegalRepresentation``, in one
    transaction, the code's and the child's rows locked. Returns the child's registry row, its
    ``patient`` the child's account; raises
    ``ActivationRefused`` (the one answer) when anything no longer holds."""
    with transaction.atomic():
        code = (
            CreationCode.objects.select_for_update()
            .filter(pk=code_id, purpose=CodePurpose.REPRESENTATION)
            .first()
        )
        if code is None or not code.is_usable():
            raise ActivationRefused()
        child = (
            Beneficiary.objects.select_for_update(of=("self",))
            .select_related("data_key", "patient")
            .get(pk=code.beneficiary_id)
        )
        now = timezone.now()
        mine = Beneficiary.objects.filter(patient_id=representative.pk).first()
        if (
            mine is None
            or mine.pk != code.representative_id
            or representative.kind != UserKind.PATIENT
            or child.opposed_at is not None
            or not is_minor(child, timezone.localdate(now))
            or not RegistryRepresentative.objects.filter(child=child, representative=mine).exists()
            or represents(child, mine, now)
        ):
            raise ActivationRefused()
        created = child.patient is None
        child_account = create_child_account(child) if created else child.patient
        if child_account is None or not child_account.is_active:
            raise ActivationRefused()
        LegalRepresentation.objects.create(
            minor=child_account,
            representative=representative,
            until=representation_until(child),
            started_at=now,
        )
        code.used_at = now
        code.save(update_fields=["used_at"])
        CreationCode.objects.filter(beneficiary=child, representative=mine).live().update(
            superseded_at=now
        )
        forget_failures(child.nir_index)
        if created:
            _record(representative, child_account, Action.ACTIVATE, "", client_address)
        _record(
            representative,
            child_account,
            Action.LINK_REPRESENTATIVE,
            REPRESENTATION_STARTED,
            client_address,
        )
    return child


def _record(actor: User, child: User, action: Action, reason: str, client_address: str) -> None:
    record_event(
        actor=actor,
        patient=child,
        action=action,
        outcome=Outcome.ALLOWED,
        mode=Mode.REPRESENTATIVE,
        reason=reason,
        client_address=client_address,
    )
