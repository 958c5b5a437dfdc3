"""Speed of ``import_beneficiaries`` on a generated registry file (issue 18, item 7).

    python3 scripts/testenv.py -- .venv/bin/python bench/import_bench.py [ROWS] [--profile]
        [--practitioners] [--once]

Writes ROWS (default 20,000) valid rows, NIRs with their key as the test factories make them,
to a temporary file, runs the command once on an empty registry (every row created) and once
again on the same file (every row updated: the re-run), and prints rows per second for each.
``--practitioners``: the same with ``import_practitioners`` and a directory file (RPPS numbers
with their Luhn key, one e-mail address each; every new practitioner's invitation is queued to
the broker, as in production), then a third run on the same numbers with every row changed.
``--once``: the first run only (a 1,000,000-row file's re-run takes long).
``--profile`` prints the 25 costliest functions of each run
(cProfile, cumulative). On a terminal, the commands print their progress lines.
"""

from __future__ import annotations

import cProfile
import csv
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from stdnum import luhn  # noqa: E402
from stdnum.fr import nir as stdnum_nir  # noqa: E402

from accounts.validators import PRACTITIONER_COLUMNS  # noqa: E402
from enrollment.validators import BENEFICIARY_COLUMNS  # noqa: E402


def nir_for(index: int) -> tuple[str, date]:
    """A valid NIR (with its key) and its birth date, all different for index < 10**8."""
    born = date(1950, 1, 1) + timedelta(days=index % 18000)
    born = born.replace(year=min(born.year, 2000))
    body = f"1{born:%y}{born:%m}78{index // 1000 % 1000:03d}{index % 1000:03d}"
    return body + stdnum_nir.calc_check_digits(body), born


def write_file(path: str, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(BENEFICIARY_COLUMNS)
        for index in range(rows):
            number, born = nir_for(index)
            writer.writerow(
                [
                    number,
                    "Martin",
                    "Léa",
                    born.isoformat(),
                    "",
                    "",
                    f"{index} rue de la Paix",
                    "",
                    "75002",
                    "Paris",
                    "FR",
                    "general",
                ]
            )


def rpps_for(index: int) -> str:
    """A valid RPPS number (11 digits, the last a Luhn key), all different for index < 10**9."""
    body = f"1{index:09d}"
    return body + luhn.calc_check_digit(body)


def write_practitioners(path: str, rows: int, changed: bool = False) -> None:
    """``changed``: every row with another specialty and e-mail address than the first file."""
    specialty, mailbox = ("Pédiatrie", "q") if changed else ("Cardiologie", "p")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PRACTITIONER_COLUMNS)
        for index in range(rows):
            number = rpps_for(index)
            writer.writerow(
                [number, "Martin", "Claire", "medecin", specialty, f"{mailbox}{number}@example.fr"]
            )


def run(command: str, path: str, profile: bool) -> float:
    started = time.perf_counter()
    out = io.StringIO()
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
    # Not a terminal: no progress lines, as in a script.
    call_command(command, path, stdout=out)
    if profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    elapsed = time.perf_counter() - started
    print("   ", out.getvalue().splitlines()[0])
    return elapsed


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    rows = int(args[0]) if args else 20_000
    profile = "--profile" in sys.argv
    practitioners = "--practitioners" in sys.argv
    command = "import_practitioners" if practitioners else "import_beneficiaries"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "registry.csv")
        (write_practitioners if practitioners else write_file)(path, rows)
        runs = [("first run (created)", path), ("re-run (updated)", path)]
        if "--once" in sys.argv:
            del runs[1:]
        # The same rows again, every one changed: two UPDATEs a row.
        if practitioners and len(runs) > 1:
            changed = str(Path(folder) / "changed.csv")
            write_practitioners(changed, rows, changed=True)
            runs.append(("changed file (updated)", changed))
        for label, source in runs:
            elapsed = run(command, source, profile)
            rate = rows / elapsed
            print(f"{command}, {label}: {rows} rows in {elapsed:.1f} s = {rate:.0f} rows/s")


if __name__ == "__main__":
    main()
