"""Where a record-list request and a 1 MiB download spend their time, beside a bare view.

    python scripts/testenv.py -- .venv/bin/python bench/breakdown.py

In one process, on the throwaway PostgreSQL of testenv, with Django's test client (no network,
no gunicorn): the bare ``login_required`` view of ``bench.urls`` (session, user and second
factor, as every page pays), then the portal's pages, then their parts (the door with its audit
write, the documents' query, the template). Medians of 300 runs; the load benchmark
(``make bench``) gives the same paths under 64 connections.

A second table splits the portal's own middleware cost: the same bare view behind only session
and authentication middleware (``bench.minimal_settings``), then behind the portal's middleware
list cut at each step (each middleware added in the portal's order), so that each line's own
share is its time minus the line above.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.messages.storage.fallback import FallbackStorage  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.http import StreamingHttpResponse  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.urls import clear_url_caches  # noqa: E402

from access_control.models import ProfessionRule  # noqa: E402
from access_control.policy import authorize  # noqa: E402
from access_control.profession_defaults import seed_profession_rules  # noqa: E402
from accounts.models import Profession  # noqa: E402
from audit.models import Action  # noqa: E402
from bench.minimal_settings import MINIMAL_MIDDLEWARE  # noqa: E402
from bench.world import build_pdf, new_patient, upload, verified_client  # noqa: E402
from records import downloads, selectors  # noqa: E402
from records.categories import seed_categories  # noqa: E402
from records.forms import RecordFilterForm  # noqa: E402
from records.models import Category, Document  # noqa: E402
from records.services import upload_document  # noqa: E402

RUNS = 300


def median_ms(function, runs: int = RUNS) -> float:
    for _ in range(20):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def one_mib_pdf() -> bytes:
    """A 1 MiB PDF that parses strictly (uploads are parsed: records/pdf_checks.py)."""
    body = os.urandom(512 * 1024).hex().encode()
    return build_pdf([b"<</Length %d>>stream\n%s\nendstream" % (len(body), body)])


def main() -> None:
    if os.environ.get("DMP_ENV") != "test":
        raise SystemExit("run it through scripts/testenv.py (see the docstring)")
    call_command("migrate", verbosity=0)
    seed_categories(Category)
    seed_profession_rules(ProfessionRule, Category, Profession.values)

    patient = new_patient()
    for number in range(25):
        upload(patient, f"Compte rendu {number}")
    big = upload_document(
        patient,
        patient,
        title="Scanner",
        category=Category.objects.get(code="imagerie"),
        act_date=date(2026, 1, 1),
        upload=io.BytesIO(one_mib_pdf()),
    )
    client = verified_client(patient)
    # Dressed by hand as the middleware would (a user, a session, messages): no declared type.
    request: Any = RequestFactory().get("/records/")
    # Past both factors, as django_otp's middleware marks the user (the header's menu asks).
    reader: Any = type(patient).objects.get(pk=patient.pk)
    reader.is_verified = lambda: True
    request.user, request.session = reader, {}
    request._messages = FallbackStorage(request)
    page = selectors.record_page(patient, patient, selectors.RecordFilters(), None)

    def list_door() -> None:
        with transaction.atomic():
            authorize(patient, patient, Action.LIST)

    def list_rows() -> list[str]:
        documents = Document.objects.filter(patient=patient).select_related(
            "category", "author__practitioner_profile", "data_key"
        )[:20]
        return [document.title for document in documents]

    def download() -> bytes:
        response = client.get(f"/records/{big.uid}/download/")
        if not isinstance(response, StreamingHttpResponse):
            raise RuntimeError(f"the download was not streamed: {response.status_code}")
        return b"".join(cast(Iterable[bytes], response.streaming_content))

    with override_settings(ROOT_URLCONF="bench.urls"):
        clear_url_caches()
        baseline = median_ms(lambda: client.get("/bench/baseline/"))
        baseline_mib = median_ms(lambda: client.get("/bench/baseline-1mib/").content)
    clear_url_caches()

    mib = baseline_mib  # the downloads compare with the bare view sending 1 MiB
    loaded = Document.objects.select_related("data_key").get(pk=big.pk)
    cipher, nonce = AESGCM(os.urandom(32)), os.urandom(12)
    sealed = (cipher, nonce, cipher.encrypt(nonce, os.urandom(1024 * 1024), b""))
    rows = [
        ("bare view (baseline)", baseline, baseline),
        (
            "record list page, 20 of 26 documents",
            median_ms(lambda: client.get("/records/")),
            baseline,
        ),
        (
            "  record_page: door, audit, count, rows",
            median_ms(lambda: record_page(patient)),
            baseline,
        ),
        ("    door + audit event (own transaction)", median_ms(list_door), baseline),
        ("    20 rows with relations, titles decrypted", median_ms(list_rows), baseline),
        ("  records/list.html rendered", median_ms(lambda: render_list(page, request)), baseline),
        (
            "    the filter form alone",
            median_ms(lambda: [str(f) for f in RecordFilterForm(None)]),
            baseline,
        ),
        ("access history page", median_ms(lambda: client.get("/access/history/")), baseline),
        ("bare view sending 1 MiB (baseline)", mib, mib),
        ("1 MiB download page", median_ms(download), mib),
        ("  door + audit + document row", median_ms(lambda: document_for(patient, big)), mib),
        ("  reading and decrypting the 1 MiB file", median_ms(lambda: read_all(loaded)), mib),
        ("    raw AES-GCM on 1 MiB, one call", median_ms(lambda: raw_aes(sealed)), mib),
    ]
    print(f"{'in process, median of ' + str(RUNS) + ' runs':48s} {'ms':>7s} {'x baseline':>10s}")
    for name, value, reference in rows:
        print(f"{name:48s} {value:7.2f} {value / reference:10.2f}")
    print_middleware_costs(client)


def client_behind(portal_client: Client, middleware: list[str]) -> Client:
    """A client whose handler holds ``middleware`` (loaded at its first request, kept after),
    with the portal client's session cookie."""
    with override_settings(MIDDLEWARE=middleware):
        client = Client()
        client.cookies = portal_client.cookies
        status = client.get("/bench/baseline/").status_code
    if status != 200:
        raise RuntimeError(f"the bare view answered {status} behind {middleware[-1]}")
    return client


