"""The second baseline: the portal's settings with only the session and authentication
middleware, and the bare views of ``bench.minimal_urls`` (never in production).

Same database, same session engine, cookie names and secret key as ``bench.settings``: a user
logged in on the portal's gunicorn sends the same session cookie here, and the session and the
user are loaded as on the portal. The gap between the two bare views is the portal's own
middleware (README, « Load benchmark »). Only ``bench/load.py`` points a gunicorn here.
"""

from dmp_portal.settings import *  # noqa: F403

MINIMAL_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
MIDDLEWARE = MINIMAL_MIDDLEWARE
ROOT_URLCONF = "bench.minimal_urls"
# The portal's URL names are not loaded here: a signed-out request goes to the portal's login.
LOGIN_URL = "/accounts/login/"
