"""The small world the benchmarks measure, built with the portal's own models and services.

The benchmarks never import the test suite (import-linter holds it): what they need is here,
written the way the portal writes it. Import this module after ``django.setup()``.
"""

from __future__ import annotations

import io
import itertools
import secrets
import time
from datetime import date, timedelta

from django.core import signing
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from stdnum.fr import nir as stdnum_nir

from accounts.devices import TOTPDevice
from accounts.http import KNOWN_BROWSER_COOKIE, KNOWN_BROWSER_SALT
from accounts.middleware import SESSION_SEEN, SESSION_STARTED
from accounts.models import User, UserKind
from accounts.services.authentication import account_marker
from accounts.services.keys import ensure_data_key
from audit.models import AuditChain, AuditEvent, patient_chain_key
from dmp_portal.crypto.files import save_encrypted
from enrollment.models import Beneficiary
from enrollment.services.registry import import_beneficiaries
from records.models import Category, Document
from records.services import upload_document

_serial = itertools.count(1)


# --- People and their second factor ----------------------------------------------------------


def new_patient() -> User:
    """A patient account with a data key (no password: the benchmarks log in by session)."""
    patient = User.objects.create_user(f"bench-{secrets.token_hex(6)}", kind=UserKind.PATIENT)
    ensure_data_key(patient)
    return patient


def add_totp(user: User) -> TOTPDevice:
    """A confirmed authenticator app for ``user``, as after the second-factor setup."""
    device = TOTPDevice.create_for(user)
    device.confirmed = True
    device.save()
    return device


def totp_token(device: TOTPDevice) -> str:
    """The code the authenticator app shows now."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, 0, device.digits, 0)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def verified_client(user: User) -> Client:
    """A test client left as the login page's second step leaves it (session login, verified
    device, start and last-seen times, the "known browser" cookie), without the two forms."""
    device = add_totp(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_STARTED] = session[SESSION_SEEN] = time.time()
    session.save()
    marker = account_marker(user.get_username().casefold())
    client.cookies[KNOWN_BROWSER_COOKIE] = signing.get_cookie_signer(
        salt=KNOWN_BROWSER_COOKIE + KNOWN_BROWSER_SALT
    ).sign(marker)
    return client


# --- Documents -------------------------------------------------------------------------------

_PAGE_CONTENT = b"BT /F1 12 Tf 72 720 Td (Compte rendu) Tj ET"


def build_pdf(objects: list[bytes]) -> bytes:
    """A one-page PDF (catalog, pages, content, page) followed by ``objects``, with computed
    offsets, so that it parses strictly (uploads are parsed: records/pdf_checks.py)."""
    content = b"<</Length %d>>stream\n%s\nendstream" % (len(_PAGE_CONTENT) + 1, _PAGE_CONTENT)
    bodies = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
        content,
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 3 0 R>>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def upload(patient: User, title: str, content: bytes | None = None) -> Document:
    """The patient's own upload, through the upload service (checks and encryption included)."""
    return upload_document(
        patient,
        patient,
        title=title,
        category=Category.objects.get(code="imagerie"),
        act_date=date(2026, 3, 12),
        upload=io.BytesIO(content if content is not None else build_pdf([])),
    )


def stored_document(patient: User, *, title: str, act_date: str, content: bytes) -> Document:
    """A document written straight to the record and its encrypted file, without the upload
    service's checks of the content (for synthetic files of a chosen size)."""
    ensure_data_key(patient)
    document = Document(
        patient=patient,
        data_key=patient.data_key,
        author=patient,
        title=title,
        category=Category.objects.get(code="imagerie"),
        act_date=act_date,
        media_type="application/pdf",
        extension=".pdf",
        size=len(content),
    )
    document.file_name, _size = save_encrypted(
        default_storage,
        f"records/{document.uid}.bin",
        io.BytesIO(content),
        document.data_key,
        document.file_aad(),
    )
    document.save()
    return document


def add_documents(patient: User, count: int) -> None:
    """Rows only, encrypted by the fields as usual, in one bulk insert (no files needed)."""
    categories = list(Category.objects.all())
    start = date(2020, 1, 1)
    Document.objects.bulk_create(
        [
            Document(
                patient=patient,
                data_key=patient.data_key,
                category=categories[index % len(categories)],
                title=f"Compte rendu {index}",
                act_date=start + timedelta(days=index % 2000),
                author=patient,
                media_type="application/pdf",
                extension=".pdf",
                size=100,
                file_name=f"records/growth-{index}.bin",
            )
            for index in range(count)
        ],
        batch_size=1000,
    )


def add_events(patient: User, documents: list[Document]) -> None:
    """One past "view" event per document: history rows that name documents (their MACs are
    not computed: the benchmark reads the history, it does not verify the trail)."""
    chain, _ = AuditChain.objects.get_or_create(key=patient_chain_key(patient.pk), patient=patient)
    first = chain.last_sequence + 1
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                chain=chain,
                sequence=first + index,
                occurred_at=now - timedelta(minutes=len(documents) - index),
                actor=patient,
                actor_role="patient",
                patient=patient,
                document_uid=document.uid,
                action="view",
                outcome="allowed",
                reason="own-record",
                previous_mac="0" * 64,
                mac="0" * 64,
            )
            for index, document in enumerate(documents)
        ]
    )
    AuditChain.objects.filter(pk=chain.pk).update(last_sequence=first + len(documents) - 1)


# --- The registry of insured people ----------------------------------------------------------


def _nir(born: date) -> str:
    """A valid NIR, a new one at each call (serial and commune vary)."""
    number = next(_serial)
    body = f"1{born:%y}{born:%m}78{number // 1000 % 900 + 1:03d}{number % 1000:03d}"
    return body + stdnum_nir.calc_check_digits(body)


def registry_people(count: int) -> list[Beneficiary]:
    """``count`` insured people, imported through the registry import service as a CSV would
    bring them (one data key each, everything encrypted)."""
    born = date(1985, 5, 14)
    nirs = [_nir(born) for _index in range(count)]
    report = import_beneficiaries(
        (
            line,
            {
                "nir": nir,
                "last_name": "Dupont",
                "first_name": "Léa",
                "birth_date": born.isoformat(),
                "delivery_point": "Appartement 12",
                "building": "Résidence Les Tilleuls",
                "street": "3 rue des Lilas",
                "locality": "",
                "postcode": "75015",
                "city": "Paris",
                "country": "",
                "regime": "general",
            },
        )
        for line, nir in enumerate(nirs, start=2)
    )
    if report.rejected:
        raise SystemExit(f"the registry refused bench rows: {report.rejected[:3]}")
    return list(Beneficiary.objects.order_by("-pk")[:count])
