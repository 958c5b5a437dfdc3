"""Which storage backend the suite runs on, for the few tests that hold on one of them only.

The suite runs on the local disk, and again on S3 with ``DMP_TEST_STORAGE=s3`` (scripts/testenv.py
then starts SeaweedFS and sets DMP_STORAGE=s3): most tests hold on both.
"""

from __future__ import annotations

import pytest
from django.conf import settings

ON_S3 = settings.STORAGES["default"]["BACKEND"] == "dmp_portal.object_storage.RangedS3Storage"

s3_only = pytest.mark.skipif(
    not ON_S3, reason="needs the S3 server: DMP_TEST_STORAGE=s3 python3 scripts/testenv.py -- ..."
)
# S3 refuses a request signed more than 15 minutes away from its own clock: a test that moves
# the clock (time_machine) cannot reach it, whatever the code does.
local_disk_only_with_clock_moved = pytest.mark.skipif(
    ON_S3, reason="moves the clock: the S3 server refuses requests signed at another time"
)
local_disk_only = pytest.mark.skipif(
    ON_S3, reason="reads or copies files by their path on the local disk"
)
