"""Where documents and letters are stored: the local disk (default) or an S3-compatible bucket.

``DMP_STORAGE=local`` (the default, so that `make run` needs nothing) keeps files under
MEDIA_ROOT. ``DMP_STORAGE=s3`` stores them in a bucket through django-storages' S3 backend,
extended by ``dmp_portal.object_storage`` so that reads fetch the ciphertext with ranged GETs.
The files are encrypted before they leave the process (dmp_portal/crypto/files.py): the object
store only ever holds ciphertext, and its keys are not the files' keys.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "dmp_portal.object_storage.RangedS3Storage"
# Parts of a multipart upload: S3 refuses parts under 5 MiB but the last one. Two parts in
# flight, and one being read, keep an upload near 33 MiB of memory whatever the file's size
# (measured by tests/records/test_download_memory.py).
MULTIPART_BYTES = 8 * 1024 * 1024
UPLOAD_CONCURRENCY = 2


def default_storage_backend(env: Env) -> dict[str, Any]:
    """The STORAGES["default"] entry the environment asks for."""
    kind = env.choice("DMP_STORAGE", ("local", "s3"), "local")
    if kind == "local":
        return {"BACKEND": LOCAL_BACKEND}
    required = {
        "endpoint_url": "DMP_S3_ENDPOINT_URL",
        "bucket_name": "DMP_S3_BUCKET",
        "access_key": "DMP_S3_ACCESS_KEY_ID",
        "secret_key": "DMP_S3_SECRET_ACCESS_KEY",
    }
    options: dict[str, Any] = {option: env.str(name) for option, name in required.items()}
    missing = [required[option] for option, value in options.items() if not value]
    if missing:
        raise ImproperlyConfigured(f"DMP_STORAGE=s3 needs {', '.join(missing)}.")
    options |= {
        "region_name": env.str("DMP_S3_REGION", "us-east-1"),
        # Path-style addresses (endpoint/bucket/key) work with every S3-compatible server.
        "addressing_style": env.choice("DMP_S3_ADDRESSING_STYLE", ("path", "virtual"), "path"),
        "signature_version": "s3v4",
        # Never replace a stored file: a name taken gets a suffix, as on the local disk.
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": False,  # files are never served by the bucket, only through views
        "multipart_bytes": MULTIPART_BYTES,
        "upload_concurrency": UPLOAD_CONCURRENCY,
    }
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
