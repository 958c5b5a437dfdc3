"""The portal's own settings, plus the benchmark's baseline views (never in production URLs).

Only ``bench/load.py`` points gunicorn here (``DJANGO_SETTINGS_MODULE=bench.settings``).
"""

from dmp_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
