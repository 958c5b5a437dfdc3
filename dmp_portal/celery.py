import os

from celery import Celery, Task

from dmp_portal import request_context

# Without DMP_ENV the settings run in production mode: a worker must find real secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dmp_portal.settings")


class RequestIdTask(Task):
    """Every task runs under the request id its sender carried (or its own task id), so that
    its log lines join those of the request that queued it (dmp_portal/request_context.py)."""

    def __call__(self, *args, **kwargs):
        token = request_context.bind(
            request_context.from_task_headers(self.request.headers, self.request.id)
        )
        try:
            return super().__call__(*args, **kwargs)
        finally:
            request_context.unbind(token)


app = Celery("dmp_portal", task_cls=RequestIdTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
