"""Synthetic records at scale, for load tests: patients, practitioners, consents, documents.

Everything is written the way the portal writes it, only in bulk: one data key per patient
(shared with their registry entry, as after a real enrolment), every encrypted column sealed by
the model field under that key (``bulk_create`` calls the fields' ``pre_save``), and each
document's file encrypted with ``save_encrypted`` under the same key, bound to the row. Nothing is
ever written in clear. Rows go in by batches of patients, one transaction per batch, so an
interrupted run leaves whole patients only; ``workers`` processes share the batches.

Never for production data: the management command refuses to run there unless forced.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import random
import secrets
import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db import connection, connections, transaction
from django.utils import timezone
from stdnum import luhn

from access_control.models import Consent
from accounts.models import PractitionerProfile, Profession, User, UserKind
from accounts.names import search_key
from dmp_portal.crypto.datakeys import build_data_key
from dmp_portal.crypto.files import save_encrypted
from dmp_portal.crypto.models import DataKey
from enrollment.models import Beneficiary
from enrollment.postal import build_address
from enrollment.services.registry import nir_index
from records.models import Category, Document, DocumentStatus, SearchToken
from records.search_tokens import tokens_of

# Plausible titles; none is a category label, so the "never in clear" test can look for them.
TITLES = (
    "Compte rendu d'hospitalisation en cardiologie",
    "Ordonnance de kinésithérapie",
    "Résultats du bilan sanguin annuel",
    "Radiographie thoracique de face",
    "Lettre de liaison du service des urgences",
    "Certificat de vaccination antitétanique",
    "Échographie abdominale",
    "Consultation de suivi diabétologique",
)
LAST_NAMES = ("Lefèvre", "Moreau", "Garnier", "Chevalier", "Rousseau", "Fontaine")
FIRST_NAMES = ("Maëlle", "Théo", "Inès", "Baptiste", "Louise", "Gaspard")
# Practitioners' names are public directory data, kept in clear: never one of the patients'.
PRACTITIONER_NAMES = (("Bernard", "Camille"), ("Petit", "Julien"), ("Robert", "Claire"))
CITIES = (("75011", "Paris"), ("69007", "Lyon"), ("13005", "Marseille"), ("31000", "Toulouse"))
# A minimal PDF: every document gets a small encrypted file unless files are switched off.
SMALL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
    b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SMALL_PDF_SHA256 = hashlib.sha256(SMALL_PDF).hexdigest()
PATIENTS_PER_BATCH = 250
PATIENTS_PER_PRACTITIONER = 100


@dataclass(frozen=True)
class SeedPlan:
    patients: int
    documents_per_patient: int
    files: bool = True  # one small encrypted file per document
    workers: int = 1
    seed: int = 0  # the random generator's seed: the same plan gives the same shapes
    patients_per_batch: int = PATIENTS_PER_BATCH  # one transaction each


@dataclass(frozen=True)
class SeedReport:
    patients: int
    practitioners: int
    documents: int
    seconds: float
    database_bytes: int
    run: str  # the usernames' prefix of this run: bulk-<run>-p0000001

    def summary(self) -> str:
        rate = self.documents / self.seconds if self.seconds else 0.0
        return (
            f"patients={self.patients} practitioners={self.practitioners} "
            f"documents={self.documents} seconds={self.seconds:.1f} documents_per_second="
            f"{rate:.0f} database_bytes={self.database_bytes} run={self.run}"
        )


def seed(plan: SeedPlan) -> SeedReport:
    """Create ``plan.patients`` patients with their documents; returns what was created."""
    started = time.perf_counter()
    run = secrets.token_hex(3)
    practitioner_ids = _create_practitioners(
        run, max(1, -(-plan.patients // PATIENTS_PER_PRACTITIONER))
    )
    batches = [
        (run, start, min(plan.patients_per_batch, plan.patients - start), practitioner_ids, plan)
        for start in range(0, plan.patients, plan.patients_per_batch)
    ]
    if plan.workers > 1 and len(batches) > 1:
        # Forked workers must not share the parent's database connection.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(plan.workers) as pool:
            documents = sum(pool.imap_unordered(_seed_batch_in_worker, batches))
    else:
        documents = sum(_seed_batch(*batch) for batch in batches)
    return SeedReport(
        patients=plan.patients,
        practitioners=len(practitioner_ids),
        documents=documents,
        seconds=time.perf_counter() - started,
        database_bytes=database_size(),
        run=run,
    )


def database_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])


def _next_rpps_partials(count: int) -> list[str]:
    """Ten-digit RPPS stems starting with 8, above any already taken (reruns never collide)."""
    highest = PractitionerProfile.objects.filter(rpps__startswith="8").order_by("-rpps").first()
    start = int(highest.rpps[:10]) + 1 if highest else 8_000_000_000
    return [str(start + index) for index in range(count)]


@transaction.atomic
def _create_practitioners(run: str, count: int) -> list:
    users = [
        User(
            username=f"bulk-{run}-m{index:05d}",
            kind=UserKind.PRACTITIONER,
            email=f"bulk-{run}-m{index:05d}@example.invalid",
            password=make_password(None),
        )
        for index in range(count)
    ]
    User.objects.bulk_create(users)
    profiles = [
        PractitionerProfile(
            user=user,
            rpps=partial + luhn.calc_check_digit(partial),
            last_name=PRACTITIONER_NAMES[index % len(PRACTITIONER_NAMES)][0],
            first_name=PRACTITIONER_NAMES[index % len(PRACTITIONER_NAMES)][1],
            profession=Profession.MEDECIN,
            specialty="Médecine générale",
            # bulk_create skips save(), which keeps the search key.
            search_key=search_key(*PRACTITIONER_NAMES[index % len(PRACTITIONER_NAMES)][:2]),
            first_name_search_key=search_key(
                *reversed(PRACTITIONER_NAMES[index % len(PRACTITIONER_NAMES)][:2])
            ),
        )
        for index, (user, partial) in enumerate(zip(users, _next_rpps_partials(count), strict=True))
    ]
    PractitionerProfile.objects.bulk_create(profiles)
    return [user.pk for user in users]


def _seed_batch_in_worker(batch) -> int:
    try:
        return _seed_batch(*batch)
    finally:
        connections.close_all()


def _nir(rng: random.Random) -> str:
    """A well-formed NIR (sex, year, month, department, commune, order, key) of an adult."""
    body = (
        f"{rng.choice('12')}{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}"
        f"{rng.choice([d for d in range(1, 96) if d != 20]):02d}{rng.randint(1, 990):03d}"
        f"{rng.randint(1, 999):03d}"
    )
    return f"{body}{97 - int(body) % 97:02d}"


def _seed_batch(run: str, start: int, count: int, practitioner_ids: list, plan: SeedPlan) -> int:
    # Shapes only (dates, categories, titles); keys and nonces come from the secrets module.
    rng = random.Random(f"{plan.seed}-{start}")  # noqa: S311
    categories = list(Category.objects.all())
    practitioners = {user.pk: user for user in User.objects.filter(pk__in=set(practitioner_ids))}
    now = timezone.now()
    with transaction.atomic():
        keys = [build_data_key("patient") for _ in range(count)]
        DataKey.objects.bulk_create(keys)  # primary keys come back: values carry them
        patients = [
            User(
                username=f"bulk-{run}-p{start + index:07d}",
                kind=UserKind.PATIENT,
                password=make_password(None),
                data_key=key,
            )
            for index, key in enumerate(keys)
        ]
        User.objects.bulk_create(patients)
        Beneficiary.objects.bulk_create(
            [_beneficiary(rng, patient) for patient in patients],
            ignore_conflicts=True,  # a rare random NIR already in the registry: skip it
        )
        consents = []
        documents = []
        for index, patient in enumerate(patients):
            practitioner = practitioners[practitioner_ids[(start + index) % len(practitioner_ids)]]
            consents.append(Consent(patient=patient, practitioner=practitioner, granted_at=now))
            for _ in range(plan.documents_per_patient):
                documents.append(_document(rng, patient, practitioner, categories, now))
        Consent.objects.bulk_create(consents)
        if plan.files:
            for document in documents:
                document.file_name, document.size = save_encrypted(
                    default_storage,
                    document.file_name,
                    io.BytesIO(SMALL_PDF),
                    document.data_key,
                    document.file_aad(),
                )
        Document.objects.bulk_create(documents, batch_size=2000)
        # Their titles' search tokens (records.search_tokens), as the upload service adds them.
        SearchToken.objects.bulk_create(tokens_of(documents), batch_size=5000)
    return len(documents)


def _beneficiary(rng: random.Random, patient: User) -> Beneficiary:
    nir = _nir(rng)
    last_name, first_name = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
    postcode, city = rng.choice(CITIES)
    born = date(1900 + int(nir[1:3]), int(nir[3:5]), rng.randint(1, 28))
    return Beneficiary(
        data_key=patient.data_key,
        nir_index=nir_index(nir),
        nir=nir,
        last_name=last_name,
        first_name=first_name,
        birth_date=born.isoformat(),
        regime="general",
        address=build_address(
            first_name=first_name,
            last_name=last_name,
            delivery_point="",
            building="",
            street=f"{rng.randint(1, 120)} rue des Écoles",
            locality="",
            postcode=postcode,
            city=city,
            country="",
        ).as_json(),
        patient=patient,
    )


def _document(rng: random.Random, patient: User, practitioner: User, categories, now) -> Document:
    by_patient = rng.random() < 0.3
    document = Document(
        patient=patient,
        data_key=patient.data_key,
        category=rng.choice(categories),
        title=f"{rng.choice(TITLES)} n°{rng.randint(1, 999)}",
        description=None if rng.random() < 0.7 else "Document de synthèse, voir pièce jointe.",
        act_date=now.date() - timedelta(days=rng.randint(0, 3650)),
        author=patient if by_patient else practitioner,
        status=DocumentStatus.CURRENT if rng.random() < 0.95 else DocumentStatus.ARCHIVED,
        hidden_from_practitioners=rng.random() < 0.05,
        display_name="compte-rendu.pdf",
        media_type="application/pdf",
        extension=".pdf",
        size=len(SMALL_PDF),
        sha256=SMALL_PDF_SHA256,
        created_at=now,
    )
    # The name upload_document gives; with files switched off no file is written under it.
    document.file_name = f"records/{document.uid}.bin"
    return document
