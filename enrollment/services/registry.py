"""The registry of insured people (Vitale reference data): import from CSV, and a person's
opposition to the creation of their record (the flag itself; staff set it through
``services.opposition``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control.decisions import CommandLineOperator
from access_control.policy import authorize_staff
from audit.models import Action
from dmp_portal.crypto.datakeys import build_data_key, create_data_key
from dmp_portal.crypto.hashing import blind_index
from dmp_portal.crypto.models import DataKey
from dmp_portal.csv_import import ImportReport
from enrollment.models import Beneficiary, CreationCode, RegistryChange, RegistryChangeState
from enrollment.services.representatives import (
    REPRESENTATIVES_COLUMN,
    RepresentativesRejected,
    RepresentativeUnknown,
    follow_birth_date,
    link_representatives,
)
from enrollment.validators import check_row
from letters.services import void_unsent

if TYPE_CHECKING:
    from letters.services import LetterSubject

# The letters that carry a code (here, below the services that ask for them, so that stopping
# them on an opposition needs nothing above the registry).
CREATION_LETTER = "creation_code"
REACTIVATION_LETTER = "reactivation_code"
# A minor's code, to one of their legal representatives at the child's address (issue 17).
REPRESENTATIVE_LETTER = "representative_code"
# Issue 17: the young adult's code to take over their record at 18 (services.majority).
MAJORITY_LETTER = "majority_code"
# One on its way holds back another, whichever its kind (a minor's: per representative).
CODE_LETTERS = (CREATION_LETTER, REACTIVATION_LETTER, REPRESENTATIVE_LETTER, MAJORITY_LETTER)


class RowRejected(Exception):
    """A row the registry cannot take as it stands (its French reason); nothing of it is kept."""


def nir_index(normalised_nir: str) -> str:
    return blind_index(normalised_nir, "nir")


def has_record_message() -> str:
    return _(
        "This person already has a record: an opposition to its creation no longer applies. "
        "Closing the record is for the patient to do, from their own record."
    )


def change_opposition(beneficiary: Beneficiary, opposed: bool) -> None:
    """Set (dated now) or lift the person's opposition to the creation of their record; call
    inside the caller's transaction, the row locked, after the caller's audit decision.

    Set: every code already sent stops working and every code letter not yet handed to the mail
    house is voided, so no letter or code can still open a record; the enrolment task then
    never asks for another (``services.requests``). Lifted: nothing is sent by itself; the
    person asks on /enrollment/ like anyone.
    """
    if opposed and beneficiary.patient_id is not None:
        raise RowRejected(has_record_message())
    beneficiary.opposed_at = timezone.now() if opposed else None
    beneficiary.save(update_fields=["opposed_at", "updated_at"])
    if opposed:
        CreationCode.objects.filter(beneficiary=beneficiary).live().update(
            superseded_at=beneficiary.opposed_at
        )
        for kind in CODE_LETTERS:
            void_unsent(kind, beneficiary.uid)


@dataclass
class BeneficiaryImportReport(ImportReport):
    """The import's report, plus the rows taken whole but for their ``opposition`` value (line
    number and French reason), each printed as a line of its own after the rejected rows."""

    ignored: list[tuple[int, str]] = field(default_factory=list)


def import_operator(os_user: str = "") -> CommandLineOperator:
    """Who the door sees behind the import's opposition column: the command's operator, named
    as the import and then the operating-system user, so that the event's reason
    (``command-line:registry-import:<user>``) says both what wrote it and who ran it."""
    return CommandLineOperator(f"registry-import:{os_user}" if os_user else "registry-import")


# Rows taken in one transaction (issue 18): a commit per row cost most of the import's time.
BATCH_ROWS = 500


def import_beneficiaries(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    operator: CommandLineOperator | None = None,
    batch_rows: int | None = None,
) -> BeneficiaryImportReport:
    """Upsert insured people by NIR. A bad row is reported with its line and skipped.

    ``operator``: who runs the import (``import_operator``), for the door's decisions on the
    ``opposition`` and ``representative_nirs`` columns; by default the import in no one's name.

    The rows are read as they come and taken ``batch_rows`` (default ``BATCH_ROWS``) at a
    time, each batch in one transaction and each row of it in a savepoint (a rejected row
    leaves nothing, as before).
    An error that is not a row's (the database gone) rolls back the batch it happened in only:
    the batches before it stay, and running the same file again completes the import, every
    row being an upsert by NIR.

    A row naming a representative the registry does not hold yet is taken again after the
    file's last row (only those rows are kept in memory), so that a parent's row may come
    after their child's; still unknown then, it is rejected. Rejected rows are reported in the
    file's order.
    """
    report = BeneficiaryImportReport()
    operator = operator or import_operator()
    batch_rows = batch_rows or BATCH_ROWS
    waiting: list[tuple[int, dict[str, Any]]] = []
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, row in rows:
        data, reason = check_row(row)
        if reason:
            report.rejected.append((number, reason))
            continue
        batch.append((number, data))
        if len(batch) >= batch_rows:
            waiting += _import_batch(report, batch, operator)
            batch = []
    waiting += _import_batch(report, batch, operator)
    for start in range(0, len(waiting), batch_rows):
        with transaction.atomic():
            for number, data in waiting[start : start + batch_rows]:
                _import_row(report, number, data, operator, last_try=True)
    report.rejected.sort(key=lambda rejected: rejected[0])
    return report


def _import_batch(
    report: BeneficiaryImportReport,
    batch: list[tuple[int, dict[str, Any]]],
    operator: CommandLineOperator,
) -> list[tuple[int, dict[str, Any]]]:
    """Take a batch of valid rows in one transaction; returns the rows to try again at the end.

    A row that changes nothing but the person's reference data (no representatives, and an
    ``opposition`` value that changes nothing) takes the short path: the batch's people are
    looked up and locked in one statement; the new ones are inserted in two (their data keys
    built and wrapped as ``create_data_key`` does, then the people); the known ones are saved
    one by one (an encrypted value is written through ``save``) and their open proposals closed
    in one statement, as ``_upsert`` does for each. Such a row passed no door and recorded no
    event before either. Every other row (an opposition to set or lift, representatives, a
    person seen earlier in the batch) takes the row-by-row path after them, in the file's order:
    what it does, what it asks the door and what it records are unchanged.
    """
    if not batch:
        return []
    indexes = {number: nir_index(data["nir"]) for number, data in batch}
    with transaction.atomic():
        known = {
            person.nir_index: person
            for person in Beneficiary.objects.select_for_update()
            .select_related("data_key")
            .filter(nir_index__in=set(indexes.values()))
        }
        new: list[Beneficiary] = []
        updated: list[Beneficiary] = []
        slow: list[tuple[int, dict[str, Any]]] = []
        seen: set[str] = set()
        for number, data in batch:
            index = indexes[number]
            person = known.get(index)
            if index in seen or not _only_reference_data(person, data):
                slow.append((number, data))
            elif person is None:
                new.append(_filled(Beneficiary(nir_index=index), data))
            else:
                updated.append(_filled(person, data))
            seen.add(index)
        _insert(new)
        for person in updated:
            person.save()
            follow_birth_date(person)
        RegistryChange.objects.filter(
            beneficiary__in=updated, state=RegistryChangeState.PENDING
        ).update(state=RegistryChangeState.SUPERSEDED, decided_at=timezone.now())
        report.created += len(new)
        report.updated += len(updated)
        return [
            (number, data)
            for number, data in slow
            if not _import_row(report, number, data, operator, last_try=False)
        ]


def _only_reference_data(person: Beneficiary | None, data: Mapping[str, Any]) -> bool:
    """The row changes nothing but the person's reference data: no representatives, and its
    ``opposition`` (None: unchanged) already true of the person, a new person being without."""
    if data["representative_nirs"] is not None:
        return False
    if data["opposition"] is None:
        return True
    return data["opposition"] is False and (person is None or person.opposed_at is None)


def _insert(people: list[Beneficiary]) -> None:
    """Insert new people with a data key each, in two statements."""
    keys = [build_data_key("beneficiary") for _person in people]
    DataKey.objects.bulk_create(keys)  # their primary keys come back: values carry them
    for person, key in zip(people, keys, strict=True):
        person.data_key = key
    Beneficiary.objects.bulk_create(people)  # it encrypts through the fields' pre_save


def _filled(beneficiary: Beneficiary, data: Mapping[str, Any]) -> Beneficiary:
    """The row's reference data on the person (not saved)."""
    beneficiary.nir = data["nir"]
    beneficiary.last_name = data["last_name"].strip()
    beneficiary.first_name = data["first_name"].strip()
    beneficiary.birth_date = data["birth_date"]
    beneficiary.regime = data["regime"]
    beneficiary.address = data["address"].as_json()
    return beneficiary


