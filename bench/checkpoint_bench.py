"""Signed checkpoints at scale: writing and verifying them for many chains, beside bare SQL.

    N=200000 python scripts/testenv.py -- .venv/bin/python bench/checkpoint_bench.py

On the throwaway PostgreSQL of testenv: N synthetic chains of 3 events each (the writer reads
each chain's head from its last event), then the first checkpoint (every head), the next with 1 %
of the chains moved (one more event), the next with none, and the verifier's checks. Baseline in
the same process: copying N heads into a scratch table with COPY, which is the least a
checkpoint of every head can cost.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from audit.checkpoints import write_checkpoint  # noqa: E402
from audit.verify import _Verifier  # noqa: E402

T = TypeVar("T")


def timed(function: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


EVENTS_PER_CHAIN = 3
# Synthetic events (their MACs are not real: only the checkpoints are measured here).
INSERT_EVENTS_SQL = """
INSERT INTO access_control_auditevent (chain_id, sequence, occurred_at, actor_role, actor_rpps,
    action, outcome, mode, reason, previous_mac, mac)
SELECT c.id, s, now(), 'anonymous', '', 'view', 'allowed', 'normal', '', '',
    md5(c.id::text || ':' || s) || md5(s::text || ':' || c.id)
FROM access_control_auditchain c, generate_series(%s, %s) s
WHERE c.id %% %s = 0
"""


def bare_copy_of_heads() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE scratch (chain_id bigint, sequence bigint, mac bytea)")
        cursor.execute(
            "SELECT id, last_sequence, decode(last_mac, 'hex') FROM access_control_auditchain"
        )
        rows = cursor.fetchall()
        with cursor.copy("COPY scratch (chain_id, sequence, mac) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("DROP TABLE scratch")


def main() -> None:
    if os.environ.get("DMP_ENV") != "test":
        raise SystemExit("run it through scripts/testenv.py (see the docstring)")
    chains = int(os.environ.get("N", "200000"))
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO access_control_auditchain (key, last_sequence, last_mac) "
            "SELECT 'bench:' || i, %s, md5(i::text) || md5((i + 1)::text) "
            "FROM generate_series(1, %s) i",
            [EVENTS_PER_CHAIN, chains],
        )
        cursor.execute(INSERT_EVENTS_SQL, [1, EVENTS_PER_CHAIN, 1])
        # As autovacuum leaves append-only tables between two checkpoints: statistics known,
        # pages all-visible (the writer's probes are index-only then).
        cursor.execute("VACUUM ANALYZE")
    baseline, _ = timed(bare_copy_of_heads)
    first, checkpoint = timed(write_checkpoint)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('access_control_auditcheckpointhead')")
        (heads_bytes,) = cursor.fetchone()
        cursor.execute(INSERT_EVENTS_SQL, [EVENTS_PER_CHAIN + 1, EVENTS_PER_CHAIN + 1, 100])
        cursor.execute(
            "UPDATE access_control_auditchain SET last_sequence = last_sequence + 1 "
            "WHERE id % 100 = 0"
        )
        cursor.execute("VACUUM ANALYZE")
    moved, moved_checkpoint = timed(write_checkpoint)
    still, _ = timed(write_checkpoint)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    verifier = _Verifier(100)
    heads_check, _ = timed(verifier._check_checkpointed_heads)
    all_checks, _ = timed(lambda: _Verifier(100).check_checkpoints(2000))
    assert verifier.result.broken_chains == 0

    if checkpoint is None or moved_checkpoint is None:  # None: no chain had moved
        raise SystemExit("the bench wrote no checkpoint where it moved chains")
    print(f"{chains} chains                               seconds   x baseline")
    print(f"baseline: COPY of every head (bare SQL)     {baseline:7.2f}   1.00")
    rows = [
        (f"first checkpoint, {checkpoint.head_count} heads", first),
        (f"next checkpoint, 1 % moved ({moved_checkpoint.head_count} heads)", moved),
        ("next checkpoint, nothing moved", still),
        ("verify: every checkpointed head in its chain", heads_check),
        ("verify: every checkpoint check", all_checks),
    ]
    for name, seconds in rows:
        print(f"{name:43s} {seconds:7.2f}   {seconds / baseline:4.2f}")
    print(f"checkpoint heads table: {heads_bytes / chains:.0f} bytes per head")


if __name__ == "__main__":
    main()
