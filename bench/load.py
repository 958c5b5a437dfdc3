"""Load benchmark: gunicorn on PostgreSQL and Redis, driven by wrk, beside a bare baseline view.

    make bench        (= python scripts/testenv.py -- .venv/bin/python bench/load.py)

Inside the throwaway PostgreSQL and Redis of ``scripts/testenv.py`` it migrates, switches
PostgreSQL back to durable commits (testenv turns fsync off for the suite), seeds patients with
``demo.bulk_seed``, starts gunicorn (``sync -w 2``, DMP_ENV=production: DEBUG off, persistent
connections, the Redis broker) with ``bench.settings`` (the portal's settings plus the baseline
views), logs every user in through the real login form and TOTP second factor, then runs wrk on
each path, every request with its user's session cookie (and CSRF token for POSTs), through
the headers of the TLS proxy. It prints requests per second, p50 and p99 latency, the ratio to
the baseline (a bare ``login_required`` view behind the same middleware) and the SQL queries per
request, counted in this process with Django's test client on the same settings and data.

A second baseline, the same bare view behind only the session and authentication middleware
(``bench.minimal_settings``: its own gunicorn, same worker class and count, same database and
the same users' session cookies), runs in the same run: the portal's bare view over it is the
cost of the portal's own middleware (target 70 % or more).

Options: --duration S (per path, default 60), --connections N (default 64), --patients N (seeded,
default 2000), --documents-per-patient M (default 10), --growth (also times the list, search and
history at 10 and 5,000 documents), --sizes (prints the tables', the database's and the files'
sizes after seeding and after the run, and the audit events and bytes each path wrote:
``bench/sizes.py``), --no-files (seeds the documents' rows without their small encrypted files:
about twice as fast, and no path of the benchmark opens those files; the 1 MiB documents it
downloads are always stored), --fill-copies K (after seeding, copies the seeded records K times
in SQL: ``bench/fill.py``; ``--patients 2000 --fill-copies 49`` gives 100,000 patients and
1,000,000 documents, the benchmark reading the seeded rows among them; on 2026-12-01's
loaded machine the copies' INSERT took 29 minutes and their COMMIT, which runs Django's deferred
foreign-key checks row by row, more than 6 more).

The data is seeded before PostgreSQL is made durable (the seeding is not what is measured), then
``VACUUM (ANALYZE)`` gives the planner the statistics and visibility map that a running service's
autovacuum keeps: without them a freshly bulk-loaded table gets worse plans.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.devices import TOTPDevice  # noqa: E402
from accounts.models import User  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from bench.cpu import parent_of, tree_seconds  # noqa: E402
from bench.fill import fill  # noqa: E402
from bench.minimal_settings import MINIMAL_MIDDLEWARE  # noqa: E402
from bench.sizes import audit_bytes  # noqa: E402
from bench.sizes import report as sizes_report  # noqa: E402
from bench.world import (  # noqa: E402
    add_documents,
    add_events,
    add_totp,
    stored_document,
    totp_token,
    verified_client,
)
from demo.bulk_seed import SeedPlan, seed  # noqa: E402
from records.models import Document, DocumentStatus  # noqa: E402

PASSWORD = "banc-de-charge-2026-mot-de-passe"
ONE_MIB = 1024 * 1024
LOGGED_PATIENTS = 64
LOGGED_PRACTITIONERS = 16
GUNICORN_WORKERS = 2
MINIMAL = "minimal (session+auth only)"
MINIMAL_SETTINGS = "bench.minimal_settings"


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- Data ------------------------------------------------------------------------------------


def durable_postgres() -> None:
    """testenv trades durability for speed; a benchmark of commits must not."""
    with connection.cursor() as cursor:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            cursor.execute(f"ALTER SYSTEM SET {name} = on")
        cursor.execute("SELECT pg_reload_conf()")
    connection.close()


def vacuum_analyze() -> None:
    """What autovacuum would have done by now on a running service: statistics, visibility map."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    log(f"VACUUM (ANALYZE) in {time.perf_counter() - started:.0f} s")


def one_mib_document(patient: User) -> Document:
    """A 1 MiB PDF-typed document in the patient's record, stored encrypted as uploads are."""
    return stored_document(
        patient,
        title="Scanner thoracique (1 Mio)",
        act_date="2026-01-15",
        content=b"%PDF-1.4\n" + secrets.token_bytes(ONE_MIB - 9),
    )