def _import_row(
    report: BeneficiaryImportReport,
    number: int,
    data: Mapping[str, Any],
    operator: CommandLineOperator,
    *,
    last_try: bool,
) -> bool:
    """Take one valid row in its own transaction, into ``report``. False: it names a
    representative still unknown and this was not the ``last_try`` (nothing of it kept)."""
    try:
        with transaction.atomic():
            created, ignored = _upsert(data, operator)
    except RepresentativeUnknown as unknown:
        if not last_try:
            return False
        report.rejected.append((number, f"{REPRESENTATIVES_COLUMN}: {unknown}"))
        return True
    except RepresentativesRejected as rejected:  # rolled back, as below
        report.rejected.append((number, f"{REPRESENTATIVES_COLUMN}: {rejected}"))
        return True
    except RowRejected as rejected:  # the row's transaction is rolled back: nothing kept
        report.rejected.append((number, f"opposition: {rejected}"))
        return True
    report.ignored.extend((number, reason) for reason in ignored)
    if created:
        report.created += 1
    else:
        report.updated += 1
    return True


def _upsert(data: Mapping[str, Any], operator: CommandLineOperator) -> tuple[bool, list[str]]:
    """Whether the person is new, and why a column of the row was ignored (none: empty)."""
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
    _filled(beneficiary, data).save()
    if not created:
        supersede_pending(beneficiary)
        follow_birth_date(beneficiary)
    ignored = [
        _import_opposition(beneficiary, data["opposition"], operator),
        link_representatives(
            beneficiary, data["representative_nirs"], operator, timezone.localdate()
        ),
    ]
    return created, [reason for reason in ignored if reason]


