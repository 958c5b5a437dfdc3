"""A minor's legal representatives in the registry (issue 17): the import's optional column
``representative_nirs`` (README, Beneficiaries CSV).

The national file names, on the child's row, the one or two adults who legally represent them;
both must be people of the registry (earlier in the same file, later in it, or already there:
``import_beneficiaries`` takes a row naming someone still unknown again after the file's last
row). The link is a row between the two registry entries (``RegistryRepresentative``), never a
NIR. The list on the row is the whole truth: a new list replaces the old one; an empty value, or
no column, leaves the links as they are (as the ``opposition`` column does).

Every link made or undone passes the door as the import's operator and is recorded on the
child's chain (their record's once it exists, so the child's history shows who changed who acts
for them). The row's format (malformed numbers, three of them, the same twice, the child
themself, an adult child) is checked with the row (``enrollment.validators.check_row``); who
the numbers name is checked here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from access_control.decisions import CommandLineOperator
from access_control.models import LegalRepresentation, RepresentationEndReason
from access_control.policy import authorize_staff
from audit.models import Action, Outcome
from audit.trail import record_event
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.crypto.hashing import blind_index
from enrollment.models import MAJORITY_AGE, Beneficiary, CreationCode, RegistryRepresentative
from enrollment.validators import EXPECTED_REPRESENTATIVES

REPRESENTATIVES_COLUMN = "representative_nirs"
# The reason of the event that records a representation ended by the registry.
ENDED_BY_REGISTRY = "registry"


class RepresentativesRejected(Exception):
    """The row names someone who cannot represent the child (French reason): nothing of the
    row is kept."""


class RepresentativeUnknown(RepresentativesRejected):
    """A number the registry does not hold (yet): the import tries the row again after the
    file's last row, whose rows may bring that person."""


def majority_day(born: date) -> date:
    """The 18th birthday (born on 29 February: 1 March, as ``models.age_on`` counts)."""
    try:
        return born.replace(year=born.year + MAJORITY_AGE)
    except ValueError:
        return date(born.year + MAJORITY_AGE, 3, 1)


def representation_until(child: Beneficiary) -> date:
    """The last day a representative acts for this child: the eve of the 18th birthday."""
    return majority_day(date.fromisoformat(child.birth_date)) - timedelta(days=1)


def follow_birth_date(person: Beneficiary) -> int:
    """The registry corrected a person's birth date (the import, or a confirmed change): their
    representations not yet ended take the new eve of the 18th birthday, in the same
    transaction, so that the door (``LegalRepresentation.live``) and the daily coming of age
    (``services.majority``, which ends them once ``until`` is past) follow the registry's date,
    not the one known when the representative linked. Returns how many were changed."""
    if person.patient_id is None or is_destroyed(person.birth_date):
        return 0
    return (
        LegalRepresentation.objects.unended()
        .filter(minor_id=person.patient_id)
        .exclude(until=representation_until(person))
        .update(until=representation_until(person))
    )


def link_representatives(
    child: Beneficiary,
    numbers: Sequence[str] | None,
    operator: CommandLineOperator,
    today: date,
) -> str:
    """Make the child's links those of ``numbers`` (normalised NIRs, checked with the row),
    inside the row's transaction, the child's row locked. None: unchanged.

    Raises ``RepresentativesRejected`` (or ``RepresentativeUnknown``) when a number names
    nobody of the registry or a minor. Returns why the links were left unchanged (the door
    refused the operator: each decision is recorded, nothing changes), or "".
    """
    if numbers is None:
        return ""
    wanted = [
        _representative(number, position, today) for position, number in enumerate(numbers, 1)
    ]
    current = set(
        RegistryRepresentative.objects.filter(child=child).values_list(
            "representative_id", flat=True
        )
    )
    added = [person.pk for person in wanted if person.pk not in current]
    removed = sorted(current - {person.pk for person in wanted})
    # Every change asks the door (and is recorded) before any is made: all or nothing.
    allowed = [_ask(operator, Action.UNLINK_REPRESENTATIVE, child) for _removed in removed] + [
        _ask(operator, Action.LINK_REPRESENTATIVE, child) for _added in added
    ]
    if not all(allowed):
        return _(
            "representative_nirs unchanged: the import is not allowed to change them. The rest "
            "of the row was taken."
        )
    RegistryRepresentative.objects.filter(child=child, representative_id__in=removed).delete()
    # The national file's word that they no longer represent the child: their representation of
    # the child's record ends with the link, in this transaction (finding 7 of issue 17).
    end_registry_representations(child, removed, timezone.now())
    RegistryRepresentative.objects.bulk_create(
        RegistryRepresentative(child=child, representative_id=pk) for pk in added
    )
    return ""


def _representative(number: str, position: int, today: date) -> Beneficiary:
    person = Beneficiary.objects.filter(nir_index=blind_index(number, "nir")).first()
    if person is None:
        raise RepresentativeUnknown(
            _(
                "Number %(position)d is not in the registry: a legal representative must be "
                "in it too (their own row, in this file or an earlier one). %(expected)s"
            )
            % {"position": position, "expected": EXPECTED_REPRESENTATIVES}
        )
    if person.age_on(today) < MAJORITY_AGE:
        raise RepresentativesRejected(
            _(
                "Number %(position)d is a minor's: a legal representative is an adult "
                "(%(age)d or over). %(expected)s"
            )
            % {"position": position, "age": MAJORITY_AGE, "expected": EXPECTED_REPRESENTATIVES}
        )
    return person


def _ask(operator: CommandLineOperator, action: Action, child: Beneficiary) -> bool:
    return authorize_staff(operator, action, patient=child.patient, registry_id=child.pk).allowed


def end_registry_representations(child: Beneficiary, removed: list[int], now: datetime) -> int:
    """The registry unlinked these representatives (registry row ids) from the child: their
    live representations end now (reason ``registry``), each recorded on the child's chain,
    and their codes not yet used stop working. In the import's transaction."""
    CreationCode.objects.filter(beneficiary=child, representative_id__in=removed).live().update(
        superseded_at=now
    )
    if child.patient is None or not removed:
        return 0
    accounts = Beneficiary.objects.filter(pk__in=removed, patient__isnull=False).values_list(
        "patient_id", flat=True
    )
    ended = list(
        LegalRepresentation.objects.filter(
            minor=child.patient, representative_id__in=list(accounts), ended_at=None
        ).select_for_update()
    )
    for representation in ended:
        representation.ended_at = now
        representation.ended_reason = RepresentationEndReason.REGISTRY
        representation.save(update_fields=["ended_at", "ended_reason"])
        record_event(
            actor=None,
            patient=child.patient,
            action=Action.UNLINK_REPRESENTATIVE,
            outcome=Outcome.ALLOWED,
            reason=ENDED_BY_REGISTRY,
        )
    return len(ended)
