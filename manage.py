#!/usr/bin/env python
"""Django's command-line utility. Without DMP_ENV it runs in development mode."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DMP_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
