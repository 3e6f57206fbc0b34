"""Buyers tasks: each takes plain values and calls one service; all are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from buyers import services


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def group_invitation_email_task(self, *, invitation_id: int, code: str) -> bool:
    """E-mail a group invitation code to an address; the service sends it once however often this runs."""
    try:
        return services.group_invitation_email(invitation_id=invitation_id, code=code)
    except OSError as exc:  # the mail server is away; try again later
        raise self.retry(exc=exc) from exc


@shared_task
def group_invitations_expire_task() -> int:
    """Mark group invitations whose time ran out as expired; running it twice expires nothing twice."""
    return services.group_invitations_expire()
