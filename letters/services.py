"""Writes of the letters app: request, store the rendered PDF, batch for the mail house."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from access_control.decisions import Actor, CommandLineOperator
from access_control.policy import authorize_staff
from audit.models import SYSTEM_CHAIN_KEY, Action, patient_chain_key, registry_chain_key
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.crypto.files import open_decrypted, remove_partial, save_encrypted
from dmp_portal.crypto.models import DataKey
from dmp_portal.metrics import LETTERS_RENDERED
from dmp_portal.queueing import enqueue, enqueue_on_commit
from letters.models import Letter, LetterBatch, LetterState
from letters.rendering.page import render_window_test

if TYPE_CHECKING:
    from accounts.models import User

MANIFEST_COLUMNS = (
    "batch",
    "sequence",
    "letter_reference",
    "page_count",
    "postcode",
    "locality",
    "country",
)


class ExportRefused(Exception):
    """The door refused the operator: nothing was exported, the refusals are recorded."""


class ReturnRefused(Exception):
    """The door refused the staff member: no letter was marked returned, the refusals are
    recorded."""


class LetterVoid(Exception):
    """The letter cannot be written any more (its recipient's data was destroyed)."""


class LetterSubject(TypedDict):
    """Whose chain records a letter's export: the person's record, else their registry entry
    (``settings.LETTER_SUBJECTS`` resolves them; neither: the system chain)."""

    patient: User | None
    registry_id: int | None


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    page_count: int
    postal: dict[str, str]  # {"postcode": ..., "city": ..., "country": ...}


def request_letter(kind: str, subject_uid: UUID, data_key: DataKey) -> Letter:
    """Record a letter to write; it is rendered by a task once this transaction commits."""
    letter = Letter.objects.create(kind=kind, subject_uid=subject_uid, data_key=data_key)
    letter_id = letter.pk
    enqueue_on_commit("letters.tasks.render_letter", letter_id)
    return letter


def render(letter_id: int) -> bool:
    """Render a requested letter; idempotent (a letter already rendered is left alone).

    The kind's builder (``settings.LETTER_BUILDERS``) writes the content, and may create what
    the letter carries (a creation code) in this same transaction: if anything fails, nothing
    of it remains and the task's retry starts afresh.
    """
    try:
        # Nearly every letter is written: no savepoint around the builder (two round trips
        # saved). A builder that finds the letter void raises, and the whole transaction,
        # with whatever the builder wrote, is rolled back...
        return _render(letter_id, void_savepoint=False)
    except LetterVoid:
        # ...then the letter is decided afresh, the former way, which marks it void (or
        # writes it, if what made it void changed in between).
        return _render(letter_id, void_savepoint=True)


def _render(letter_id: int, *, void_savepoint: bool) -> bool:
    """``render``; with ``void_savepoint`` the builder runs in a savepoint, so that a void
    letter is marked as such (its builder's writes undone) instead of raising ``LetterVoid``."""
    with transaction.atomic():
        letter = (
            Letter.objects.select_for_update()
            .select_related("data_key")
            .filter(pk=letter_id)
            .first()
        )
        if letter is None or letter.state != LetterState.REQUESTED:
            return False
        build = import_string(settings.LETTER_BUILDERS[letter.kind])
        if not void_savepoint:
            rendered: RenderedLetter = build(letter)
        else:
            try:
                with transaction.atomic():
                    rendered = build(letter)
            except LetterVoid:
                letter.state = LetterState.VOID
                letter.save(update_fields=["state"])
                return False
        # A file already under the letter's own name is what an earlier attempt left when its
        # worker died, or its commit failed, after the write: no row names it (this row is
        # still requested, and locked). It goes, so that the letter keeps its own name.
        remove_partial(default_storage, f"letters/{letter.uid}.pdf")
        name, _size = save_encrypted(
            default_storage,
            f"letters/{letter.uid}.pdf",
            io.BytesIO(rendered.pdf),
            letter.data_key,
            letter.pdf_aad(),
        )
        try:
            letter.pdf_name = name
            letter.page_count = rendered.page_count
            letter.postal = rendered.postal
            letter.state = LetterState.RENDERED
            letter.rendered_at = timezone.now()
            letter.save()
        except BaseException:
            remove_partial(default_storage, name)  # no row for it: the retry writes it afresh
            raise
    # After the block: committed (the task's transaction is this one).
    LETTERS_RENDERED.labels(kind=letter.kind).inc()
    return True


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_checksum(path: Path) -> None:
    Path(f"{path}.sha256").write_text(f"{_sha256_file(path)}  {path.name}\n", encoding="ascii")


def _postal(letter: Letter) -> dict[str, str]:
    # A rendered letter always holds the postal block it was rendered with (``render``).
    return cast(dict[str, str], letter.postal)


def _subjects(letters: list[Letter]) -> list[tuple[LetterSubject, Letter]]:
    """Each letter with whose chain records its export (a recipient no longer known: the
    system chain), in chain-key order."""
    nobody: LetterSubject = {"patient": None, "registry_id": None}
    found: dict[UUID, LetterSubject] = {}
    for kind in {letter.kind for letter in letters}:
        resolve = import_string(settings.LETTER_SUBJECTS[kind])
        found.update(resolve([letter.subject_uid for letter in letters if letter.kind == kind]))
    pairs = [(found.get(letter.subject_uid, nobody), letter) for letter in letters]
    return sorted(pairs, key=lambda pair: (_chain_order(pair[0]), pair[1].pk))


def _chain_order(subject: LetterSubject) -> str:
    if subject["patient"] is not None:
        return patient_chain_key(subject["patient"].pk)
    if subject["registry_id"] is not None:
        return registry_chain_key(subject["registry_id"])
    return SYSTEM_CHAIN_KEY


def _record_decisions(letters: list[Letter], actor: Actor, action: Action, address: str) -> bool:
    """One event per letter, on its recipient's chain, naming ``actor``; True when the door
    lets every letter through. Chains are locked in key order, so two callers never deadlock."""
    allowed = True
    for subject, _letter in _subjects(letters):
        decision = authorize_staff(actor, action, client_address=address, **subject)
        allowed = allowed and decision.allowed
    return allowed


def _record_exports(
    letters: list[Letter], operator: User | None, command_line_user: str, address: str
) -> bool:
    """One event per letter, on its recipient's chain, naming who exported it; True when every
    letter may go. Chains are locked in key order, so two exports never deadlock.

    Everyone passes the door: a staff member (the admin, or ``export_letters --operator``), or,
    for the command run without ``--operator``, the machine's operator, who has no portal
    account: the event then names the operating-system user in its reason.
    """
    actor: Actor = operator if operator is not None else CommandLineOperator(command_line_user)
    return _record_decisions(letters, actor, Action.EXPORT_LETTER, address)


def export_batch(
    outdir: Path,
    then: Callable[[Path], None] | None = None,
    *,
    operator: User | None = None,
    command_line_user: str = "",
    client_address: str = "",
) -> Path | None:
    """Write every rendered, not yet dispatched letter to ``outdir/<batch>/`` and mark them
    dispatched; returns the batch folder, or None when no letter is waiting.

    Each letter's export (its PDF carries the address and the creation code) is recorded on its
    recipient's chain before anything of a letter is decrypted, its postal block included; when
    the door refuses ``operator``, nothing is written or changed, the refusals are committed and
    ``ExportRefused`` raised. Only then are the letters of recipients shredded since rendering
    set aside (void), as before.

    The folder is written under a temporary name and renamed at the end, and ``then`` (the
    admin's zip) runs before the transaction commits: a failure anywhere leaves neither a half
    batch nor a letter marked dispatched that nobody received.
    """
    return _export(outdir, then, operator, command_line_user, client_address, None)[1]


# Letters in one batch of ``export_batches`` (issue 18): bounded memory and transaction.
EXPORT_BATCH_LETTERS = 1000


def export_batches(
    outdir: Path, *, operator: User | None = None, command_line_user: str = ""
) -> Iterator[Path]:
    """``export_batch`` again and again, each batch of at most ``EXPORT_BATCH_LETTERS`` letters
    (the oldest first) in its own transaction and folder, until none is waiting; yields each
    folder once it is committed. A failure stops at the batch it happened in: the batches before
    it are complete and dispatched, and the next run takes the rest. The manifest of each batch
    is sorted by postcode (not across batches)."""
    while True:
        found, folder = _export(outdir, None, operator, command_line_user, "", EXPORT_BATCH_LETTERS)
        if not found:
            return
        if folder is not None:  # else every letter of the batch was void: on to the next
            yield folder


def _export(
    outdir: Path,
    then: Callable[[Path], None] | None,
    operator: User | None,
    command_line_user: str,
    client_address: str,
    limit: int | None,
) -> tuple[int, Path | None]:
    """``export_batch`` on at most ``limit`` letters (None: all): how many were waiting, and
    the batch folder (None when none was left to send)."""
    outdir.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        waiting = list(
            Letter.objects.select_for_update(skip_locked=True)
            .select_related("data_key")
            .filter(state=LetterState.RENDERED, batch__isnull=True)
            .order_by("pk")[:limit]
        )
        if not waiting:
            return 0, None
        # The door first: nothing of a letter is opened before its export is decided.
        allowed = _record_exports(waiting, operator, command_line_user, client_address)
        final = None
        if allowed:
            letters = [letter for letter in waiting if not is_destroyed(letter.postal)]
            kept = {letter.pk for letter in letters}
            shredded = [letter.pk for letter in waiting if letter.pk not in kept]
            if shredded:  # their recipient was shredded since rendering: nothing to send
                Letter.objects.filter(pk__in=shredded).update(state=LetterState.VOID)
            if letters:
                final = _write_and_dispatch(outdir, letters, render_window_test, then)
    if not allowed:
        raise ExportRefused
    return len(waiting), final


def _write_and_dispatch(
    outdir: Path,
    letters: list[Letter],
    window_test: Callable[[], bytes],
    then: Callable[[Path], None] | None,
) -> Path:
    letters.sort(key=lambda letter: (_postal(letter)["postcode"], letter.reference))
    batch = LetterBatch.objects.create(letter_count=len(letters))
    staging = Path(tempfile.mkdtemp(prefix=".batch-", dir=outdir))
    try:
        _write_batch(staging, batch, letters)
        (staging / "window-test.pdf").write_bytes(window_test())
        _write_checksum(staging / "window-test.pdf")
        Letter.objects.filter(pk__in=[letter.pk for letter in letters]).update(
            state=LetterState.DISPATCHED, dispatched_at=timezone.now(), batch=batch
        )
        final = outdir / str(batch.uid)
        os.replace(staging, final)
        if then is not None:
            then(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _write_batch(folder: Path, batch: LetterBatch, letters: list[Letter]) -> None:
    with (folder / "manifest.csv").open("w", encoding="utf-8", newline="") as handle:
        manifest = csv.writer(handle)
        manifest.writerow(MANIFEST_COLUMNS)
        for sequence, letter in enumerate(letters, start=1):
            pdf_path = folder / f"{letter.reference}.pdf"
            with pdf_path.open("wb") as pdf:
                for chunk in open_decrypted(
                    default_storage, letter.pdf_name, letter.data_key, letter.pdf_aad()
                ):
                    pdf.write(chunk)
            _write_checksum(pdf_path)
            manifest.writerow(
                [
                    batch.uid,
                    sequence,
                    letter.reference,
                    letter.page_count,
                    _postal(letter)["postcode"],
                    _postal(letter)["city"],
                    _postal(letter)["country"],
                ]
            )
    _write_checksum(folder / "manifest.csv")


def export_batch_as_zip(operator: User, *, client_address: str = "") -> tuple[str, bytes] | None:
    """The same batch for the admin, as (file name, zip bytes), exported by the staff member
    ``operator`` through the door; the letters are marked dispatched only once the archive
    exists. Raises ``ExportRefused`` (refusals recorded) when the door says no."""
    archive = io.BytesIO()

    def zip_folder(folder: Path) -> None:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for item in sorted(folder.iterdir()):
                zipped.write(item, f"{folder.name}/{item.name}")

    workdir = Path(tempfile.mkdtemp(prefix="dmp-export-"))
    try:
        folder = export_batch(
            workdir, then=zip_folder, operator=operator, client_address=client_address
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if folder is None:
        return None
    return f"{folder.name}.zip", archive.getvalue()


def void_unsent(kind: str, subject_uid: UUID) -> int:
    """The letters of this kind for this person not yet handed to the mail house will not be:
    what they would carry was cancelled (their recipient's address changed)."""
    return Letter.objects.filter(
        kind=kind,
        subject_uid=subject_uid,
        state__in=[LetterState.REQUESTED, LetterState.RENDERED],
        batch__isnull=True,
    ).update(state=LetterState.VOID)


def mark_returned(staff: User, letter_ids: list[int], *, client_address: str = "") -> int:
    """The mail house sent these back undelivered: whatever they carried stops working (a
    creation code is superseded). A postal fact about each recipient, so each return passes the
    door and is recorded on the recipient's chain, naming ``staff``, before anything changes;
    when the door refuses, nothing changes, the refusals are committed and ``ReturnRefused``
    raised. Returns how many letters were marked."""
    with transaction.atomic():
        letters = list(
            Letter.objects.select_for_update().filter(
                pk__in=letter_ids, state=LetterState.DISPATCHED
            )
        )
        if not letters:
            return 0
        allowed = _record_decisions(letters, staff, Action.MARK_RETURNED, client_address)
        if allowed:
            for letter in letters:
                handler = settings.LETTER_RETURN_HANDLERS.get(letter.kind)
                if handler:
                    import_string(handler)(letter.subject_uid)
            Letter.objects.filter(pk__in=[letter.pk for letter in letters]).update(
                state=LetterState.RETURNED, returned_at=timezone.now()
            )
    if not allowed:
        raise ReturnRefused
    return len(letters)


def requeue_stalled(older_than_minutes: int = 15) -> int:
    """Queue again the letters whose rendering task was lost (a broker outage at commit time
    is logged, not retried); rendering is idempotent, so a duplicate is harmless."""
    since = timezone.now() - timedelta(minutes=older_than_minutes)
    stalled = list(
        Letter.objects.filter(state=LetterState.REQUESTED, requested_at__lt=since).values_list(
            "pk", flat=True
        )[:1000]
    )
    for letter_id in stalled:
        enqueue("letters.tasks.render_letter", letter_id)
    return len(stalled)
