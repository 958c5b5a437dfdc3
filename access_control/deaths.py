"""A death found in the registry, for the death admin (``admin_death``): the person looked up
by their NIR before their death is proposed, and their identity read for the review.

Apart from ``closure`` because the registry is enrolment's: ``closure`` is imported by the
patient's own pages (``records.views_closure``), and health records must not know the registry
(``.importlinter``, "The registry and enrolment do not know health records").
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from access_control import closure
from access_control.models import DeathProposal, DeathProposalState
from accounts.models import User
from enrollment import selectors as registry
from enrollment.models import Beneficiary


def propose_death_by_nir(
    staff: User, normalised_nir: str, *, client_address: str = ""
) -> DeathProposal:
    """Find the person in the registry by their whole NIR (the look-up recorded on their chain,
    like the registry's own), then propose their death (``closure.propose_death``). ValidationError
    (French) when nobody has this NIR or the person has no record; ``StaffRefused`` when the
    door refuses either step."""
    found = registry.lookup(staff, normalised_nir, client_address=client_address)
    if found is None:
        raise ValidationError(_("Nobody in the registry has this number."))
    patient_id = Beneficiary.objects.filter(pk=found).values_list("patient_id", flat=True).first()
    if patient_id is None:
        raise ValidationError(_("This person has no record: there is nothing to close."))
    return closure.propose_death(staff, patient_id, client_address=client_address)


def identity_for_death_review(
    staff: User, proposal: DeathProposal, *, client_address: str = ""
) -> Beneficiary | None:
    """The registry entry of the person whose death ``staff`` reviews, its identity read
    recorded on their chain, only when there is something to decide: the proposal still
    pending and proposed by someone else. Otherwise None, and nothing is read or recorded (a
    decided proposal, or one's own, which the door refuses to confirm)."""
    if proposal.state != DeathProposalState.PENDING or proposal.proposed_by_id == staff.pk:
        return None
    registry_id = (
        Beneficiary.objects.filter(patient_id=proposal.patient_id)
        .values_list("pk", flat=True)
        .first()
    )
    if registry_id is None:
        return None
    return registry.view_identity(staff, registry_id, client_address=client_address)