def print_middleware_costs(portal_client: Client) -> None:
    """The bare view behind session and authentication only (bench.minimal_settings), then the
    portal's middleware list cut at each step. The configurations are timed in turns, 30 rounds
    of 10 requests each, so that a load change on the machine touches them all alike."""
    portal = list(settings.MIDDLEWARE)
    steps = [("session + authentication only (minimal)", list(MINIMAL_MIDDLEWARE))]
    chosen = set(MINIMAL_MIDDLEWARE)
    for name in portal:
        if name not in chosen:
            chosen.add(name)
            steps.append((f"+ {name.rsplit('.', 1)[-1]}", [m for m in portal if m in chosen]))
    samples: list[list[float]] = [[] for _ in steps]
    with override_settings(ROOT_URLCONF="bench.urls"):
        clear_url_caches()
        clients = [client_behind(portal_client, middleware) for _name, middleware in steps]
        for _round in range(30):
            for client, kept in zip(clients, samples, strict=True):
                for _ in range(10):
                    start = time.perf_counter()
                    client.get("/bench/baseline/")
                    kept.append(time.perf_counter() - start)
    clear_url_caches()
    times = [statistics.median(kept) * 1000 for kept in samples]
    minimal, total = times[0], times[-1]
    print()
    print(f"{'bare view, middleware added in order':48s} {'ms':>7s} {'own ms':>7s} {'share':>6s}")
    for index, ((name, _middleware), value) in enumerate(zip(steps, times, strict=True)):
        own = value - times[index - 1] if index else value
        share = f"{own / (total - minimal):6.0%}" if index and total > minimal else ""
        print(f"{name:48s} {value:7.2f} {own:7.2f} {share:>6s}")
    print(f"portal bare view at {minimal / total:.0%} of the minimal one (target 70% or more)")


def record_page(patient) -> None:
    selectors.record_page(patient, patient, selectors.RecordFilters(), None)


def render_list(page, request) -> str:
    context = {"form": RecordFilterForm(None), "page": page, "query": ""}
    return render_to_string("records/list.html", context, request=request)


def document_for(patient, document) -> None:
    """What the download runs before its first byte (records.downloads, issue 20 item 6)."""
    downloads.file_document(patient, document.uid, Action.DOWNLOAD)


def read_all(document) -> bytes:
    return b"".join(selectors.document_content(document))


def raw_aes(sealed: tuple) -> bytes:
    cipher, nonce, ciphertext = sealed
    return cipher.decrypt(nonce, ciphertext, b"")


if __name__ == "__main__":
    main()
