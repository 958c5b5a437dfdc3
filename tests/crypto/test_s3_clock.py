"""Tests that move the clock still reach the S3 server (issue 18, item 1).

S3 refuses a request signed more than 15 minutes away from its own clock; the suite makes
botocore sign with the real time while time_machine moves everything else
(tests/storage_backends.py, applied to the whole session by tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import io

import botocore.auth
import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.files import open_decrypted, save_encrypted
from tests.storage_backends import s3_only

AAD = b"records.document.file|row=clock-test"


def test_botocore_signs_with_the_real_time_while_the_clock_is_moved():
    real = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with time_machine.travel(dt.datetime(2001, 1, 1, tzinfo=dt.UTC), tick=False):
        assert dt.datetime.now(dt.UTC).year == 2001  # the portal's code sees the travelled time
        signed = botocore.auth.get_current_datetime()
    assert abs(signed - real) < dt.timedelta(minutes=1)


@s3_only
@pytest.mark.django_db
def test_a_file_is_stored_and_read_back_a_month_ahead():
    data_key = create_data_key("patient")
    content = b"clock " * 100_000
    with time_machine.travel(timezone.now() + dt.timedelta(days=30), tick=False):
        name, _size = save_encrypted(
            default_storage, "clock-test.bin", io.BytesIO(content), data_key, AAD
        )
        assert b"".join(open_decrypted(default_storage, name, data_key, AAD)) == content
        default_storage.delete(name)
        assert not default_storage.exists(name)
