"""A consistent backup of the portal: the database's dump, the stored files and their manifest.

What ``manage.py backup OUTDIR`` writes (README, Backup and restore)::

    OUTDIR/database.dump      pg_dump's custom format, one snapshot
    OUTDIR/files/<name>       each stored file, the ciphertext exactly as stored
    OUTDIR/manifest.json      SHA-256 of every file above, the time, the portal's version and
                              the database's migrations; written last, so that a directory
                              without it is an unfinished backup

Never a key: master keys, the blind index key, the audit signing key and the HSM's keys are
backed up apart (README, Encryption at rest), so that whoever holds a backup reads ciphertext
only, and a destroyed key cannot come back with an old copy of the files.

Consistency: the dump and the list of files come from one snapshot of the database. The
transaction exports its snapshot (``pg_export_snapshot``), pg_dump reads the database in it
(``--snapshot``), and the same transaction lists the files the rows name
(``DMP_BACKUP_STORED_FILES``). Files are then copied from the storage: a stored file is never
replaced (a name taken gets a suffix), so every file a row of the dump names is still the one it
named, unless a purge deleted it in between (the person's key was destroyed first: the manifest
lists it as missing and the restore's replay of the ledger destroys the key again). A file
uploaded during the backup has no row in the dump and is left out: harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import connections, transaction
from django.utils.translation import gettext as _

FORMAT = "dmp-portal-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files"
CHUNK = 1024 * 1024
# Files copied at once (backup and restore): S3 answers each request in milliseconds, so
# copying one file after another is bound by round trips (measured: 80 files/s on loopback).
COPY_WORKERS = 8
KEYS_NOTE = (
    "No key is in this backup: master keys, the blind index key, the audit signing key and the "
    "HSM's keys are backed up separately, as is the ledger of destroyed keys (README)."
)


class BackupError(Exception):
    """A backup refused or failed; the message is for the operator, in their language."""


@dataclass(frozen=True)
class BackupSummary:
    outdir: Path
    files: int
    bytes: int
    missing: list[str]
    seconds: float


def postgres_program(name: str) -> str:
    """pg_dump or pg_restore from PATH (the server's own version first, as on the servers)."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _("The program %(program)s cannot be found on PATH (Debian: postgresql-client).")
            % {"program": name}
        )
    return found


def libpq_environment(using: str = "default") -> dict[str, str]:
    """The connection's settings as libpq's environment: the password never shows in ``ps``."""
    database = connections[using].settings_dict
    env = {**os.environ, "PGDATABASE": str(database["NAME"])}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if database.get(key):
            env[variable] = str(database[key])
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def stored_path(root: Path, name: str) -> Path:
    """Where a stored file's copy lives under ``root``: a name that would leave it (absolute,
    ``..``) is refused, since a manifest may come from anywhere."""
    parts = PurePosixPath(name).parts
    if not name or PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
        raise BackupError(_("The stored file name “%(name)s” is not allowed.") % {"name": name})
    return root.joinpath(*parts)


