"""The audit trail's beat task: signed checkpoints. No argument, no data."""

from celery import shared_task

from audit.checkpoints import write_checkpoint


@shared_task(ignore_result=True)
def write_audit_checkpoint() -> int | None:
    """Beat, every AUDIT_CHECKPOINT_MINUTES: sign the audit chain heads (no argument, no data)."""
    checkpoint = write_checkpoint()
    return None if checkpoint is None else checkpoint.number