def _import_opposition(
    beneficiary: Beneficiary, opposed: bool | None, operator: CommandLineOperator
) -> str:
    """The optional ``opposition`` column: None (column absent or empty) leaves the flag as it
    is; a change passes the door as the command's ``operator`` and is recorded on the person's
    registry chain. Returns why the value was ignored, or "".

    ``oui`` for a person who already has a record is ignored, never a reason to reject the
    row: the national file may keep saying ``oui`` after the person enrolled, and rejecting
    the row would lose their new address and identity at every import.
    """
    if opposed is None:
        return ""
    if opposed and beneficiary.patient_id is not None:
        return ignored_opposition_message()
    if opposed == (beneficiary.opposed_at is not None):
        return ""  # already so: an opposition keeps its first date
    allowed = authorize_staff(
        operator,
        Action.SET_OPPOSITION if opposed else Action.LIFT_OPPOSITION,
        patient=beneficiary.patient,
        registry_id=beneficiary.pk,
    ).allowed
    if not allowed:  # the refusal is recorded with the rest of the row; the flag stays
        return _(
            "opposition unchanged: the import is not allowed to change it. The rest of the row "
            "was taken."
        )
    change_opposition(beneficiary, opposed)
    return ""


def ignored_opposition_message() -> str:
    return _(
        "opposition ignored: this person already has a record, and an opposition to its "
        "creation no longer applies. The rest of the row was taken."
    )


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
