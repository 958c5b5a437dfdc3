"""A small tmpfs, really full or read-only, for the tests of what a storage that refuses writes
does (tests/drills/test_storage_full.py, tests/letters/test_render_storage_full.py). Mounting
needs root: CI runs as root; elsewhere the tests are skipped, and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.processes import services_missing

SIZE = 1024 * 1024  # the tmpfs: 1 MiB
# What filling leaves: room for the start of a 200 KB file, not for its end, so that the write
# fails half-way.
LEFT_FREE = 32 * 1024


def run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise OSError(f"{' '.join(command)}: {result.stderr.strip() or result.returncode}")


@contextlib.contextmanager
def tmpfs(folder: Path) -> Iterator[Path]:
    """A ``SIZE`` tmpfs mounted on ``folder`` for the block; unmounted whatever happens."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        services_missing("mounting a tmpfs needs root (CI runs as root)")
    folder.mkdir()
    try:
        run("mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "dmp-drill-media", str(folder))
    except OSError as exc:
        services_missing(f"cannot mount a tmpfs here: {exc}")
    try:
        yield folder
    finally:
        with contextlib.suppress(OSError):
            run("mount", "-o", "remount,rw", str(folder))
        try:
            run("umount", str(folder))
        except OSError:
            run("umount", "-l", str(folder))  # busy: detached now, freed when released


def fill(folder: Path, leave: int) -> Path:
    """Write a filler file until the filesystem is full, then give back ``leave`` bytes."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    size = filler.stat().st_size
    with filler.open("r+b") as out:
        out.truncate(max(0, size - leave))
    return filler