@dataclass
class Actor:
    user: User
    device: TOTPDevice
    address: str
    cookie: str = ""
    csrf: str = ""


def prepare_actors(run: str) -> tuple[list[Actor], list[Actor]]:
    """Seeded users given a password and a TOTP device (their second factor)."""
    patients = list(
        User.objects.filter(username__startswith=f"bulk-{run}-p").order_by("username")[
            : LOGGED_PATIENTS + 1
        ]
    )
    practitioners = list(
        User.objects.filter(username__startswith=f"bulk-{run}-m").order_by("username")[
            : LOGGED_PRACTITIONERS + 1
        ]
    )
    actors = []
    for index, user in enumerate(patients + practitioners):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        actors.append(Actor(user, add_totp(user), f"10.8.{index // 250}.{index % 250 + 1}"))
    return actors[: len(patients)], actors[len(patients) :]


# --- gunicorn --------------------------------------------------------------------------------


def gunicorn_env(port: int, settings_module: str = "bench.settings") -> dict[str, str]:
    return {
        **os.environ,
        "DMP_ENV": "production",
        "DJANGO_SETTINGS_MODULE": settings_module,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DMP_SITE_URL": f"https://127.0.0.1:{port}",
        # Production requires the operator's and the letter's details; no page the benchmark loads
        # shows them, and it renders no letter.
        **{name: "banc d'essai" for name in settings.DETAILS_REQUIRED},
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        # Required in production since issue 18 (an absolute path); the benchmark destroys no key.
        "DMP_SHRED_LEDGER_PATH": str(Path(settings.DMP_SHRED_LEDGER_PATH).resolve()),
        "STATIC_ROOT": str(settings.STATIC_ROOT),
        # One client address (the proxy's X-Forwarded-For) makes every enrolment request.
        "ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR": "1000000000",
        "LOG_LEVEL": "WARNING",
    }


