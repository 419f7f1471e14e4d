"""Reads of the back office that more than one view needs."""

from .models import RetentionRun


def retention_run_latest() -> RetentionRun | None:
    """The last retention run that finished, for the dashboard."""
    return RetentionRun.objects.filter(finished_at__isnull=False).first()
