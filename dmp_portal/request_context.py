"""The request id: one per web request, carried into the tasks it queues and their log lines.

Each web request gets a fresh random id (``RequestIdMiddleware``), never one taken from the
client: a header the client sets could carry anything (a NIR, a name) into every log line, or
pin many requests to one id to hide in the logs. A reverse proxy's own id can still be matched
by time and path; the portal's id goes back in the ``X-Request-ID`` response header, so support
can ask a person for it.

The id travels with a task as a Celery message header (``dmp_portal.queueing``), not as an
argument: task arguments are ids of rows only. A task queued by a beat (no request) takes its own
task id.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

# The message header and the response header that carry the id.
TASK_HEADER = "dmp_request_id"
RESPONSE_HEADER = "X-Request-ID"
# What an id looks like (32 hexadecimal digits, or a Celery task id): anything else received in
# a message header is dropped, so that a header never becomes a way into the log lines.
_ID_SHAPE = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_current: ContextVar[str] = ContextVar("dmp_request_id", default="")


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> str:
    """The id of the request (or task) being served, "" outside both (a command, a shell)."""
    return _current.get()


def bind(request_id: str) -> Token[str]:
    return _current.set(request_id if _ID_SHAPE.fullmatch(request_id) else "")


def unbind(token: Token[str]) -> None:
    _current.reset(token)


def from_task_headers(headers: object, task_id: str | None) -> str:
    """The id a task runs under: the one its sender carried, else its own task id."""
    carried = headers.get(TASK_HEADER) if isinstance(headers, dict) else None
    if isinstance(carried, str) and _ID_SHAPE.fullmatch(carried):
        return carried
    return task_id or ""
