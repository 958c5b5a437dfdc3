"""The registry of insured people (Vitale reference data): import from CSV."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.hashing import blind_index
from dmp_portal.csv_import import ImportReport
from enrollment.models import Beneficiary, RegistryChange, RegistryChangeState
from enrollment.validators import BeneficiaryRowForm

if TYPE_CHECKING:
    from letters.services import LetterSubject


def nir_index(normalised_nir: str) -> str:
    return blind_index(normalised_nir, "nir")


def import_beneficiaries(rows: Iterable[tuple[int, Mapping[str, str]]]) -> ImportReport:
    """Upsert insured people by NIR. A bad row is reported with its line and skipped."""
    report = ImportReport()
    for number, row in rows:
        form = BeneficiaryRowForm(data=row)
        if not form.is_valid():
            report.rejected.append((number, form.reason()))
            continue
        with transaction.atomic():
            created = _upsert(form.cleaned_data)
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report


def _upsert(data: Mapping[str, Any]) -> bool:
    index = nir_index(data["nir"])
    beneficiary = (
        Beneficiary.objects.select_for_update()
        .select_related("data_key")
        .filter(nir_index=index)
        .first()
    )
    created = beneficiary is None
    if beneficiary is None:
        beneficiary = Beneficiary(nir_index=index, data_key=create_data_key("beneficiary"))
    beneficiary.nir = data["nir"]
    beneficiary.last_name = data["last_name"].strip()
    beneficiary.first_name = data["first_name"].strip()
    beneficiary.birth_date = data["birth_date"]
    beneficiary.regime = data["regime"]
    beneficiary.address = data["address"].as_json()
    beneficiary.save()
    if not created:
        supersede_pending(beneficiary)
    return created


def supersede_pending(beneficiary: Beneficiary) -> None:
    """The import brought newer reference data: a proposal still open was made against older
    data, so it is closed rather than confirmed later over the import's values."""
    RegistryChange.objects.filter(
        beneficiary=beneficiary, state=RegistryChangeState.PENDING
    ).update(state=RegistryChangeState.SUPERSEDED, decided_at=timezone.now())


def letter_subjects(subject_uids: Iterable[UUID]) -> dict[UUID, LetterSubject]:
    """Whose chain records each letter's export (``settings.LETTER_SUBJECTS``), by subject uid:
    the person's record when they have one, else their registry entry. One query for a batch."""
    found = Beneficiary.objects.select_related("patient").filter(uid__in=list(subject_uids))
    return {person.uid: {"patient": person.patient, "registry_id": person.pk} for person in found}
