"""The whole rendering task per letter (code created and hashed, PDF rendered, encrypted and
stored, rows updated in PostgreSQL), beside bare reportlab drawing the same page, in one run.

    python scripts/testenv.py -- bash -c '.venv/bin/python manage.py migrate -v0 &&
        .venv/bin/python bench/letters_pipeline_bench.py 200'

One process, so the rates are per core. The registry and letter rows are made first, outside
the timing; each timed letter then goes through ``letters.services.render`` exactly as the
Celery task does.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from bench.letters_bench import bare_letter, contents  # noqa: E402
from bench.world import registry_people  # noqa: E402
from letters import services  # noqa: E402
from letters.models import Letter  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    people = registry_people(count)
    letters = [
        Letter.objects.create(kind="creation_code", subject_uid=p.uid, data_key=p.data_key)
        for p in people
    ]
    pages = contents(count)
    for content in pages[:20]:  # warm-up of reportlab's caches for both sides
        bare_letter(content)

    portal_times, bare_times = [], []
    for letter, content in zip(letters, pages, strict=True):
        start = time.perf_counter()
        assert services.render(letter.pk)
        portal_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_letter(content)
        bare_times.append(time.perf_counter() - start)
    portal, bare = statistics.median(portal_times), statistics.median(bare_times)
    print(f"{count} letters, one process (per core), medians")
    print(
        f"  portal render task (code, PDF, encrypt, store, DB)  {1 / portal:7.1f} letters/s"
        f"   {portal * 1000:6.2f} ms/letter"
    )
    print(
        f"  bare reportlab, same page                           {1 / bare:7.1f} letters/s"
        f"   {bare * 1000:6.2f} ms/letter"
    )
    print(
        f"  ratio: {portal / bare:.2f}x the time of bare reportlab (the task's rate at "
        f"{bare / portal * 100:.0f} % of bare reportlab's; issue 20's target: 50 %)"
    )


if __name__ == "__main__":
    main()
