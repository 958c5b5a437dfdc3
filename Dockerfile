# DMP portal image: gunicorn (web), Celery worker and Celery beat all run from it; the command
# differs (see docker-compose.yml). Build: docker build -t dmp-portal .
#
# The image holds no secret. It runs in production mode (DMP_ENV=production), which refuses to
# start until SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, DMP_MASTER_KEYS, DMP_BLIND_INDEX_KEY,
# ALLOWED_HOSTS, DMP_SITE_URL and the operator's details (README, Configuration) are given
# (each also as NAME_FILE, e.g. /run/secrets/...).
# For reproducible builds, pin the base image by digest: python:3.11-slim-bookworm@sha256:...

# --- Build stage: dependencies, compiled translations, collected static files -------------------
FROM python:3.11-slim-bookworm AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# gettext (msgfmt) is only needed by compilemessages, so it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# Every locked package has a wheel for this platform: no compiler needed. --require-hashes makes
# pip refuse anything whose hash is not in the lock (and any unpinned transitive dependency).
RUN python -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements/base.txt

WORKDIR /app
COPY . /app

# compilemessages and collectstatic import the settings, and production settings refuse to load
# without secrets. The values below are build-time placeholders that exist only for these two
# commands (they are not in the image's environment and unlock nothing): neither command opens
# the database or the broker. collectstatic must run in *production* mode, because only that
# mode uses whitenoise's CompressedManifestStaticFilesStorage, whose manifest production needs.
RUN mkdir -p /app/locale \
    && env DMP_ENV=production \
        SECRET_KEY=build-time-placeholder-not-a-secret \
        DATABASE_URL=postgres://build-placeholder/none \
        CELERY_BROKER_URL=redis://build-placeholder:6379/0 \
        DMP_MASTER_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
        DMP_BLIND_INDEX_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
        ALLOWED_HOSTS=build.invalid \
        DMP_SITE_URL=https://build.invalid \
        DMP_OPERATOR_NAME=build DMP_OPERATOR_ADDRESS=build DMP_OPERATOR_PHONE=build \
        DMP_OPERATOR_EMAIL=build DMP_DPO_CONTACT=build DMP_OPERATOR_REGISTRATION=build \
        DMP_PUBLICATION_DIRECTOR=build DMP_HOST_NAME=build DMP_HOST_ADDRESS=build DMP_HOST_PHONE=build \
        DMP_LETTER_PLACE=build DMP_LETTER_SIGNATORY=build DMP_LETTER_RETENTION=build \
        STATIC_ROOT=/app/staticfiles \
        DMP_VAR_DIR=/tmp/dmp-build-var \
        sh -c 'python manage.py compilemessages && python manage.py collectstatic --noinput' \
    && rm -rf /tmp/dmp-build-var \
    && python -m compileall -q /app

# --- Runtime stage --------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=dmp_portal.settings \
    DMP_ENV=production \
    DMP_VAR_DIR=/var/lib/dmp \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/var/lib/dmp/media

# Fixed numeric ids, so that volume ownership and secret-file permissions can be planned
# (see secrets/README.md) and orchestrators can verify runAsNonRoot.
RUN groupadd --gid 10001 dmp \
    && useradd --no-log-init --uid 10001 --gid dmp --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin dmp \
    && mkdir -p /var/lib/dmp/media /var/lib/dmp/beat \
    && chown -R dmp:dmp /var/lib/dmp \
    && chmod 0750 /var/lib/dmp/media /var/lib/dmp/beat

# Code and dependencies stay owned by root: the service user can read them, not change them.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app

USER 10001:10001

EXPOSE 8000

# Liveness: asks /healthz/live (the process answers; the proxy asks /healthz/ready) with a Host
# header the settings accept: the first entry of ALLOWED_HOSTS ("*" and ".example.org" forms
# included). The health paths are exempt from the HTTPS redirect. Any failure (refused,
# timeout, 503) raises, hence a non-zero exit.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import json, os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.').replace('*', 'localhost') or 'localhost'; r = u.urlopen(u.Request('http://127.0.0.1:8000/healthz/live', headers={'Host': h}), timeout=8); raise SystemExit(0 if json.load(r).get('status') == 'ok' else 1)"]

# Access log: method, path without query string (%(U)s), status, bytes, duration in ms. Never
# %(r)s, %(q)s, %({...}i)s: URLs and headers may carry tokens. The 2 sync workers were measured
# best on 2 cores. The heartbeat file goes to /dev/shm (tmpfs); the control socket is not needed.
# --timeout (gunicorn's default, said explicitly): the longest a slow client holds a sync worker.
CMD ["gunicorn", "dmp_portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "2", \
     "--worker-class", "sync", \
     "--timeout", "30", \
     "--worker-tmp-dir", "/dev/shm", \
     "--no-control-socket", \
     "--access-logfile", "-", \
     "--access-logformat", "%(t)s method=%(m)s path=\"%(U)s\" status=%(s)s bytes=%(B)s duration_ms=%(M)s"]
