import os

from celery import Celery

# Without DMP_ENV the settings run in production mode: a worker must find real secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

app = Celery("dmp_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
