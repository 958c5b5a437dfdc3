"""bench/fill.py, the load benchmark's copies at scale (README « At 1,000,000 documents »): the
seeded records copied in SQL, every table K + 1 times as large, and the seeded records, which
the benchmark reads, exactly as they were."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from bench.fill import TABLES, fill
from demo.bulk_seed import SeedPlan, seed
from records import selectors
from records.models import Document, SearchToken

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        found = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (names: bench.fill)
            found[table] = cursor.fetchone()[0]
        return found


def test_every_seeded_row_is_copied_and_the_seeded_records_read_as_before():
    report = seed(SeedPlan(patients=3, documents_per_patient=2, files=False))
    seeded = User.objects.filter(username__startswith=f"bulk-{report.run}-")
    patient = seeded.filter(username__contains="-p").order_by("username").first()
    practitioner = seeded.get(username__contains="-m")
    before = counts()
    page_before = selectors.record_page(practitioner, patient, selectors.RecordFilters(), 1)

    fill(2, log=lambda message: None)

    assert counts() == {table: rows * 3 for table, rows in before.items()}
    # The copies are named apart, so the benchmark's look-ups by prefix find only the seeded.
    assert seeded.count() == 4
    assert User.objects.filter(username__startswith="fill2-bulk-").count() == 4
    # No copied consent names a seeded practitioner: their pages read seeded rows only.
    assert practitioner.consents_received.count() == 3
    page_after = selectors.record_page(practitioner, patient, selectors.RecordFilters(), 1)
    assert [row.title for row in page_after.object_list] == [
        row.title for row in page_before.object_list
    ]
    # A copy's search tokens follow its own document.
    copy = Document.objects.exclude(patient__in=seeded).first()
    assert SearchToken.objects.filter(indexed_document=copy).exists()
    # New rows after the copies get fresh ids (the sequences were moved past them).
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('records_document', 'id'))")
        assert cursor.fetchone()[0] > Document.objects.order_by("-id").first().id
