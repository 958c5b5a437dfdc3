"""Which storage backend the suite runs on, and what the tests need to run on both.

The suite runs on the local disk, and its storage tests again on S3 (``make test`` does both:
the second pass with ``DMP_TEST_STORAGE=s3``, for which scripts/testenv.py starts SeaweedFS and
sets DMP_STORAGE=s3). Every test holds on both, but for the few marked here.

Tests that move the clock (time_machine) reach S3 too: S3 refuses a request signed more than
15 minutes away from its own clock, so ``botocore_signs_with_the_real_time`` (applied to the
whole session by tests/conftest.py) makes botocore sign with the real time while the portal's
own code sees the travelled one. Nothing of the product is changed: production clocks do not
jump.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import botocore.auth
import botocore.signers
import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import default_storage

ON_S3 = settings.STORAGES["default"]["BACKEND"] == "dmp_portal.object_storage.RangedS3Storage"

s3_only = pytest.mark.skipif(
    not ON_S3, reason="needs the S3 server: DMP_TEST_STORAGE=s3 python3 scripts/testenv.py -- ..."
)
# For a test that breaks the local disk on purpose (a media folder that cannot be created): the
# same fault on S3 is another test's (tests/drills).
local_disk_only = pytest.mark.skipif(
    ON_S3, reason="injects its fault through the local disk (MEDIA_ROOT)"
)

# The modules of botocore that read the clock to sign a request (botocore.compat's helper,
# imported by name into each). botocore.signers signs presigned addresses, unused by the portal
# but cheap to cover.
_SIGNING_MODULES = (botocore.auth, botocore.signers)


def real_utc_now(remove_tzinfo: bool = True) -> dt.datetime:
    """``botocore.compat.get_current_datetime`` read from the real clock: while time_machine
    travels, its escape hatch reads the clock it replaced (and refuses to when none is under
    way: the clock is then the real one)."""
    hatch = time_machine.escape_hatch
    now = (hatch.datetime.datetime if hatch.is_travelling() else dt.datetime).now(dt.UTC)
    return now.replace(tzinfo=None) if remove_tzinfo else now


@contextlib.contextmanager
def botocore_signs_with_the_real_time() -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for module in _SIGNING_MODULES:
            stack.enter_context(mock.patch.object(module, "get_current_datetime", real_utc_now))
        yield


def stored_files() -> list[tuple[str, bytes]]:
    """Every stored file's name and bytes as they sit in the storage (ciphertext), in name
    order: the files under MEDIA_ROOT on the local disk, the objects of the bucket on S3."""
    if ON_S3:
        objects = default_storage.bucket.objects.all()  # type: ignore[attr-defined]
        return sorted((obj.key, obj.get()["Body"].read()) for obj in objects)
    root = Path(settings.MEDIA_ROOT)
    files = (path for path in root.rglob("*") if path.is_file())
    return sorted((str(path.relative_to(root)), path.read_bytes()) for path in files)


def stored_bytes() -> bytes:
    """All the stored files' bytes, one after the other (``stored_files``)."""
    return b"".join(content for _name, content in stored_files())
