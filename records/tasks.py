"""The records' background work: the daily reveal of documents held for an announcement."""

from celery import shared_task

from records import versions


@shared_task
def reveal_due_documents() -> int:
    """Beat, daily: reveal the documents whose announcement delay is over, then tell their
    patients (records.versions.reveal_due_documents). Safe to run twice: a revealed document
    is no longer due."""
    return versions.reveal_due_documents()
