"""Drill: PostgreSQL restarts (``pg_ctl restart -m fast``) while the portal, served by gunicorn,
answers several clients reading audited pages and uploading documents (issue 18, item 2).

Verified: every request in flight fails cleanly (the portal's own French 500 page, or a refused
connection, never a cut body nor Django's bare page); every request sent once the server is back
succeeds (``CONN_HEALTH_CHECKS`` replaces the connections the restart killed); each audited
answer has exactly its one event (each request carries its own address through X-Forwarded-For,
which the event records), no event is duplicated; every chain's sequences are gapless and
``verify_audit`` passes. testenv names the server's pg_ctl pieces (DMP_TEST_PG_*).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from audit.models import Action, AuditEvent
from records.models import Document
from tests.access_control.factories import enrolled_patient, grant, practitioner_with_login
from tests.drills.report import Drill, wait_until
from tests.drills.serving import Answer, gunicorn, request, session_of, upload_body
from tests.processes import services_missing
from tests.records.factories import PDF, add_document

# The client threads: the patient reads their record list (two threads) and a document's page,
# and uploads; a practitioner the patient gave access to reads that document's page. All
# write their audit events on the patient's chain, so they also contend for its head.
PAGES = ("list", "list", "document", "upload", "pro-document")
CLIENTS = len(PAGES)
BETWEEN = 4.0  # seconds of load before, between and after the outages
DOWN = 3.0  # seconds the server stays stopped in the second outage
RESTART = ("-m", "fast", "-w", "-t", "60", "restart")
# Each outage: pg_ctl steps (arguments) and pauses (seconds), and whether the clients keep
# sending through it. The last restarts the server while no request is in flight: then every
# worker's connection dies idle, and only the health check at the next request's first query
# (CONN_HEALTH_CHECKS) keeps that request from failing on it.
OUTAGES = (
    ("pg_ctl restart -m fast", [RESTART], True),
    (
        f"pg_ctl stop -m fast, {DOWN:.0f} s down, pg_ctl start",
        [("-m", "fast", "-w", "-t", "60", "stop"), DOWN, ("-w", "-t", "60", "start")],
        True,
    ),
    ("pg_ctl restart -m fast between two requests of every client", [RESTART], False),
)
AUDITED = {
    "list": Action.LIST,
    "document": Action.VIEW,
    "upload": Action.UPLOAD,
    "pro-document": Action.VIEW,
}


def pg_ctl(*arguments: str) -> list[str]:
    """pg_ctl on testenv's server, as the system user it runs as (root cannot run it)."""
    bindir, data = os.environ["DMP_TEST_PG_BINDIR"], os.environ["DMP_TEST_PG_DATA"]
    command = [str(Path(bindir) / "pg_ctl"), "-D", data, *arguments]
    user = os.environ.get("DMP_TEST_PG_OS_USER", "")
    if user:
        runuser = shutil.which("runuser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        command = [runuser or "runuser", "-u", user, "--", *command]
    return command


def run_pg_ctl(*arguments: str) -> None:
    log = os.environ["DMP_TEST_PG_LOG"]
    subprocess.run(
        pg_ctl("-l", log, *arguments),
        check=True,
        capture_output=True,
        cwd=Path(log).parent,  # a folder the server's user may enter
        timeout=90,
    )


class Load:
    """Client threads sending requests until told to stop; every answer kept with its address."""

    def __init__(
        self, port: int, cookies: str, token: str, document_uid: str, pro_cookies: str
    ) -> None:
        self.port, self.cookies, self.token = port, cookies, token
        self.pro_cookies = pro_cookies
        self.document_uid = document_uid
        self.answers: list[tuple[str, str, Answer]] = []  # (page, client address, answer)
        self.stop = threading.Event()
        self.go = threading.Event()  # cleared: the clients pause between two requests
        self.go.set()
        self.in_flight = 0
        self._addresses = (
            f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 255), repeat=3)
        )
        self._lock = threading.Lock()

    def address(self) -> str:
        with self._lock:
            return next(self._addresses)

    def send(self, page: str) -> None:
        address = self.address()
        headers = {"X-Forwarded-For": address}
        if page == "list":
            answer = request(self.port, "GET", "/records/", cookies=self.cookies, headers=headers)
        elif page in ("document", "pro-document"):
            path = f"/records/{self.document_uid}/"
            cookies = self.cookies if page == "document" else self.pro_cookies
            answer = request(self.port, "GET", path, cookies=cookies, headers=headers)
        else:
            body = upload_body(self.token, f"Bilan {address}", "bilan.pdf", PDF)
            headers["Referer"] = f"http://127.0.0.1:{self.port}/records/upload/"
            answer = request(
                self.port,
                "POST",
                "/records/upload/",
                cookies=self.cookies,
                body=body,
                headers=headers,
            )
        with self._lock:
            self.answers.append((page, address, answer))

    def run(self, page: str) -> None:
        while not self.stop.is_set():
            if not self.go.wait(timeout=0.5):
                continue
            with self._lock:
                self.in_flight += 1
            try:
                self.send(page)
            finally:
                with self._lock:
                    self.in_flight -= 1

    def pause(self) -> None:
        self.go.clear()
        wait_until(lambda: self.in_flight == 0, timeout=60, what="the requests in flight")


def ok(page: str, answer: Answer) -> bool:
    if page == "upload":  # a stored upload redirects to the document's page
        return answer.status == 302 and answer.location.startswith("/records/")
    return answer.status == 200 and answer.page.rstrip().endswith("</html>")


