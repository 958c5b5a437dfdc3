"""Prepare the tests' provider's database: its tables, the portal registered as a client, and
the provider's users. Run by the fixture in a process of its own, with the provider's settings:
``python -m tests.oidc_provider.seed '<json>'``, the JSON holding ``client_id``,
``client_secret``, ``redirect_uri`` and ``users`` ([username, password, acr, SubjectNameID])."""

import json
import os
import sys

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


def main(spec: dict) -> None:
    call_command("migrate", verbosity=0)
    Application.objects.create(
        name="Portail DMP",
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=spec["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    for username, password, acr, subject in spec["users"]:
        User.objects.create_user(username, password=password, first_name=acr, last_name=subject)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
