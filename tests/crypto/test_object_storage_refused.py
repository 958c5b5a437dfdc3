"""A bucket out of reach or refusing the write fails as a full disk does (issue 18, item 2): an
``OSError`` that the upload turns into the form's message, with nothing kept in the bucket.

On the real S3 server (SeaweedFS, started by scripts/testenv.py with DMP_TEST_STORAGE=s3):
``DMP_TEST_STORAGE=s3 python3 scripts/testenv.py -- .venv/bin/python -m pytest ...``. Without
it these tests are skipped. The endpoint "down" is a loopback port where nothing listens (what
the portal sees of a stopped server: connection refused).
"""

from __future__ import annotations

import errno
import io
import os
import socket

import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils import translation
from django.utils.html import escape

from audit.models import Action, AuditEvent
from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.files import save_encrypted
from dmp_portal.object_storage import RangedS3Storage
from dmp_portal.settings.storage import MULTIPART_BYTES
from records.models import Document
from records.upload_errors import StorageUnavailable
from tests.records.factories import patient_with_login, post_upload
from tests.storage_backends import s3_only

pytestmark = [pytest.mark.django_db, s3_only]
AAD = b"records.document.file|row=s3-refused"
# One attempt: a refused connection is not worth boto3's retries in a test (the portal keeps
# boto3's defaults, which add a few seconds before the same refusal).
ONE_ATTEMPT = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2)


def closed_port() -> int:
    """A loopback port where nothing listens (bound then released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def s3_options(**changes) -> dict:
    return {**settings.STORAGES["default"]["OPTIONS"], "client_config": ONE_ATTEMPT, **changes}


def s3_storages(**changes) -> dict:
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": settings.STORAGES["default"]["BACKEND"],
            "OPTIONS": s3_options(**changes),
        },
    }


def the_bucket():
    """The test server's bucket, whatever storage the test put in place meanwhile."""
    storage = RangedS3Storage(**s3_options())
    return storage.connection.meta.client, storage.bucket_name


def bucket_keys(prefix: str) -> list[str]:
    client, bucket = the_bucket()
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def multipart_uploads(prefix: str) -> list[str]:
    client, bucket = the_bucket()
    listed = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [upload["Key"] for upload in listed.get("Uploads", [])]


@pytest.fixture
def data_key():
    return create_data_key("patient")


def test_an_unreachable_endpoint_is_an_os_error_with_its_cause(data_key):
    storage = RangedS3Storage(**s3_options(endpoint_url=f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(OSError) as raised:
        save_encrypted(storage, "records/down.bin", io.BytesIO(b"x" * 1000), data_key, AAD)
    assert raised.value.errno == errno.EIO
    assert isinstance(raised.value.__cause__, BotoCoreError)  # EndpointConnectionError


def test_a_bucket_that_refuses_the_write_is_an_os_error_and_keeps_nothing(data_key):
    # Wrong secret: the server answers 403 to every request (a ClientError, not a BotoCoreError).
    storage = RangedS3Storage(**s3_options(secret_key="not-the-secret"))
    with pytest.raises(OSError) as raised:
        save_encrypted(storage, "records/refused.bin", io.BytesIO(b"x" * 1000), data_key, AAD)
    assert raised.value.errno == errno.EIO
    assert isinstance(raised.value.__cause__, ClientError)
    assert bucket_keys("records/refused") == []


class FailingHalfWay:
    """A source that breaks after more than a part has been read: the multipart upload has
    begun (one part sent or in flight) when the write fails."""

    def __init__(self, fail_after: int) -> None:
        self.left = fail_after

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise OSError(errno.EIO, "source broke half-way")
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return os.urandom(size)


def test_a_multipart_upload_that_fails_half_way_leaves_no_object_and_no_part(data_key):
    with pytest.raises(OSError):
        save_encrypted(
            default_storage,
            "records/half-way.bin",
            FailingHalfWay(2 * MULTIPART_BYTES + 1000),
            data_key,
            AAD,
        )
    assert bucket_keys("records/half-way") == []
    assert multipart_uploads("records/half-way") == [], "the multipart upload was aborted"
    # The name is free again: a retry writes under it, not under a suffixed one.
    name, _ = save_encrypted(
        default_storage, "records/half-way.bin", io.BytesIO(b"y"), data_key, AAD
    )
    assert name == "records/half-way.bin"


def test_an_upload_while_the_endpoint_is_down_gives_the_form_back_then_goes_through(caplog):
    _patient, client = patient_with_login()
    keys_before = set(bucket_keys("records/"))
    down = s3_storages(endpoint_url=f"http://127.0.0.1:{closed_port()}")
    with override_settings(STORAGES=down):
        response = post_upload(client)
    assert response.status_code == 200
    with translation.override(settings.LANGUAGE_CODE):
        assert response.context["form"].errors["file"] == [StorageUnavailable().message]
        assert escape(StorageUnavailable().message) in response.content.decode()
    assert not Document.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.UPLOAD).exists()
    assert set(bucket_keys("records/")) == keys_before
    assert "upload not stored: the storage refused the write (EIO)" in caplog.text

    assert post_upload(client).status_code == 302  # the endpoint back: the same upload is stored
    document = Document.objects.get()
    assert set(bucket_keys("records/")) == keys_before | {document.file_name}
