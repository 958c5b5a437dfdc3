"""Rebuild a fresh instance from a backup (``manage.py restore INDIR``; README, Backup and
restore).

The order, each step only when every one before it passed:

1. checks, before anything is touched: the manifest, every hash it lists (a changed or missing
   file is refused and named), migrations this code knows, the ledger of destroyed keys
   readable, no stored file already there with other content (the storage would give the
   restored file another name than its row's), and a database without the portal's tables;
2. ``pg_restore`` in one transaction (all or nothing), as the connection's role: the owner's
   URL in production, as for ``migrate`` (README, Database roles);
3. the files put back through the storage API (the local disk or the bucket), under their names;
4. ``replay_shred_ledger``: every key destroyed since the backup is destroyed again, before
   anyone can read it;
5. ``verify_audit``: the trail restored recomputes and its signed checkpoints hold.

Keys are never in a backup: the restored instance runs with the keys of the configuration.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

from dmp_portal.append_only_grants import REVOKE_CHANGES_SQL
from dmp_portal.backups import (
    COPY_WORKERS,
    DUMP,
    FILES,
    FORMAT,
    MANIFEST,
    BackupError,
    libpq_environment,
    postgres_program,
    sha256_of,
    sha256_stream,
    stored_path,
)
from dmp_portal.crypto import ledger
from dmp_portal.crypto.files import remove_partial

SHOWN = 10  # names listed in a refusal; the rest counted


class RestoreError(BackupError):
    """A restore refused or failed; the message says what was (not) done."""


@dataclass(frozen=True)
class RestoreSummary:
    files: int
    already: int
    replay: str
    audit: str
    seconds: float


def read_manifest(indir: Path) -> dict[str, Any]:
    path = indir / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise RestoreError(
            _("%(path)s is missing: this folder is not a complete backup. Nothing was restored.")
            % {"path": path}
        ) from error
    except (OSError, ValueError) as error:
        raise RestoreError(
            _("%(path)s cannot be read as a backup's manifest. Nothing was restored.")
            % {"path": path}
        ) from error
    if not _well_formed(manifest):
        raise RestoreError(
            _("%(path)s is not a manifest this version reads (expected “%(format)s”). Nothing "
              "was restored.")
            % {"path": path, "format": FORMAT}
        )  # fmt: skip
    return manifest


def _well_formed(manifest: Any) -> bool:
    try:
        return (
            manifest["format"] == FORMAT
            and isinstance(manifest["database"]["sha256"], str)
            and isinstance(manifest["database"]["migrations"], dict)
            and all(
                isinstance(entry["name"], str) and isinstance(entry["sha256"], str)
                for entry in manifest["files"]
            )
        )
    except (KeyError, TypeError):
        return False


def check_hashes(indir: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists is there with its SHA-256; else refuse, naming them."""
    wanted = [(indir / DUMP, manifest["database"]["sha256"])]
    wanted += [(stored_path(indir / FILES, f["name"]), f["sha256"]) for f in manifest["files"]]
    missing, changed = [], []
    for path, expected in wanted:
        if not path.is_file():
            missing.append(str(path.relative_to(indir)))
        elif sha256_of(path)[0] != expected:
            changed.append(str(path.relative_to(indir)))
    if missing or changed:
        raise RestoreError(
            _(
                "The backup does not match its manifest: missing %(missing)s; changed "
                "%(changed)s. Nothing was restored."
            )
            % {"missing": _listed(missing), "changed": _listed(changed)}
        )


