"""Core Celery tasks; each takes plain values and calls one service."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from marketplace import services


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def notification_deliver_task(
    self, *, recipient_id: int, key: str, kind: str, subject: str, body: str, url: str = "", email: bool = True
) -> int | None:
    """Deliver one notification; safe to run twice."""
    try:
        notification = services.notification_deliver(
            recipient_id=recipient_id, key=key, kind=kind, subject=subject, body=body, url=url, email=email
        )
    except OSError as exc:  # the mail server is away; try again later
        raise self.retry(exc=exc) from exc
    return notification.pk if notification else None


@shared_task
def heartbeat_task() -> str:
    """Record when a worker last ran a task."""
    stamp = timezone.now().isoformat()
    cache.set("celery-heartbeat", stamp, timeout=None)
    return stamp


@shared_task
def echo_task(token: str) -> str:
    """Store token in the shared cache; the broker round-trip test looks for it."""
    cache.set(f"echo:{token}", token, timeout=300)
    return token
