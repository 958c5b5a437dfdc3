"""All settings, read from the environment (see ``env.py`` and README "Configuration").

``DMP_ENV`` selects the mode:
- ``development`` (the default of ``manage.py``, what ``make run`` gives): SQLite and files under
  ``var/``, tasks run in-process, e-mails written as files, generated development keys;
- ``test`` (set by ``scripts/testenv.py``): PostgreSQL and Redis started for the suite;
- ``production`` (the default everywhere else: gunicorn, Celery): refuses to start without real
  secrets, so that a server someone forgot to configure never runs with development keys.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from dmp_portal.crypto.hsm import parse_key_labels
from dmp_portal.crypto.keyring import (
    ensure_development_keys,
    parse_master_keys,
    validate_blind_index_key,
)
from dmp_portal.crypto.ledger import checked_ledger_path
from dmp_portal.crypto.signing import (
    ensure_development_signing_key,
    parse_signing_key,
    parse_verify_keys,
)
from dmp_portal.settings import queues
from dmp_portal.settings.env import Env
from dmp_portal.settings.fhir import *  # noqa: F403 - the FHIR API's limits
from dmp_portal.settings.geoip import place_database
from dmp_portal.settings.letter import *  # noqa: F403 - the postal letter's own details
from dmp_portal.settings.letter import LETTER_REQUIRED
from dmp_portal.settings.oauth import APPROVAL_MAX_DAYS_DEFAULT, approval_max_days, oauth2_provider
from dmp_portal.settings.oidc import *  # noqa: F403 - practitioners' OpenID Connect sign-in (issue 19)
from dmp_portal.settings.public_pages import *  # noqa: F403 - who runs the portal (public pages)
from dmp_portal.settings.public_pages import OPERATOR_REQUIRED
from dmp_portal.settings.site_url import development_site_url
from dmp_portal.settings.storage import default_storage_backend
from dmp_portal.settings.webauthn import relying_party

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("DMP_VAR_DIR", str(BASE_DIR / "var")))

DMP_ENV = env.choice("DMP_ENV", ("development", "test", "production"), "production")
DEVELOPMENT = DMP_ENV == "development"
TESTING = DMP_ENV == "test"
PRODUCTION = DMP_ENV == "production"

# What a person reads of the operator, on the public pages and in the postal letter: defaults
# that say they are examples outside production, required in production (each also as
# NAME_FILE). One tuple, for the check below and for whatever starts a production process.
DETAILS_REQUIRED = (*OPERATOR_REQUIRED, *LETTER_REQUIRED)

# --- Secrets and keys -------------------------------------------------------------------------
# Where the master keys live (README, Key providers): "local" (DMP_MASTER_KEYS, the default) or
# "pkcs11" (a hardware security module; DMP_MASTER_KEYS, if set, then only unwraps the data keys
# not yet rotated into it).
DMP_KEY_PROVIDER = env.str("DMP_KEY_PROVIDER", "local")
if DMP_KEY_PROVIDER not in ("local", "pkcs11"):
    raise ImproperlyConfigured("DMP_KEY_PROVIDER must be local or pkcs11.")
_PKCS11_REQUIRED = (
    ("DMP_PKCS11_MODULE", "DMP_PKCS11_TOKEN_LABEL", "DMP_PKCS11_PIN", "DMP_PKCS11_KEY_LABELS")
    if DMP_KEY_PROVIDER == "pkcs11"
    else ("DMP_MASTER_KEYS",)
)
DMP_PKCS11_MODULE = env.str("DMP_PKCS11_MODULE", "")
DMP_PKCS11_TOKEN_LABEL = env.str("DMP_PKCS11_TOKEN_LABEL", "")
DMP_PKCS11_PIN = env.str("DMP_PKCS11_PIN", "")
DMP_PKCS11_KEY_LABELS = env.str("DMP_PKCS11_KEY_LABELS", "")
if PRODUCTION:
    _missing = [
        name
        for name in (
            "SECRET_KEY",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            *_PKCS11_REQUIRED,
            "DMP_BLIND_INDEX_KEY",
            "ALLOWED_HOSTS",
            "DMP_SITE_URL",
            "DMP_SHRED_LEDGER_PATH",
            *DETAILS_REQUIRED,
        )
        if not env.str(name)
    ]
    if _missing:
        raise ImproperlyConfigured(
            "Production mode (DMP_ENV=production) refuses to start: missing "
            + ", ".join(_missing)
            + ". Set each variable, or NAME_FILE pointing to a file that holds it. "
            "See README, section Configuration."
        )
    SECRET_KEY = env.str("SECRET_KEY")
    DMP_MASTER_KEYS = env.str("DMP_MASTER_KEYS")
    DMP_BLIND_INDEX_KEY = env.str("DMP_BLIND_INDEX_KEY")
    # Only the process that writes the audit checkpoints (the Celery worker) needs it: the web
    # process, which faces the Internet and holds the database password, must not, or its
    # compromise would let someone rewrite the trail and sign it. Without it, writing a
    # checkpoint fails loudly; verifying needs only public keys (DMP_AUDIT_VERIFY_KEYS).
    DMP_AUDIT_SIGNING_KEY = env.str("DMP_AUDIT_SIGNING_KEY")
else:
    _dev_master, _dev_blind = (
        (None, None) if env.str("DMP_MASTER_KEYS") else ensure_development_keys(VAR_DIR / "keys")
    )
    SECRET_KEY = env.str("SECRET_KEY", "django-insecure-development-only-" + "x" * 20)
    DMP_MASTER_KEYS = env.str("DMP_MASTER_KEYS") or _dev_master
    DMP_BLIND_INDEX_KEY = env.str("DMP_BLIND_INDEX_KEY") or _dev_blind
    DMP_AUDIT_SIGNING_KEY = env.str("DMP_AUDIT_SIGNING_KEY") or ensure_development_signing_key(
        VAR_DIR / "keys"
    )
# Public keys of the audit checkpoints whose signatures verify (README, Signed checkpoints): the
# retired ones, and the current one wherever the signing key itself is absent. Public, so not a
# secret, but read like one so that it can come from a file too.
DMP_AUDIT_VERIFY_KEYS = env.str("DMP_AUDIT_VERIFY_KEYS", "")

# Malformed keys stop the process now, not at the first login.
if DMP_KEY_PROVIDER == "local" or DMP_MASTER_KEYS:
    parse_master_keys(DMP_MASTER_KEYS or "")
if DMP_KEY_PROVIDER == "pkcs11" or DMP_PKCS11_KEY_LABELS:  # labels kept: leaving an HSM
    parse_key_labels(DMP_PKCS11_KEY_LABELS)
validate_blind_index_key(DMP_BLIND_INDEX_KEY or "")
if DMP_AUDIT_SIGNING_KEY:  # absent from every production process but the worker
    parse_signing_key(DMP_AUDIT_SIGNING_KEY)
parse_verify_keys(DMP_AUDIT_VERIFY_KEYS)

SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS")
DEBUG = DEVELOPMENT and env.bool("DEBUG", True)
if PRODUCTION and env.bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG=true is refused in production mode.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
# In development, the address `make run` serves (var/site-url), so that a command run from
# another shell e-mails links to the right port; the test suite never reads a developer's file.
DMP_SITE_URL = (
    env.str("DMP_SITE_URL")
    or (development_site_url(VAR_DIR) if DEVELOPMENT else None)
    or "http://127.0.0.1:8000"
).rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")
# Production runs behind a TLS reverse proxy unless told otherwise; how many proxies of ours add
# X-Forwarded-For (0: use the socket address), or every client would look like the proxy.
BEHIND_TLS_PROXY = PRODUCTION and env.bool("BEHIND_TLS_PROXY", True)
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", 1 if BEHIND_TLS_PROXY else 0)

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "dmp_portal.crypto.apps.CryptoConfig",
    "accounts.apps.AccountsConfig",
    "enrollment.apps.EnrollmentConfig",
    "records.apps.RecordsConfig",
    "audit.apps.AuditConfig",
    "access_control.apps.AccessControlConfig",
    "letters.apps.LettersConfig",
    "public_pages.apps.PublicPagesConfig",
    "demo.apps.DemoConfig",
    "dmp_portal.apps.PortalConfig",
    "dmp_portal.apps.OTPAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    # Issue 19: the OAuth2 authorization server of practitioners' software, and its API.
    "accounts.oauth_apps.OAuth2ProviderConfig",
    "fhir_api.apps.FhirApiConfig",
]

if TESTING:
    # A model carrying every kind of encrypted field, for the encryption tests only.
    INSTALLED_APPS.append("tests.crypto_specimens.apps.CryptoSpecimensConfig")

MIDDLEWARE = [
    # First: every log line of the request, and every task it queues, carries its id.
    "dmp_portal.middleware.RequestIdMiddleware",
    # Second: times nearly the whole stack, by route name (dmp_request_seconds, /metrics).
    "dmp_portal.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Above whitenoise, so that static files carry the same headers as pages.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "dmp_portal.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Below authentication (it asks who is signed in), above everything that may answer early.
    "dmp_portal.middleware.NoStoreForSessionsMiddleware",
    # django-otp's OTPMiddleware, the session's device loaded with its user (one query).
    "accounts.middleware.VerifiedUserMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dmp_portal.middleware.DecryptionFailureMiddleware",
    # Development (DEBUG) only: the portal's 404 instead of Django's technical page.
    "dmp_portal.middleware.PortalNotFoundMiddleware",
]

ROOT_URLCONF = "dmp_portal.urls"
WSGI_APPLICATION = "dmp_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dmp_portal.context_processors.portal",
                "access_control.context_processors.emergency",
                "access_control.context_processors.person",
                "access_control.context_processors.acting",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
_database_url = env.str("DATABASE_URL")
if DEVELOPMENT and _database_url and env.bool("DMP_ENV_DEFAULTED", False):
    raise ImproperlyConfigured(
        "DATABASE_URL is set but DMP_ENV is not: say which mode this is (DMP_ENV=production for "
        "a deployment, DMP_ENV=development to develop against this database)."
    )
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(_database_url, conn_max_age=600, conn_health_checks=True)
    }
    # Behind a pooler in transaction mode (PgBouncer pool_mode=transaction; README, Deployment),
    # consecutive transactions may run on different server connections: a server-side cursor
    # declared outside a transaction (WITH HOLD, for .iterator()) would be fetched from on
    # another one. Nothing else needs changing: Django's client-side binding (psycopg 3) never
    # prepares statements, and the checkpoint lock is transaction-scoped.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_TRANSACTION_POOLING", False
    )
elif DEVELOPMENT:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # select_for_update() is a no-op on SQLite: taking the write lock at BEGIN makes
            # concurrent activations wait for each other instead of failing half-way.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
    # SQLite builds the audit checkpoint heads' index without its included column, which only
    # makes PostgreSQL's probes index-only: nothing to warn a developer about.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    raise ImproperlyConfigured(f"DATABASE_URL is required in {DMP_ENV} mode (PostgreSQL).")
if not DEVELOPMENT and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must point to PostgreSQL (postgres://...) in {DMP_ENV} mode."
    )
if TESTING:
    # The suite's flush between transactional tests truncates every table, the append-only
    # audit events included: their trigger lets a TRUNCATE through only in maintenance.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c dmp.audit_maintenance=on"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Caches (login throttling counters must be shared by every web process) -------------------
_cache_url = env.str("CACHE_URL") or (env.str("CELERY_BROKER_URL") if PRODUCTION else None)
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "dmp",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
# Development runs tasks in-process so that `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = DEVELOPMENT and not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A task whose worker died unacknowledged goes back to the queue after the visibility timeout;
# workers look for such tasks every interval x throttle seconds (kombu's Redis transport).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL_SECONDS", 10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
# Issue 18: a queue per kind of work, every task routed by name and given time limits
# (dmp_portal/settings/queues.py says why and how they are sized). A task not listed there
# would go to the default queue without limits: tests/test_task_queues.py refuses it.
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT
CELERY_TASK_QUEUES = tuple(Queue(name, routing_key=name) for name in queues.QUEUES)
CELERY_TASK_ROUTES = queues.task_routes()
CELERY_TASK_ANNOTATIONS = queues.task_annotations()

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
# Where each kind of account lands after login (and when it opens "/"), by URL name: the ground
# names the apps' pages only by string.
LANDING_URL_NAMES = {
    "patient": "access:patient-home",
    "practitioner": "access:pro-workspace",
    "staff": "access:staff-home",
}
LOGOUT_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if TESTING:
    # Same algorithm, cheaper parameters: the suite logs in hundreds of times.
    PASSWORD_HASHERS.insert(0, "accounts.hashers.TestArgon2PasswordHasher")

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accounts.password_validation.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.password_validation.FrenchCommonPasswordValidator"},
    {"NAME": "accounts.password_validation.PersonalDataValidator"},
]

# Sessions: 15 minutes idle, 12 hours at most (enforced by SessionTimeoutMiddleware).
# Django's database sessions, keyed by a keyed hash of the cookie's value and naming their
# account, so that a person can list and end their sessions (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_TIMEOUT_MINUTES", 15))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env.int("SESSION_ABSOLUTE_TIMEOUT_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
# The sessions page's approximate places (« Lyon, France »): a MaxMind DB of cities or countries,
# or "" to show the network only. Checked now: production refuses a file it cannot use
# (dmp_portal/settings/geoip.py).
DMP_GEOIP_PATH = place_database(env.str("DMP_GEOIP_PATH", ""), production=PRODUCTION)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A form sent with a stale token (often after the idle timeout): the portal's page, not Django's.
CSRF_FAILURE_VIEW = "dmp_portal.views.csrf_failure"

# Throttling of login attempts: a cool-off, never a permanent lock.
# Per account from one client (stops the guesser, not the owner elsewhere), per account from all
# clients (spread guessing; a browser that already logged in is exempt), per client.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ACCOUNT_ALL_CLIENTS = env.int("LOGIN_FAILURES_PER_ACCOUNT_ALL_CLIENTS", 50)
LOGIN_FAILURES_PER_CLIENT = env.int("LOGIN_FAILURES_PER_CLIENT", 20)
KNOWN_BROWSER_DAYS = env.int("KNOWN_BROWSER_DAYS", 90)
LOGIN_COOLOFF = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", 15))
ACTIVATION_LINK_VALIDITY = timedelta(hours=env.int("ACTIVATION_LINK_VALIDITY_HOURS", 72))
OTP_TOTP_ISSUER = "DMP"
BACKUP_CODE_COUNT = 10
# Passkeys (WebAuthn): the relying party's identifier (a domain) and the page origins accepted,
# from DMP_SITE_URL unless set (dmp_portal/settings/webauthn.py); the name authenticators show.
WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS = relying_party(
    DMP_SITE_URL, env.str("WEBAUTHN_RP_ID"), env.list("WEBAUTHN_ORIGINS")
)
WEBAUTHN_RP_NAME = env.line("WEBAUTHN_RP_NAME", "DMP")

# --- Enrolment by post -----------------------------------------------------------------------
ENROLLMENT_CODE_VALIDITY_DAYS = env.int("ENROLLMENT_CODE_VALIDITY_DAYS", 60)
ENROLLMENT_RESEND_DELAY_DAYS = env.int("ENROLLMENT_RESEND_DELAY_DAYS", 15)
ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR = env.int("ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR", 10)
ENROLLMENT_REQUESTS_PER_NIR_PER_DAY = env.int("ENROLLMENT_REQUESTS_PER_NIR_PER_DAY", 3)
ENROLLMENT_CODE_TRIES_PER_CLIENT = env.int("ENROLLMENT_CODE_TRIES_PER_CLIENT", 20)
ENROLLMENT_CODE_FREE_FAILURES = 5  # then a delay doubling from 1 minute
ENROLLMENT_CODE_MAX_FAILURES = 10  # then the code is burned
LETTER_DISPATCH_DEADLINE_DAYS = 10
# Which function writes each kind of letter (the letters app knows no other app).
LETTER_BUILDERS = {
    "creation_code": "enrollment.letters.build_creation_letter",
    "reactivation_code": "enrollment.letters.build_reactivation_letter",
    "opening_notice": "enrollment.letters.build_opening_notice",
    "reactivation_notice": "enrollment.letters.build_reactivation_notice",
    "representative_code": "enrollment.letters.build_representative_letter",
    # Issue 17: the young adult's code to take over their record at 18, and its notice.
    "majority_code": "enrollment.letters.build_majority_letter",
    "majority_notice": "enrollment.letters.build_majority_notice",
}
LETTER_RETURN_HANDLERS = {
    "creation_code": "enrollment.services.codes.letter_returned",
    "reactivation_code": "enrollment.services.codes.letter_returned",
    "representative_code": "enrollment.services.codes.letter_returned",
    "majority_code": "enrollment.services.codes.letter_returned",
}
# Whose audit chain records each letter's export (its recipient's), by kind.
LETTER_SUBJECTS = dict.fromkeys(LETTER_BUILDERS, "enrollment.services.registry.letter_subjects")
# Celery beat: tasks lost between a commit and the broker (logged by on_commit) are requeued.
CELERY_BEAT_SCHEDULE = {
    "requeue-stalled-enrollment-requests": {
        "task": "enrollment.tasks.requeue_stalled_requests",
        "schedule": 300.0,
    },
    "requeue-stalled-letters": {"task": "letters.tasks.requeue_stalled_letters", "schedule": 300.0},
    "requeue-access-requests": {
        "task": "access_control.tasks.requeue_access_requests",
        "schedule": 300.0,
    },
    # Signed checkpoints of the audit chain heads: how many minutes of events at most are not
    # yet covered by a signature (README, Signed checkpoints).
    "write-audit-checkpoint": {
        "task": "audit.tasks.write_audit_checkpoint",
        "schedule": 60.0 * env.int("AUDIT_CHECKPOINT_MINUTES", 10),
    },
    # Closed records whose archive period ended are purged once a day (purge_records).
    "purge-closed-records": {
        "task": "access_control.tasks.purge_closed_records",
        "schedule": 24 * 3600.0,
    },
    # Documents held back for an announcement whose delay is over: revealed, the patient told.
    "reveal-announced-documents": {
        "task": "records.tasks.reveal_due_documents",
        "schedule": 86400.0,
    },
    # Issue 17: on a child's 18th birthday (or the first run after it), their legal
    # representatives' access ends and the young adult's takeover letter is asked for.
    "end-representations-at-majority": {
        "task": "enrollment.tasks.queue_majorities",
        "schedule": 86400.0,
    },
    # Issue 18: a worker's heartbeat every minute, which /healthz/ready asks about.
    "worker-heartbeat": {"task": "dmp_portal.tasks.worker_heartbeat", "schedule": 60.0},
    # Issue 18: sessions past their expiry are deleted once a day (Django's clearsessions).
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": 86400.0,
    },
}

# /healthz/ready says "error" for the worker when no worker ran the heartbeat for this long.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 180)

# /metrics answers the Prometheus scraper that sends "Authorization: Bearer <this>"; empty (the
# default): /metrics is a 404 for everyone. A secret: METRICS_TOKEN_FILE works too.
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 32 characters long (e.g. `openssl rand -hex 32`)."
    )
# With PROMETHEUS_MULTIPROC_DIR (several processes), the directories of the other services on
# this host whose counts /metrics adds to this one's (the Celery worker's), comma-separated.
METRICS_EXTRA_MULTIPROC_DIRS = [
    path.strip() for path in env.str("METRICS_EXTRA_MULTIPROC_DIRS", "").split(",") if path.strip()
]

EMERGENCY_ACCESS_MINUTES = env.int("EMERGENCY_ACCESS_MINUTES", 60)
# A closed record is kept this many years after its closure, then purged (purge_records).
RECORD_ARCHIVE_YEARS = env.int("RECORD_ARCHIVE_YEARS", 10)
# Look-ups of patients by NIR, per practitioner: at most this many per window (then refused
# until the window ends), so that nobody walks the registry.
PRO_LOOKUPS_PER_WINDOW = env.int("PRO_LOOKUPS_PER_WINDOW", 30)
PRO_LOOKUP_WINDOW = timedelta(minutes=env.int("PRO_LOOKUP_WINDOW_MINUTES", 10))
# Access requests per practitioner in the same window (each adds to a patient's audit chain).
PRO_REQUESTS_PER_WINDOW = env.int("PRO_REQUESTS_PER_WINDOW", 10)

# --- Records ----------------------------------------------------------------------------------
RECORDS_MAX_UPLOAD_BYTES = env.int("RECORDS_MAX_UPLOAD_MB", 5) * 1024 * 1024
# A document its author holds back until an announcement consultation is revealed to the
# patient after this many days at most (records.tasks.reveal_due_documents, daily).
RECORDS_ANNOUNCEMENT_DAYS = env.int("RECORDS_ANNOUNCEMENT_DAYS", 30)
# The size limit is enforced while the body streams in, by the first handler, before the
# others keep a byte in memory or write one to a temporary file (records/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "records.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Django keeps smaller uploads in memory; larger ones go to a temporary file, not to memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Every field of every request but files: no form of the portal posts more than a few KB (its
# longest fields hold about a thousand characters); Django answers 400 to more.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# --- Security headers -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    # metrics: scraped over the internal network, straight from gunicorn (README, Metrics).
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 63072000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
# English dates day first, like the forms ask them (dmp_portal/formats/en).
FORMAT_MODULE_PATH = ["dmp_portal.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# The ledger of destroyed data keys (README, Encryption at rest): a file outside the database
# and its backups, replayed after every restore. Required in production (an absolute path, on
# storage backed up apart from the database); under var/ in development and tests.
DMP_SHRED_LEDGER_PATH = checked_ledger_path(
    env.str("DMP_SHRED_LEDGER_PATH", str(VAR_DIR / "shred-ledger" / "destroyed-keys.log")),
    production=PRODUCTION,
)

# The columns that name a stored file (README, Backup and restore): ``manage.py backup`` copies
# every file they name, read in the same snapshot as the database's dump, and nothing else. The
# ground package names the apps' models by string only; a new model storing files adds its
# column here (tests/test_backups.py checks that each names a field).
DMP_BACKUP_STORED_FILES = ("records.Document.file_name", "letters.Letter.pdf_name")

# --- Static, media and e-mail -----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Outside production whitenoise serves straight from the source folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    # The local disk unless DMP_STORAGE=s3 (README, Configuration; dmp_portal/settings/storage.py).
    "default": default_storage_backend(env),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "DMP <ne-pas-repondre@dmp.example>")
# Issue 18: every SMTP connect, read and write gives up after this many seconds, so that a
# relay that hangs fails the e-mail task (retried later) instead of holding a worker for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 10)
if EMAIL_TIMEOUT <= 0:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be a number of seconds above 0 (e.g. 10)")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = Path(env.str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))

# --- Logging: nothing sensitive, whatever a library decides to log ----------------------------
# One JSON object per line (README, Logs); LOG_FORMAT=plain gives readable lines to a developer.
LOG_FORMAT = env.choice("LOG_FORMAT", ("json", "plain"), "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "dmp_portal.logging.RedactSensitiveData"},
        "request_id": {"()": "dmp_portal.logging.RequestIdFilter"},
        "disallowed_host": {"()": "dmp_portal.logging.DisallowedHostAsWarning"},
    },
    "formatters": {
        "plain": {
            "()": "dmp_portal.logging.UtcFormatter",
            "format": "%(asctime)sZ %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "dmp_portal.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact", "request_id"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Never log SQL parameters: they carry ciphertext, blind indexes and hashes.
        # Replace Django's default handlers (they would print the same lines unfiltered).
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING", "propagate": True},
        # An unknown Host header: a warning without a traceback (it goes on to "django").
        "django.security.DisallowedHost": {"filters": ["disallowed_host"], "propagate": True},
        # gunicorn's access log carries paths such as /accounts/activate/<token>/: once Django
        # is loaded in the worker, its lines go through the same redacting handler.
        "dmp.security": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Issue 19: oauthlib and django-oauth-toolkit write authorization codes and redirect
        # addresses carrying them in their DEBUG lines: never below INFO, whatever LOG_LEVEL.
        "oauthlib": {"level": "INFO", "propagate": True},
        "oauth2_provider": {"level": "INFO", "propagate": True},
    },
}

# Issue 19: the OAuth2 authorization server of practitioners' software (README, « FHIR API »).
OAUTH2_PROVIDER = oauth2_provider(allow_http_redirects=not PRODUCTION)
OAUTH_APPROVAL_MAX_DAYS = approval_max_days(
    env.int("OAUTH_APPROVAL_MAX_DAYS", APPROVAL_MAX_DAYS_DEFAULT)
)
