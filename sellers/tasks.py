"""Carrier tasks: each calls one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from sellers import services


@shared_task
def wizard_uploads_purge_task() -> int:
    """Delete registration-wizard uploads abandoned for more than a day."""
    return services.wizard_uploads_purge()
