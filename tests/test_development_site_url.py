"""Development links: `make run` writes the address it serves to var/site-url, and a command run
from another shell (no PORT, no DMP_SITE_URL there) e-mails links to that port."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.site_url import SITE_URL_FILE, development_site_url
from tests.production import ROOT, run_manage

HEADER = "rpps,last_name,first_name,profession,specialty,email\n"


def _development_environ(var_dir) -> dict[str, str]:
    """What a second shell of a newcomer has: no DMP_ variable, no PORT, no database URL."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DMP_", "DATABASE_URL", "CELERY_", "CACHE_URL", "EMAIL_", "PORT"))
    }
    environ.update(DMP_VAR_DIR=str(var_dir))  # manage.py's own default: DMP_ENV=development
    return environ


def test_make_run_writes_its_port_where_the_settings_read_it():
    recipe = subprocess.run(
        ["make", "-n", "run", "PORT=8080"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    written = next(line for line in recipe if SITE_URL_FILE in line)
    served = next(line for line in recipe if "runserver" in line)
    assert written == 'echo "http://127.0.0.1:8080" > "${DMP_VAR_DIR:-var}/site-url"'
    assert served.endswith("manage.py runserver 127.0.0.1:8080")
    assert "DMP_SITE_URL" not in served  # one address, the file's, for the server and commands
    assert recipe.index(written) < min(i for i, line in enumerate(recipe) if "manage.py" in line)


def test_a_command_in_another_shell_links_to_the_port_make_run_serves(tmp_path):
    # As `PORT=8080 make run` leaves it.
    (tmp_path / SITE_URL_FILE).write_text("http://127.0.0.1:8080\n", encoding="utf-8")
    environ = _development_environ(tmp_path)
    migrated = run_manage(environ, "migrate", "--noinput", "-v0", timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    csv = tmp_path / "practitioners.csv"
    csv.write_text(
        HEADER + "10000000009,Martin,Claire,medecin,,claire.martin@example.fr\n", encoding="utf-8"
    )

    result = run_manage(environ, "import_practitioners", str(csv))

    assert result.returncode == 0, result.stderr
    (mail,) = (tmp_path / "mail").iterdir()
    links = re.findall(r"https?://\S+/accounts/activate/\S+", mail.read_text(encoding="utf-8"))
    assert links and all(link.startswith("http://127.0.0.1:8080/") for link in links), links


def test_the_site_url_setting_follows_the_file_unless_given(tmp_path):
    script = "from django.conf import settings; print(settings.DMP_SITE_URL)"
    environ = _development_environ(tmp_path)
    before_any_run = run_manage(environ, "shell", "-c", script)
    (tmp_path / SITE_URL_FILE).write_text("http://127.0.0.1:8081/\n", encoding="utf-8")
    after_a_run = run_manage(environ, "shell", "-c", script)
    given = run_manage({**environ, "DMP_SITE_URL": "http://portal.test"}, "shell", "-c", script)
    assert before_any_run.stdout.split()[-1] == "http://127.0.0.1:8000"
    assert after_a_run.stdout.split()[-1] == "http://127.0.0.1:8081"
    assert given.stdout.split()[-1] == "http://portal.test"


def test_a_file_that_is_not_an_address_is_refused_with_a_way_out(tmp_path):
    assert development_site_url(tmp_path) is None
    (tmp_path / SITE_URL_FILE).write_text("8080\n", encoding="utf-8")
    with pytest.raises(ImproperlyConfigured, match="delete the file, `make run` writes it again"):
        development_site_url(tmp_path)
