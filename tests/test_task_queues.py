"""Every task has its queue and its time limits, by name; the beat's tasks too; e-mail times out.

The routes are checked through Celery's own router (what ``apply_async`` and the beat use), and
the limits on the task objects the worker runs, so that a typo in a task name fails here.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.mail import get_connection

from dmp_portal.celery import app
from dmp_portal.settings import queues
from tests.processes import ALL_QUEUES
from tests.production import production_environ, run_manage


def _portal_tasks() -> set[str]:
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    # Celery's own tasks, and tasks that tests declare for themselves, are not the portal's.
    return {name for name in app.tasks if not name.startswith(("celery.", "tests."))}


def _queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_task_of_the_portal_is_routed_and_limited_on_purpose():
    tasks = _portal_tasks()
    assert len(tasks) >= 20
    assert tasks - set(queues.TASKS) == set(), "a task without a queue: add it to queues.TASKS"
    assert set(queues.TASKS) - tasks == set(), "queues.TASKS names a task that does not exist"


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("letters.tasks.render_letter", "letters"),
        ("accounts.tasks.send_password_reset", "notifications"),
        ("enrollment.tasks.send_opening_email", "notifications"),
        ("access_control.tasks.send_patient_notification", "notifications"),
        ("audit.tasks.write_audit_checkpoint", "checkpoints"),
        ("enrollment.tasks.process_enrollment_request", "default"),
        ("letters.tasks.requeue_stalled_letters", "default"),
        ("dmp_portal.tasks.worker_heartbeat", "default"),
    ],
)
def test_the_router_sends_each_kind_to_its_queue(name, queue):
    assert _queue_of(name) == queue


def test_every_beat_task_is_routed():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in queues.TASKS, entry["task"]
        assert _queue_of(entry["task"]) in queues.QUEUES


def test_each_task_carries_its_soft_and_hard_time_limits():
    _portal_tasks()
    for name, (_queue, kind) in queues.TASKS.items():
        task = app.tasks[name]
        limits = queues.LIMITS[kind]
        assert (task.soft_time_limit, task.time_limit) == (
            limits["soft_time_limit"],
            limits["time_limit"],
        ), name
        assert 0 < task.soft_time_limit < task.time_limit, name
    assert app.tasks["letters.tasks.render_letter"].time_limit == 60
    assert app.tasks["audit.tasks.write_audit_checkpoint"].soft_time_limit == 15 * 60


def test_the_suites_worker_consumes_every_queue():
    assert set(ALL_QUEUES.split(",")) == {"default", "letters", "notifications", "checkpoints"}
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == set(queues.QUEUES)
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"


def test_e_mail_gives_up_after_ten_seconds_by_default():
    assert settings.EMAIL_TIMEOUT == 10
    assert get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == 10


def test_the_e_mail_timeout_comes_from_the_environment_in_production():
    script = (
        "from django.core.mail import get_connection; print('timeout', get_connection().timeout)"
    )
    result = run_manage(production_environ(EMAIL_TIMEOUT="4"), "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert "timeout 4" in result.stdout
    result = run_manage(production_environ(), "shell", "-c", script)
    assert "timeout 10" in result.stdout


@pytest.mark.parametrize("value", ["0", "-3", "dix"])
def test_a_bad_e_mail_timeout_refuses_to_start(value):
    result = run_manage(production_environ(EMAIL_TIMEOUT=value), "check")
    assert result.returncode != 0
    assert "EMAIL_TIMEOUT" in result.stderr
