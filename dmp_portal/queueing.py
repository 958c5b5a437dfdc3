"""Queue a Celery task by its dotted path, with ids only.

Services queue their background work through here rather than importing the task: a tasks
module imports its app's services, so a service importing its task made an import circle (hidden
until now behind function-local imports). The task is named by its dotted path, which is also
its Celery name, and resolved only when it is sent.

Only ids travel: an ``int`` primary key, a ``UUID`` or its canonical string, and a member of an
``Enum`` declared in code (a kind from a fixed list, such as a notification kind). Anything else
is refused with ``TypeError`` before anything is queued, so that no NIR, name, code, token or
blind index can reach the broker, its logs or a worker's traceback. A string of digits is
refused too: a NIR or an RPPS number is one; pass the ``int`` primary key instead.

The task object is resolved with ``import_string`` and sent with ``.apply_async`` (not
``send_task``, which needs no import but ignores ``task_always_eager``, which ``make run`` and
the unit tests rely on to run tasks in-process).

The module is not called ``tasks``: Celery's autodiscovery would take it for one.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import TypedDict

from django.db import transaction
from django.utils.module_loading import import_string

from dmp_portal import request_context

TaskArgument = int | str


class DurableTaskOptions(TypedDict):
    acks_late: bool
    reject_on_worker_lost: bool
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: bool
    retry_backoff_max: int
    max_retries: int


# The options of every task that does a record's work (not the beats'): a worker that dies
# mid-task leaves the message on the broker for another one (acks_late, reject_on_worker_lost),
# and a failure is retried with back-off for about an hour. Such tasks must be idempotent.
DURABLE_TASK: DurableTaskOptions = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 10,
}


def enqueue_on_commit(task_path: str, *ids: object) -> None:
    """Send the task once the current transaction commits; nothing is sent on a rollback.

    ``robust=True``: a broker outage at commit time is logged (without the arguments) and does
    not undo the committed work; each app's beat finds what was left behind and queues it again.
    """
    arguments = _checked(ids)

    def send_task_after_commit() -> None:
        # Named, not a lambda: Django logs a failing callback by its ``__qualname__``.
        _send(task_path, arguments)

    transaction.on_commit(send_task_after_commit, robust=True)


def enqueue(task_path: str, *ids: object) -> None:
    """Send the task now, outside any transaction's fate: for the beats that queue again the
    work a lost message left behind (a broker outage here fails the beat, which runs again)."""
    _send(task_path, _checked(ids))


def _send(task_path: str, arguments: tuple[TaskArgument, ...]) -> None:
    """The request id travels as a message header (never an argument), so that the task's log
    lines carry the id of the request that queued it (dmp_portal/request_context.py)."""
    import_string(task_path).apply_async(
        arguments, headers={request_context.TASK_HEADER: request_context.current()}
    )


def _checked(ids: tuple[object, ...]) -> tuple[TaskArgument, ...]:
    return tuple(_checked_id(value) for value in ids)


def _checked_id(value: object) -> TaskArgument:
    if isinstance(value, Enum):
        # A kind from a fixed list declared in code: it travels as its plain value, so that the
        # task receives the same thing in-process (eager) and in a worker (JSON).
        if isinstance(value.value, (int, str)) and not isinstance(value.value, bool):
            return value.value
    # bool is an int, but never a primary key.
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    elif isinstance(value, uuid.UUID):
        return str(value)
    elif isinstance(value, str) and _is_canonical_uuid(value):
        return value
    raise TypeError(
        "a task takes ids only (int, UUID, or a member of an Enum declared in code), "
        f"not this {type(value).__name__}"
    )


def _is_canonical_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