def check_migrations_known(manifest: dict[str, Any]) -> None:
    """A backup made by a newer version holds tables this code does not know: refuse."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in manifest["database"]["migrations"].items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise RestoreError(
            _(
                "The backup was made by a newer version of the portal (migrations unknown here: "
                "%(names)s): restore it with that version. Nothing was restored."
            )
            % {"names": _listed(unknown)}
        )


def check_database_empty(using: str = "default") -> None:
    connection = connections[using]
    ours = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    ours.add("django_migrations")
    with connection.cursor() as cursor:
        present = sorted(ours & set(connection.introspection.table_names(cursor)))
    if present:
        raise RestoreError(
            _(
                "The database %(name)s already holds the portal's tables (%(tables)s): a backup "
                "is restored into a new, empty database only. Nothing was restored."
            )
            % {"name": connection.settings_dict["NAME"], "tables": _listed(present)}
        )


def check_ledger(path: Path) -> int:
    """The ledger must be there and well formed before anything is restored: a restore that
    could not replay it would bring destroyed keys back."""
    try:
        return ledger.check(path)
    except FileNotFoundError as error:
        raise RestoreError(
            _(
                "The ledger of destroyed keys %(path)s does not exist: without it a restore "
                "would bring destroyed keys back. Give its latest copy with --ledger (or, if no "
                "key was ever destroyed, create it empty). Nothing was restored."
            )
            % {"path": path}
        ) from error
    except ledger.MalformedLedger as error:
        # replay_shred_ledger's own message (the expected format), then the restore's outcome.
        malformed = _(
            "Line %(number)d of the ledger %(path)s is malformed: expected “<data key "
            "uid> <UTC time as YYYY-MM-DDTHH:MM:SSZ>”, found “%(line)s”. Nothing was "
            "replayed."
        ) % {"number": error.number, "path": path, "line": error.line[:80]}
        raise RestoreError(f"{malformed} {_('Nothing was restored.')}") from error
    except OSError as error:
        raise RestoreError(
            _("Cannot read the ledger %(path)s: %(reason)s. Nothing was restored.")
            % {"path": path, "reason": error.strerror}
        ) from error


def files_to_put_back(
    indir: Path, manifest: dict[str, Any], storage: Storage
) -> list[dict[str, Any]]:
    """The files still to store: one already stored with the same content is skipped (a restore
    run again); one stored with other content is refused before anything is touched."""
    todo, taken = [], []
    try:
        with ThreadPoolExecutor(max_workers=COPY_WORKERS) as pool:
            for entry, state in zip(
                manifest["files"],
                pool.map(lambda entry: _stored_state(storage, entry), manifest["files"]),
                strict=True,
            ):
                if state == "absent":
                    todo.append(entry)
                elif state == "other":
                    taken.append(entry["name"])
    except OSError as error:  # the disk's own errors, and S3's (dmp_portal/object_storage.py)
        raise RestoreError(
            _("The storage cannot be read (%(reason)s). Nothing was restored.")
            % {"reason": error.strerror or error}
        ) from error
    if taken:
        raise RestoreError(
            _(
                "The storage already holds other files under the names of the backup's "
                "(%(names)s): restore into an empty storage. Nothing was restored."
            )
            % {"names": _listed(taken)}
        )
    return todo


def _stored_state(storage: Storage, entry: dict[str, Any]) -> str:
    """``absent``, ``same`` (stored with the backup's content) or ``other``; storage calls
    only, in a worker thread."""
    try:
        stored = storage.open(entry["name"], "rb")  # one request on S3, none more if absent
    except FileNotFoundError:
        return "absent"
    with stored:
        return "same" if sha256_stream(stored)[0] == entry["sha256"] else "other"


def _put_back(storage: Storage, indir: Path, entry: dict[str, Any]) -> str:
    with stored_path(indir / FILES, entry["name"]).open("rb") as handle:
        try:
            return storage.save(entry["name"], File(handle, name=entry["name"]))
        except BaseException:
            # A disk that fills mid-file: what was written goes, so that the restore can run
            # again once there is room (files_to_put_back found the name free: it is ours).
            remove_partial(storage, entry["name"])
            raise


def restore_backup(
    indir: Path,
    *,
    ledger_path: Path,
    storage: Storage | None = None,
    using: str = "default",
    progress: Callable[[str], None] | None = None,
) -> RestoreSummary:
    storage = storage or default_storage
    say = progress or (lambda line: None)
    started = time.monotonic()
    manifest = read_manifest(indir)
    check_hashes(indir, manifest)
    say(f"hashes checked files={len(manifest['files']) + 1}")
    check_migrations_known(manifest)
    check_ledger(ledger_path)
    todo = files_to_put_back(indir, manifest, storage)
    check_database_empty(using)
    pg_restore = postgres_program("pg_restore")

    restored = subprocess.run(  # noqa: S603 (no shell; pg_restore's path, names and INDIR)
        # --no-owner: every object belongs to the role restoring, the owner (README, Database
        # roles); the grants to the application role come back with the dump.
        [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction", "--dbname",
         str(connections[using].settings_dict["NAME"]), str(indir / DUMP)],
        env=libpq_environment(using),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if restored.returncode != 0:
        raise RestoreError(
            _("pg_restore failed (exit %(code)d), nothing was restored: %(error)s")
            % {"code": restored.returncode, "error": restored.stderr.strip()[-500:]}
        )
    connections[using].close()  # the next query sees the restored schema afresh
    say("database restored")
    # From here the database holds the data keys the ledger says were destroyed: the ledger is
    # replayed first, before the files come back, and a failure at any later step says not to
    # open the service (the restore cannot simply run again: the database is no longer empty).
    step = _("the audit tables' grants")
    try:
        # The restored tables got the new database's default privileges (the roles script's:
        # read and write for the application role on every table the owner creates), the
        # append-only audit tables included: take UPDATE, DELETE and TRUNCATE back first.
        with connections[using].cursor() as cursor:
            cursor.execute(REVOKE_CHANGES_SQL)
        say("audit tables append-only for every role but the owner")
        step = "replay_shred_ledger"
        replay = _run("replay_shred_ledger", "--ledger", str(ledger_path))
        say(replay)
        step = _("putting the files back")
        _put_all_back(storage, indir, todo)
        say(f"files restored={len(todo)} already={len(manifest['files']) - len(todo)}")
        for name in manifest.get("missing_files", []):
            # Named by a row but gone when the backup copied the files: a purge between the
            # snapshot and the copy (its key was destroyed again by the replay above).
            say(f"missing at backup file={name}")
        step = "verify_audit"
        audit = _run("verify_audit")
        say(f"verify_audit {audit}")
    except Exception as error:
        raise RestoreError(
            _(
                "The database is restored, but the restore stopped during %(step)s: do not open "
                "the service. Drop the database, empty the storage, then run the restore "
                "again. %(error)s"
            )
            % {"step": step, "error": error}
        ) from error
    return RestoreSummary(
        len(todo), len(manifest["files"]) - len(todo), replay, audit, time.monotonic() - started
    )


def _run(command: str, *args: str) -> str:
    out = StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=out)
    except CommandError as error:
        raise CommandError(f"{error} {out.getvalue().strip()}".strip()) from error
    return out.getvalue().strip()


def _put_all_back(storage: Storage, indir: Path, todo: list[dict[str, Any]]) -> None:
    with ThreadPoolExecutor(max_workers=COPY_WORKERS) as pool:
        saved = pool.map(lambda entry: _put_back(storage, indir, entry), todo)
        for entry, name in zip(todo, saved, strict=True):
            if name != entry["name"]:
                raise RestoreError(
                    _("The storage stored %(name)s under another name (%(other)s): stop, and "
                      "restore into an empty storage.")
                    % {"name": entry["name"], "other": name}
                )  # fmt: skip


def _listed(names: list[str]) -> str:
    if not names:
        return "—"
    shown = ", ".join(names[:SHOWN])
    if len(names) > SHOWN:
        return _("%(shown)s and %(count)d more") % {"shown": shown, "count": len(names) - SHOWN}
    return shown
