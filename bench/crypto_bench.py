"""Cost of the project's encryption beside raw AES-GCM on the same data, in one run.

    python scripts/testenv.py -- .venv/bin/python bench/crypto_bench.py

Prints, per case, the median of several runs: an encrypted field round trip (seal + open of a
short value with its header and associated data, under a real data key), and a 1 MiB and a
20 MiB file round trip through the chunked file format (in memory, and through a storage folder
on disk), each beside one-shot ``AESGCM`` encrypt + decrypt of the same bytes.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from django.core.files.storage import FileSystemStorage  # noqa: E402
from django.db import connection  # noqa: E402

from dmp_portal.crypto import aead  # noqa: E402
from dmp_portal.crypto.datakeys import cipher_for, create_data_key  # noqa: E402
from dmp_portal.crypto.files import (  # noqa: E402
    EncryptingReader,
    iter_decrypted,
    open_decrypted,
    save_encrypted,  # noqa: E402
)


def median_seconds(function, repeat: int) -> float:
    samples = []
    for _index in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def raw_round_trip(data: bytes):
    cipher = AESGCM(os.urandom(32))

    def run():
        nonce = os.urandom(12)
        cipher.decrypt(nonce, cipher.encrypt(nonce, data, b"aad"), b"aad")

    return run


def report(label: str, ours: float, raw: float) -> None:
    print(
        f"{label:<38} ours {ours * 1e6:>10.1f} us   raw AES-GCM {raw * 1e6:>10.1f} us   "
        f"ratio {ours / raw:5.2f}"
    )


def main() -> None:
    print(f"database: {connection.vendor}; python {sys.version.split()[0]}")
    data_key = create_data_key("benchmark")
    cipher = cipher_for(data_key)
    aad = b"records_document.title|row=00000000-0000-0000-0000-000000000000|owner=x"
    value = b"Compte rendu d'hospitalisation, service de cardiologie"

    def field_round_trip():
        aead.open_sealed(cipher, aead.seal(cipher, data_key.pk, value, aad), aad)

    report(
        "field seal+open (56 B)",
        median_seconds(field_round_trip, 2000),
        median_seconds(raw_round_trip(value), 2000),
    )

    with tempfile.TemporaryDirectory() as folder:
        storage = FileSystemStorage(location=folder)
        for size_mib, repeat in ((1, 30), (20, 7)):
            data = os.urandom(size_mib * 1024 * 1024)

            def memory_round_trip(data=data):
                encrypted = io.BytesIO(EncryptingReader(io.BytesIO(data), data_key, aad).read())
                for _chunk in iter_decrypted(encrypted, data_key, aad):
                    pass

            def storage_round_trip(data=data):
                name, _size = save_encrypted(storage, "bench.bin", io.BytesIO(data), data_key, aad)
                for _chunk in open_decrypted(storage, name, data_key, aad):
                    pass
                storage.delete(name)

            raw = median_seconds(raw_round_trip(data), repeat)
            report(
                f"file {size_mib} MiB, in memory", median_seconds(memory_round_trip, repeat), raw
            )
            report(
                f"file {size_mib} MiB, through storage",
                median_seconds(storage_round_trip, repeat),
                raw,
            )


if __name__ == "__main__":
    main()
