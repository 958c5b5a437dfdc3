"""The real path: a committed import queues a task on Redis; a separate worker process sends
the invitation e-mail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import ActivationLink
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_queues_the_invitation_for_the_worker(tmp_path, celery_worker):
    mail_dir = Path(os.environ["EMAIL_FILE_PATH"])
    before = set(mail_dir.glob("*")) if mail_dir.exists() else set()
    csv_path = tmp_path / "practitioners.csv"
    csv_path.write_text(
        "rpps,last_name,first_name,profession,specialty,email\n"
        "10000000033,Bernard,Luc,infirmier,,luc.bernard@example.fr\n",
        encoding="utf-8",
    )
    call_command("import_practitioners", str(csv_path))

    new_files = wait_for(lambda: set(mail_dir.glob("*")) - before if mail_dir.exists() else None)
    message = "".join(path.read_text() for path in new_files)
    assert "To: luc.bernard@example.fr" in message
    assert "/accounts/activate/" in message
    assert ActivationLink.objects.filter(user__username="10000000033").count() == 1