@pytest.mark.django_db(transaction=True)
def test_postgres_restarts_during_load(tmp_path, redis_broker):
    if not all(os.environ.get(f"DMP_TEST_PG_{name}") for name in ("BINDIR", "DATA", "LOG")):
        services_missing("no DMP_TEST_PG_BINDIR, _DATA, _LOG: run the drill through testenv")
    drill = Drill("postgres-restart")
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"], "stale connections kept"
    assert settings.DATABASES["default"]["CONN_MAX_AGE"], "the drill is about reused connections"
    patient, client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    assert grant(client, profile.rpps).status_code == 302
    pro_cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in pro.cookies.items())
    document = add_document(patient)
    cookies, token = session_of(client)
    events_before = AuditEvent.objects.count()

    with gunicorn(tmp_path, workers=2, TRUSTED_PROXY_HOPS="1") as server:
        load = Load(server.port, cookies, token, str(document.uid), pro_cookies)
        for page in ("list", "pro-document"):  # each worker holds a connection before the fault
            load.send(page)
        threads = [threading.Thread(target=load.run, args=(page,)) for page in PAGES]
        for thread in threads:
            thread.start()
        windows: list[tuple[float, float]] = []  # (fault began, server back)
        try:
            time.sleep(BETWEEN)
            for name, steps, under_load in OUTAGES:
                if not under_load:
                    load.pause()
                began = time.monotonic()
                for step in steps:
                    if isinstance(step, float):
                        time.sleep(step)
                    else:
                        run_pg_ctl(*step)
                windows.append((began, time.monotonic()))
                load.go.set()
                drill.injected(
                    f"{name}, {CLIENTS} clients (record list, document page, uploads, a "
                    "practitioner's document page) on "
                    f"gunicorn with 2 sync workers: back after {windows[-1][1] - began:.1f} s"
                )
                time.sleep(BETWEEN)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=60)
    connections.close_all()  # this process's connection died with the restart too

    answers = load.answers
    failed = [(page, address, a) for page, address, a in answers if not ok(page, a)]
    unclean = [
        (page, a.status, a.error, a.page[:300])
        for page, _address, a in failed
        if not (a.portal_500 or a.refused)
    ]
    assert not unclean, f"failures other than the portal's 500 page or a refusal: {unclean[:3]}"
    outside = [
        (page, a.status, a.error)
        for page, _address, a in failed
        if not any(a.ended >= began and a.started <= back for began, back in windows)
    ]
    assert not outside, f"requests failed outside the outages (sent once it was back?): {outside}"
    drill.verified(
        f"{len(answers)} requests: {len(answers) - len(failed)} answered, {len(failed)} failed "
        f"while PostgreSQL was down or restarting ({sum(a.portal_500 for _p, _ad, a in failed)} "
        f"with the portal's French 500 page, {sum(a.refused for _p, _ad, a in failed)} refused), "
        "none cut short"
    )
    # The drill tested something: under load, requests were in flight during each outage, and
    # requests were sent after every one (all of which succeeded, checked above).
    in_flight = [
        sum(1 for _p, _ad, a in answers if a.started <= back and a.ended >= began)
        for began, back in windows
    ]
    for (name, _steps, under_load), count in zip(OUTAGES, in_flight, strict=True):
        assert count or not under_load, f"no request was in flight during {name}"
    after = [sum(1 for _p, _ad, a in answers if a.started >= back) for _began, back in windows]
    assert all(after), f"an outage with no request after it: {after}"
    drill.verified(
        "every request sent once PostgreSQL was back succeeded (stale connections replaced): "
        + ", ".join(f"{count} after outage {index}" for index, count in enumerate(after, 1))
    )

    # Exactly one event for each audited answer; failed requests left at most one each.
    events = AuditEvent.objects.filter(pk__gt=0).order_by("pk")
    per_address = Counter(
        (action, str(address))
        for action, address in events.values_list("action", "client_address")
        if address and str(address).startswith("10.")
    )
    duplicated = [key for key, count in per_address.items() if count > 1]
    assert not duplicated, f"events recorded twice for one request: {duplicated[:5]}"
    missing = [
        (page, address)
        for page, address, a in answers
        if ok(page, a) and per_address[(AUDITED[page], address)] != 1
    ]
    assert not missing, f"answered requests without their event: {missing[:5]}"
    committed_of_failed = sum(per_address[(AUDITED[page], address)] for page, address, a in failed)
    # A document row for each upload whose event committed, and none other.
    uploads = Document.objects.filter(patient=patient).count() - 1
    assert uploads == per_address.total() - sum(
        count for (action, _address), count in per_address.items() if action != Action.UPLOAD
    )
    written = AuditEvent.objects.count() - events_before
    assert written == per_address.total()
    drill.verified(
        f"{sum(ok(p, a) for p, _ad, a in answers)} audited answers ("
        + ", ".join(
            f"{n} {page}" for page, n in Counter(p for p, _, a in answers if ok(p, a)).items()
        )
        + "), each with exactly one event "
        f"(matched by its request's address); {committed_of_failed} failed request(s) had "
        f"committed theirs before the connection died; {written} events in all, none twice; "
        f"{uploads} documents stored, one per recorded upload"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT chain_id FROM access_control_auditevent GROUP BY chain_id "
            "HAVING min(sequence) <> 1 OR max(sequence) <> count(*)"
        )
        assert cursor.fetchall() == [], "a chain with a gap in its sequences"
    output = StringIO()
    call_command("verify_audit", stdout=output)
    drill.verified(f"every chain gapless; verify_audit: {output.getvalue().strip()}")
    drill.done()
