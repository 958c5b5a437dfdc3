#!/usr/bin/env python
"""Django's command-line utility. Without DMP_ENV it runs in development mode."""

import os
import sys

# Reads no setting when imported: DMP_ENV and DJANGO_SETTINGS_MODULE are set in main() in time.
from django.core.management import execute_from_command_line


def main() -> None:
    if "DMP_ENV" not in os.environ:
        # Development by default, but the settings refuse to combine this default with a
        # DATABASE_URL: a deployment must say DMP_ENV=production.
        os.environ["DMP_ENV"] = "development"
        os.environ["DMP_ENV_DEFAULTED"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
