"""gunicorn's entry to the tests' provider (DJANGO_SETTINGS_MODULE set by the fixture)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
