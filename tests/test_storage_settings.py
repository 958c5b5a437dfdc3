"""The storage backend comes from the environment: the local disk unless DMP_STORAGE=s3."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env
from dmp_portal.settings.storage import LOCAL_BACKEND, S3_BACKEND, default_storage_backend

S3_ENVIRON = {
    "DMP_STORAGE": "s3",
    "DMP_S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "DMP_S3_BUCKET": "dmp",
    "DMP_S3_ACCESS_KEY_ID": "key-id",
    "DMP_S3_SECRET_ACCESS_KEY": "secret",
}


def test_the_local_disk_is_the_default_so_make_run_needs_nothing():
    assert default_storage_backend(Env({})) == {"BACKEND": LOCAL_BACKEND}
    assert default_storage_backend(Env({"DMP_STORAGE": "local"})) == {"BACKEND": LOCAL_BACKEND}


def test_s3_takes_its_endpoint_bucket_and_keys_from_the_environment():
    backend = default_storage_backend(Env(S3_ENVIRON))
    assert backend["BACKEND"] == S3_BACKEND
    options = backend["OPTIONS"]
    assert options["endpoint_url"] == "http://127.0.0.1:8333"
    assert options["bucket_name"] == "dmp"
    assert (options["access_key"], options["secret_key"]) == ("key-id", "secret")
    assert options["file_overwrite"] is False, "a stored file is never replaced"
    assert options["addressing_style"] == "path"


def test_s3_keys_can_come_from_files(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("from-a-file\n")
    environ = {**S3_ENVIRON, "DMP_S3_SECRET_ACCESS_KEY_FILE": str(secret)}
    del environ["DMP_S3_SECRET_ACCESS_KEY"]
    assert default_storage_backend(Env(environ))["OPTIONS"]["secret_key"] == "from-a-file"


@pytest.mark.parametrize("missing", sorted(set(S3_ENVIRON) - {"DMP_STORAGE"}))
def test_s3_without_one_of_its_settings_refuses_to_start_and_names_it(missing):
    environ = {name: value for name, value in S3_ENVIRON.items() if name != missing}
    with pytest.raises(ImproperlyConfigured, match=f"DMP_STORAGE=s3 needs {missing}"):
        default_storage_backend(Env(environ))


def test_an_unknown_backend_is_refused():
    with pytest.raises(ImproperlyConfigured, match="DMP_STORAGE='disk' is not one of: local, s3"):
        default_storage_backend(Env({"DMP_STORAGE": "disk"}))