def start_gunicorn(
    port: int, logfile: Path, settings_module: str = "bench.settings", ready: str = "/healthz"
) -> subprocess.Popen:
    """gunicorn on ``settings_module``, once ``ready`` answers (any status below 400)."""
    env = gunicorn_env(port, settings_module)
    if settings_module == "bench.settings":
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    with logfile.open("wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "dmp_portal.wsgi"]
            + ["-b", f"127.0.0.1:{port}", "-k", "sync", "-w", str(GUNICORN_WORKERS)]
            + ["--backlog", "2048", "--timeout", "60"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _headers, _body = HttpClient(port).request("GET", ready)
            if status < 400:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{logfile.read_text()}")
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer:\n{logfile.read_text()}")


class HttpClient:
    """Just enough of a browser behind the TLS proxy: cookies (Secure ones too), one address."""

    def __init__(self, port: int, address: str = "10.9.0.1") -> None:
        self.port, self.address = port, address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Origin": f"https://127.0.0.1:{self.port}",
        }
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, response.getheaders(), data
        finally:
            conn.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{key}={value}" for key, value in self.cookies.items() if value)

    def form_token(self, path: str) -> str:
        _status, _headers, body = self.request("GET", path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not match:
            raise SystemExit(f"no CSRF token in {path}")
        return match.group(1).decode()


def log_in(port: int, actor: Actor) -> None:
    """The real login: password form, then the TOTP form, as a person would."""
    client = HttpClient(port, actor.address)
    token = client.form_token("/accounts/login/")
    form = {"csrfmiddlewaretoken": token, "username": actor.user.username, "password": PASSWORD}
    status, _h, _b = client.request("POST", "/accounts/login/", form)
    token = client.form_token("/accounts/login/")
    otp = {"csrfmiddlewaretoken": token, "otp_token": totp_token(actor.device)}
    status, _h, _b = client.request("POST", "/accounts/login/", otp)
    check, _h, _b = client.request("GET", "/bench/baseline/")
    if status != 302 or check != 200:
        raise SystemExit(f"login failed for {actor.user.username}: {status} then {check}")
    actor.cookie, actor.csrf = client.cookie_header(), client.cookies.get("__Host-csrftoken", "")


# --- wrk -------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    queries: int | None
    requests: int = 0
    audit_events: int | None = None  # written during the run (--sizes)
    audit_bytes: int | None = None
    # CPU seconds used during the run: gunicorn's tree, PostgreSQL's tree, wrk (bench/cpu.py).
    cpu: dict[str, float] | None = None


def wrk_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once waited for
    return usage.ru_utime + usage.ru_stime


def postmaster_pid() -> int:
    """The PostgreSQL server's root process: the parent of this connection's backend."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return parent_of(int(cursor.fetchone()[0]))


def run_wrk(
    port, name, lines, duration, connections, queries, workdir: Path, trees: dict[str, int]
) -> Result:
    requests_file = workdir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}-{connections}.tsv"
    requests_file.write_text("".join("\t".join(line) + "\n" for line in lines))
    env = {
        **os.environ,
        "BENCH_REQUESTS": str(requests_file),
        "BENCH_ORIGIN": f"https://127.0.0.1:{port}",
    }
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s"]
    command += ["-s", str(ROOT / "bench" / "load.lua"), f"http://127.0.0.1:{port}"]
    before = {side: tree_seconds(pid) for side, pid in trees.items()} | {"wrk": wrk_seconds()}
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    after = {side: tree_seconds(pid) for side, pid in trees.items()} | {"wrk": wrk_seconds()}
    line = next(x for x in output.splitlines() if x.startswith("BENCH_RESULT "))
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    errors = sum(data[key] for key in ("connect", "read", "write", "status", "timeout"))
    log(f"{name} c={connections}: {data}")
    return Result(
        name,
        connections,
        data["requests"] / data["seconds"],
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
        errors,
        queries,
        data["requests"],
        cpu={side: after[side] - before[side] for side in after},
    )


# --- SQL queries per request (in this process, same settings and middleware) ---------------


def count_queries(client: Client, method: str, path: str, data=None) -> tuple[int, int]:
    """(SQL queries, audit events) of one request, after a first one to warm up."""
    send = client.post if method == "POST" else client.get
    send(path, data) if data else send(path)  # warm: a first request may write the session
    events = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = send(path, data) if data else send(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    if response.status_code >= 400:
        raise SystemExit(f"{path} answered {response.status_code} in the query count")
    return len(queries), AuditEvent.objects.count() - events


# --- Growth ----------------------------------------------------------------------------------


def growth(port: int, run: str) -> list[tuple[str, int, float]]:
    """Median server time of list, search and history for records of 10 and 5,000 documents."""
    rows = []
    for count in (10, 5000):
        patient = User.objects.filter(username__startswith=f"bulk-{run}-p").order_by("-username")[0]
        patient.set_password(PASSWORD)
        patient.save(update_fields=["password"])
        Document.objects.filter(patient=patient).update(status=DocumentStatus.DELETED)
        add_documents(patient, count)
        add_events(patient, list(Document.objects.filter(patient=patient)[:count]))
        actor = Actor(patient, add_totp(patient), "10.7.0.1")
        log_in(port, actor)
        client = HttpClient(port, actor.address)
        client.cookies = dict(part.split("=", 1) for part in actor.cookie.split("; "))
        for name, path in (
            ("list", "/records/"),
            ("search", "/records/?q=rendu+4"),
            ("history", "/access/history/"),
        ):
            samples = []
            for _ in range(15):
                start = time.perf_counter()
                status, _h, _b = client.request("GET", path)
                samples.append(time.perf_counter() - start)
                assert status == 200, (path, status)
            rows.append((name, count, statistics.median(samples) * 1000))
        User.objects.filter(pk=patient.pk).update(username=f"{patient.username}-grown{count}")
    return rows


# --- Main ------------------------------------------------------------------------------------


def raw_aes_ms(repeat: int = 50) -> float:
    cipher, nonce = AESGCM(os.urandom(32)), os.urandom(12)
    sealed = cipher.encrypt(nonce, os.urandom(ONE_MIB), b"")
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        cipher.decrypt(nonce, sealed, b"")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def valid_nirs(count: int) -> list[str]:
    numbers = []
    for index in range(count):
        year, month = index % 70 + 30, index % 12 + 1
        body = f"1{year:02d}{month:02d}75{index % 990 + 1:03d}{index % 999 + 1:03d}"
        numbers.append(f"{body}{97 - int(body) % 97:02d}")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--documents-per-patient", type=int, default=10)
    parser.add_argument("--growth", action="store_true")
    parser.add_argument("--sizes", action="store_true")
    parser.add_argument("--no-files", action="store_true")
    parser.add_argument("--fill-copies", type=int, default=0)
    args = parser.parse_args()
    if args.patients < 200:
        # seed_bulk makes one practitioner per 100 patients, and one of them only counts queries.
        parser.error("--patients must be at least 200 (two practitioners: one drives wrk)")
    if os.environ.get("DMP_TEST_SERVICES") != "1":
        raise SystemExit("run it through scripts/testenv.py (make bench)")

    call_command("migrate", verbosity=0)
    report = seed(
        SeedPlan(
            patients=args.patients,
            documents_per_patient=args.documents_per_patient,
            files=not args.no_files,
            workers=2,
        )
    )
    log(f"seeded: {report.summary()}")
    if args.fill_copies:
        fill(args.fill_copies, log)
    durable_postgres()
    vacuum_analyze()
    if args.sizes:
        print(sizes_report(f"seeded, {describe(report, args.fill_copies)}"))
    patients, practitioners = prepare_actors(report.run)
    # One actor of each kind stays out of wrk: it counts the queries in this process.
    counting_patient, counting_practitioner = patients.pop(), practitioners.pop()
    big = {actor.user.pk: one_mib_document(actor.user) for actor in patients}
    big[counting_patient.user.pk] = one_mib_document(counting_patient.user)

    port = int(os.environ.get("BENCH_PORT", "0")) or _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="dmp-bench-"))
    server = start_gunicorn(port, workdir / "gunicorn.log")
    # The second baseline: same worker class and count, only session and authentication
    # middleware (bench/minimal_settings.py); the same session cookies are sent to it.
    minimal_port = int(os.environ.get("BENCH_MINIMAL_PORT", "0")) or _free_port()
    minimal_server = start_gunicorn(
        minimal_port, workdir / "gunicorn-minimal.log", MINIMAL_SETTINGS, "/bench/baseline/"
    )
    try:
        log(f"gunicorn on 127.0.0.1:{port}; logging {len(patients) + len(practitioners)} in")
        for actor in patients + practitioners:
            log_in(port, actor)
        # A redirect to the login would count as a success in wrk: the same cookie must be let in.
        for actor in patients:
            check = HttpClient(minimal_port, actor.address)
            check.cookies = dict(part.split("=", 1) for part in actor.cookie.split("; "))
            status, _h, _b = check.request("GET", "/bench/baseline/")
            if status != 200:
                raise SystemExit(f"the minimal baseline answered {status} to a logged-in user")
        anonymous = []
        for address_index in range(32):
            client = HttpClient(port, f"10.6.0.{address_index + 1}")
            token = client.form_token("/enrollment/")
            anonymous.append((client.cookie_header(), token))

        def practitioner_documents(actor: Actor) -> list[Document]:
            return list(
                Document.objects.filter(
                    patient__consents_given__practitioner=actor.user,
                    hidden_from_practitioners=False,
                    status=DocumentStatus.CURRENT,
                )[:20]
            )

        def own_document(actor: Actor) -> Document | None:
            return Document.objects.filter(patient=actor.user, size__lt=ONE_MIB).first()

        nirs = valid_nirs(5000)
        paths = {
            MINIMAL: [("GET", "/bench/baseline/", a.cookie, "", "") for a in patients],
            "baseline (bare view)": [
                ("GET", "/bench/baseline/", a.cookie, "", "") for a in patients
            ],
            "record list": [("GET", "/records/", a.cookie, "", "") for a in patients],
            "document page (practitioner)": [
                ("GET", f"/records/{d.uid}/", a.cookie, "", "")
                for a in practitioners
                for d in practitioner_documents(a)
            ],
            "download 1 MiB": [
                ("GET", f"/records/{big[a.user.pk].uid}/download/", a.cookie, "", "")
                for a in patients
            ],
            "baseline 1 MiB (bare view)": [
                ("GET", "/bench/baseline-1mib/", a.cookie, "", "") for a in patients
            ],
            "access history": [("GET", "/access/history/", a.cookie, "", "") for a in patients],
            "enrolment request (POST)": [
                (
                    "POST",
                    "/enrollment/",
                    anonymous[index % 32][0],
                    anonymous[index % 32][1],
                    urllib.parse.urlencode(
                        {
                            "csrfmiddlewaretoken": anonymous[index % 32][1],
                            "nir": nir,
                            "nir_confirmation": nir,
                        }
                    ),
                )
                for index, nir in enumerate(nirs)
            ],
        }

        with override_settings(ROOT_URLCONF="bench.urls"):
            # Logged in without the forms, so as not to replay a TOTP code already used over
            # HTTP: the same session the two steps leave (bench/world.py).
            patient_client = verified_client(counting_patient.user, counting_patient.device)
            pro_client = verified_client(counting_practitioner.user, counting_practitioner.device)
            pro_document = practitioner_documents(counting_practitioner)[0]
            anonymous_client = Client()
            anonymous_client.get("/enrollment/")
            counts = {
                MINIMAL: minimal_queries(patient_client),
                "baseline (bare view)": count_queries(patient_client, "GET", "/bench/baseline/"),
                "record list": count_queries(patient_client, "GET", "/records/"),
                "document page (practitioner)": count_queries(
                    pro_client, "GET", f"/records/{pro_document.uid}/"
                ),
                "download 1 MiB": count_queries(
                    patient_client,
                    "GET",
                    f"/records/{big[counting_patient.user.pk].uid}/download/",
                ),
                "baseline 1 MiB (bare view)": count_queries(
                    patient_client, "GET", "/bench/baseline-1mib/"
                ),
                "access history": count_queries(patient_client, "GET", "/access/history/"),
                "enrolment request (POST)": count_queries(
                    anonymous_client,
                    "POST",
                    "/enrollment/",
                    {"nir": nirs[-1], "nir_confirmation": nirs[-1]},
                ),
            }
        # Audit events per request, counted the same way (exact, unlike wrk's window).
        events = {name: counted[1] for name, counted in counts.items()}
        queries = {name: counted[0] for name, counted in counts.items()}

        results = []
        database = postmaster_pid()
        trees = {"web": server.pid, "db": database}
        for name, lines in paths.items():
            target = minimal_port if name == MINIMAL else port
            before = audit_bytes() if args.sizes else None
            result = run_wrk(
                target,
                name,
                lines,
                args.duration,
                args.connections,
                queries[name],
                workdir,
                {"web": minimal_server.pid, "db": database} if name == MINIMAL else trees,
            )
            if before:
                after = audit_bytes()
                result.audit_events, result.audit_bytes = (
                    after[0] - before[0],
                    after[1] - before[1],
                )
            results.append(result)
        # Audit-writing reads of many patients in parallel: 16 then 64 connections.
        for connections in (16, 64):
            results.append(
                run_wrk(
                    port,
                    "document page, parallel",
                    paths["document page (practitioner)"],
                    max(10, args.duration // 2),
                    connections,
                    queries["document page (practitioner)"],
                    workdir,
                    trees,
                )
            )
        growth_rows = growth(port, report.run) if args.growth else []
    finally:
        for process in (server, minimal_server):
            process.terminate()
            process.wait(timeout=30)
    print_report(args, report, results, growth_rows, raw_aes_ms())
    print_cpu(results)
    print("\naudit events per request (test client, in this process): " + str(events))
    if args.sizes:
        print_audit(results)
        print(sizes_report("after the run"))


def print_cpu(results: list[Result]) -> None:
    """CPU milliseconds per request on each side, and how busy the two cores were."""
    cores = os.cpu_count() or 1
    print(
        f"\n{'CPU ms per request':<30} {'conns':>5} {'web':>7} {'db':>7} {'wrk':>7} "
        f"{'web+db':>7} {'busy':>5}"
    )
    for r in results:
        if not r.cpu or not r.requests:
            continue
        web, db, wrk = (r.cpu[side] * 1000 / r.requests for side in ("web", "db", "wrk"))
        seconds = r.requests / r.rps if r.rps else 0.0
        busy = sum(r.cpu.values()) / (seconds * cores) if seconds else 0.0
        print(
            f"{r.name:<30} {r.connections:>5} {web:>7.2f} {db:>7.2f} {wrk:>7.2f} "
            f"{web + db:>7.2f} {busy:>5.0%}"
        )
    print(
        f"(busy: the three trees' CPU over the run's {cores} cores; the rest went to other "
        "processes of the machine or was idle)"
    )


def print_audit(results: list[Result]) -> None:
    """Audit events and bytes each path wrote: events per request, bytes per event."""
    print(f"\n{'audit written by':<30} {'requests':>9} {'events':>8} {'ev/req':>6} {'bytes':>11}")
    events = size = 0
    for r in results:
        if r.audit_events is None:
            continue
        per_request = r.audit_events / r.requests if r.requests else 0.0
        print(
            f"{r.name:<30} {r.requests:>9} {r.audit_events:>8} {per_request:>6.2f} "
            f"{r.audit_bytes:>11}"
        )
        events, size = events + r.audit_events, size + (r.audit_bytes or 0)
    if events:
        print(f"audit trail growth: {size / events:.0f} bytes per event (table, indexes, TOAST)")


def minimal_queries(portal_client: Client) -> tuple[int, int]:
    """The minimal baseline's queries: its settings' middleware and URLs, the same session."""
    with override_settings(MIDDLEWARE=MINIMAL_MIDDLEWARE, ROOT_URLCONF="bench.minimal_urls"):
        client = Client()  # its handler loads the middleware at its first request
        client.cookies = portal_client.cookies
        return count_queries(client, "GET", "/bench/baseline/")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe(report, copies: int) -> str:
    if not copies:
        return f"{report.patients} patients, {report.documents} documents"
    return (
        f"{report.patients * (copies + 1)} patients, {report.documents * (copies + 1)} documents"
        f" ({report.patients} patients and {report.documents} documents seeded, then copied "
        f"{copies} times in SQL: bench/fill.py)"
    )


def ratio(value: float, base: float) -> float:
    return value / base if base else 0.0


def print_report(args, report, results: list[Result], growth_rows, aes_ms: float) -> None:
    baseline = next(r for r in results if r.name == "baseline (bare view)")
    minimal = next(r for r in results if r.name == MINIMAL)
    print()
    print(
        f"gunicorn sync -w {GUNICORN_WORKERS}, wrk -t2, {args.duration} s per path; "
        f"{describe(report, args.fill_copies)}; PostgreSQL durable commits"
    )
    print(
        f"{'path':<30} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs base':>8} {'queries':>7} {'errors':>6}"
    )
    for r in results:
        print(
            f"{r.name:<30} {r.connections:>5} {r.rps:>8.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
            f"{ratio(r.rps, baseline.rps):>8.2f} {r.queries if r.queries is not None else '':>7} "
            f"{r.errors:>6}"
        )
    verdict = "meets" if baseline.rps >= 0.7 * minimal.rps else "misses"
    print(
        f"portal bare view: {ratio(baseline.rps, minimal.rps):.0%} of the minimal one (session and "
        f"authentication middleware only; {verdict} the 70% target)"
    )
    download = next(r for r in results if r.name == "download 1 MiB")
    bare = next(r for r in results if r.name == "baseline 1 MiB (bare view)")
    # Server time per request: the workers are saturated, so workers / throughput.
    if not download.rps or not bare.rps:  # a machine too loaded for the duration chosen
        print("1 MiB download: no request completed in one of the two runs; no ratio")
        return finish_report(results, growth_rows)
    download_ms = GUNICORN_WORKERS * 1000 / download.rps
    floor_ms = GUNICORN_WORKERS * 1000 / bare.rps + aes_ms
    print(
        f"1 MiB download: {download_ms:.2f} ms of server time per request; raw AES-GCM "
        f"decryption {aes_ms:.2f} ms + sending 1 MiB through the bare view "
        f"{GUNICORN_WORKERS * 1000 / bare.rps:.2f} ms = {floor_ms:.2f} ms; ratio "
        f"{download_ms / floor_ms:.2f} (target <= 1.5)"
    )
    finish_report(results, growth_rows, baseline)


def finish_report(results: list[Result], growth_rows, baseline: Result | None = None) -> None:
    for name in ("record list", "document page (practitioner)"):
        if baseline is None or not baseline.rps:
            break
        r = next(x for x in results if x.name == name)
        verdict = "meets" if r.rps >= 0.5 * baseline.rps else "misses"
        print(f"{name}: {r.rps / baseline.rps:.0%} of the baseline ({verdict} the 50% target)")
    errors = sum(r.errors for r in results)
    print(f"errors over all runs: {errors}")
    if growth_rows:
        # Query counts: equal at 10 and 5,000 documents, asserted in tests/records/test_growth.py.
        print(f"\n{'growth (one client)':<20} {'documents':>9} {'median ms':>9}")
        for name, count, ms in growth_rows:
            print(f"{name:<20} {count:>9} {ms:>9.1f}")


if __name__ == "__main__":
    main()
