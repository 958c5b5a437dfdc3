"""The export of a 200 MB record streams in bounded memory: the files are decrypted, measured
and zipped chunk by chunk, never held whole, and the ZIP is still complete and exact."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import tracemalloc
import zipfile
from datetime import date

import pytest
from django.core.files.storage import default_storage

from accounts.models import TOTPDevice
from dmp_portal.crypto.files import save_encrypted
from records.models import Category, Document
from tests.accounts.factories import next_totp_token
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
FILES = 4
FILE_SIZE = 50 * MB  # 200 MB in all
# Far below the record's size: a few chunks of 256 KiB in flight, the ZIP's own buffers, the
# pages of the index and the Bundle.
PEAK_LIMIT = 16 * MB


class Generated:
    """``size`` pseudo-random bytes (incompressible, like a scan), produced as they are read and
    hashed on the way, so that the test itself never holds a file."""

    def __init__(self, seed: int, size: int) -> None:
        self.random = random.Random(seed)
        self.left = size
        self.sha1 = hashlib.sha1()

    def read(self, size: int = -1, /) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.random.randbytes(size)
        self.left -= size
        self.sha1.update(data)
        return data


def high_water_mark() -> int:
    """The process's peak resident memory so far (Linux), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def big_document(patient, number: int) -> tuple[Document, str]:
    """A document written with the crypto layer directly (no upload checks: fast)."""
    document = Document(
        patient=patient,
        data_key=patient.data_key,
        author=patient,
        title=f"Scanner {number}",
        category=Category.objects.get(code="imagerie"),
        act_date=date(2026, 1, number),
        media_type="application/pdf",
        extension=".pdf",
        size=FILE_SIZE,
    )
    source = Generated(number, FILE_SIZE)
    document.file_name, _size = save_encrypted(
        default_storage,
        f"records/{document.uid}.bin",
        source,
        document.data_key,
        document.file_aad(),
    )
    document.save()
    return document, source.sha1.hexdigest()


def test_a_200_mb_record_is_exported_in_bounded_memory(tmp_path):
    patient, client = patient_with_login()
    built = [big_document(patient, number) for number in range(1, FILES + 1)]
    expected = {
        f"documents/imagerie/2026-01-0{n}-Scanner {n}.pdf": digest
        for n, (_d, digest) in enumerate(built, 1)
    }
    try:
        token = next_totp_token(TOTPDevice.objects.get(user=patient))
        response = client.post("/records/export/", {"otp_token": token})
        assert response["Content-Type"] == "application/zip"
        target = tmp_path / "export.zip"
        resident_before = high_water_mark()
        tracemalloc.start()
        try:
            with target.open("wb") as out:
                for chunk in response.streaming_content:
                    out.write(chunk)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        resident_growth = high_water_mark() - resident_before
        print(
            f"\nexport of {FILES * FILE_SIZE // MB} MB: peak {peak / MB:.1f} MB traced by"
            f" tracemalloc, resident high-water mark grew by {resident_growth / MB:.1f} MB"
        )
        assert target.stat().st_size > FILES * FILE_SIZE
        assert peak < PEAK_LIMIT
        assert resident_growth < 4 * PEAK_LIMIT  # C buffers too (cipher, zlib), not traced
        with zipfile.ZipFile(target) as archive:
            for name, digest in expected.items():
                sha1 = hashlib.sha1()
                with archive.open(name) as member:
                    while chunk := member.read(MB):
                        sha1.update(chunk)
                assert sha1.hexdigest() == digest
            bundle = json.loads(archive.read("dossier.fhir.json"))
        attachments = {
            entry["resource"]["content"][0]["attachment"]["url"]: entry["resource"]["content"][0][
                "attachment"
            ]
            for entry in bundle["entry"]
            if entry["resource"]["resourceType"] == "DocumentReference"
        }
        assert set(attachments) == set(expected)
        for name, attachment in attachments.items():
            assert attachment["size"] == FILE_SIZE
            assert base64.b64decode(attachment["hash"]).hex() == expected[name]
    finally:
        for document, _digest in built:
            default_storage.delete(document.file_name)