def sha256_of(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return sha256_stream(handle)


def sha256_stream(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def copy_hashing(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def stored_file_columns() -> list[tuple[Any, str]]:
    """(model, field name) for each column of ``DMP_BACKUP_STORED_FILES``."""
    columns = []
    for entry in settings.DMP_BACKUP_STORED_FILES:
        label, field = entry.rsplit(".", 1)
        model = apps.get_model(label)
        model._meta.get_field(field)  # a misspelt column fails here, not in a silent backup
        columns.append((model, field))
    return columns


def portal_version() -> dict[str, str | None]:
    """The package's version and, in a git checkout, the commit: cheap, and None otherwise."""
    try:
        version: str | None = metadata.version("dmp-portal")
    except metadata.PackageNotFoundError:
        version = None
    git = shutil.which("git")
    try:
        # Arguments are ours (the program found on PATH, fixed words): no shell, no input.
        commit: str | None = subprocess.run(  # noqa: S603
            [git or "git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"version": version, "commit": commit}


def check_outdir(outdir: Path) -> None:
    """OUTDIR must not exist, or be an empty directory: a backup never mixes with another."""
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise BackupError(
            _(
                "The folder %(path)s already exists and is not empty: give a new folder (or an "
                "empty one). Nothing was written."
            )
            % {"path": outdir}
        )


def take_backup(
    outdir: Path,
    *,
    storage: Storage | None = None,
    using: str = "default",
    progress: Callable[[str], None] | None = None,
) -> BackupSummary:
    """Write the backup into ``outdir`` (see the module's docstring); on failure, remove what
    this call wrote, so that a directory is either a complete backup or none."""
    check_outdir(outdir)
    storage = storage or default_storage
    pg_dump = postgres_program("pg_dump")
    started = time.monotonic()
    created = not outdir.exists()
    # The dump holds the whole database (ciphertext, but also blind indexes and the audit
    # trail): readable by the operator's account only, whatever the umask.
    outdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    outdir.chmod(0o700)
    try:
        names, migrations, snapshot = _dump_in_one_snapshot(pg_dump, outdir / DUMP, using)
        dump_hash, dump_bytes = sha256_of(outdir / DUMP)
        if progress:
            progress(f"database dumped bytes={dump_bytes}")
        files, missing = _copy_files(storage, names, outdir / FILES, progress)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "portal": portal_version(),
            "keys": KEYS_NOTE,
            "database": {
                "path": DUMP,
                "sha256": dump_hash,
                "bytes": dump_bytes,
                **snapshot,  # the time of the snapshot: the backup's recovery point
                "migrations": migrations,
            },
            "files": files,
            "missing_files": missing,
        }
        partial = outdir / f".{MANIFEST}.partial"
        partial.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        partial.replace(outdir / MANIFEST)  # last: its presence marks a complete backup
    except BaseException:
        _remove_written(outdir, created)
        raise
    total = dump_bytes + sum(entry["bytes"] for entry in files)
    return BackupSummary(outdir, len(files), total, missing, time.monotonic() - started)


def _dump_in_one_snapshot(
    pg_dump: str, target: Path, using: str
) -> tuple[list[str], dict[str, list[str]], dict[str, str]]:
    """pg_dump and the stored files' names from one snapshot of the database."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError(
            _("A backup cannot run inside a transaction: its snapshot would not be the dump's.")
        )
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(
            "SELECT pg_export_snapshot(), current_setting('server_version'), "
            "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        )
        snapshot, server, taken_at = cursor.fetchone()
        # The transaction stays open while pg_dump runs: its snapshot lives as long as it does.
        # No shell; the arguments are pg_dump's path, the snapshot's id and OUTDIR.
        dumped = subprocess.run(  # noqa: S603
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
            env=libpq_environment(using),
            capture_output=True,
            text=True,
            check=False,
        )
        if dumped.returncode != 0:
            raise BackupError(
                _("pg_dump failed (exit %(code)d); nothing was kept: %(error)s")
                % {"code": dumped.returncode, "error": dumped.stderr.strip()[-500:]}
            )
        names: set[str] = set()
        for model, field in stored_file_columns():
            rows = model._base_manager.using(using).exclude(**{field: ""})
            names.update(rows.values_list(field, flat=True).iterator(chunk_size=2000))
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations: dict[str, list[str]] = {}
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    return sorted(names), migrations, {"server_version": server, "snapshot_at": taken_at}


def _copy_files(
    storage: Storage, names: Iterable[str], root: Path, progress: Callable[[str], None] | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Copy each stored file as it is stored (ciphertext, never opened with a key), several at
    a time: on object storage each file costs round trips that would otherwise add up."""
    files, missing = [], []
    root.mkdir()
    with ThreadPoolExecutor(max_workers=COPY_WORKERS) as pool:
        copied = pool.map(lambda name: _copy_one(storage, name, root), names)
        for count, (name, entry) in enumerate(copied, start=1):
            if entry is None:
                missing.append(name)
            else:
                files.append(entry)
            if progress and count % 1000 == 0:
                progress(f"files copied={count}")
    return files, missing


def _copy_one(storage: Storage, name: str, root: Path) -> tuple[str, dict[str, Any] | None]:
    """One file, in a worker thread: storage calls only (django-storages keeps one S3
    connection per thread), no database."""
    target = stored_path(root, name)
    try:
        source = storage.open(name, "rb")  # FileNotFoundError on the disk and on S3 alike
    except FileNotFoundError:
        return name, None
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, target.open("xb") as copy:
        digest, size = copy_hashing(source, copy)
    return name, {"name": name, "path": f"{FILES}/{name}", "sha256": digest, "bytes": size}


def _remove_written(outdir: Path, created: bool) -> None:
    if created:
        shutil.rmtree(outdir, ignore_errors=True)
        return
    for entry in outdir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
