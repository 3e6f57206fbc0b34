"""RFQ tasks: each takes ids and calls one service; all are safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from rfq import services


@shared_task
def rfq_distribute_for_buyer_task(organization_id: int) -> int:
    return services.rfqs_distribute_for_verified_buyer(organization_id=organization_id)


def queue_distribution_for_verified_buyer(sender: Any, organization_id: int, **kwargs: Any) -> None:
    """Receiver of organization_verified: the buyer's waiting requests go out."""
    rfq_distribute_for_buyer_task.delay(organization_id)


@shared_task
def rfq_send_summary_task(rfq_id: int, carrier_id: int) -> bool:
    return services.rfq_send_summary(rfq_id=rfq_id, carrier_id=carrier_id)


@shared_task
def rfq_open_bids_task(rfq_id: int) -> bool:
    return services.rfq_open_bids(rfq_id=rfq_id)


@shared_task
def rfq_send_reminder_task(rfq_id: int) -> bool:
    return services.rfq_send_reminder(rfq_id=rfq_id)


@shared_task
def rfq_expire_task(rfq_id: int) -> bool:
    return services.rfq_expire(rfq_id=rfq_id)


@shared_task
def rfq_deadlines_tick() -> dict[str, int]:
    """Every minute: open bids that are due, send day-before reminders, expire undecided requests."""
    due = services.rfqs_due_for_opening()
    for rfq_id in due:
        rfq_open_bids_task.delay(rfq_id)
    reminders = services.rfqs_due_for_reminder()
    for rfq_id in reminders:
        rfq_send_reminder_task.delay(rfq_id)
    expiring = services.rfqs_due_for_expiry()
    for rfq_id in expiring:
        rfq_expire_task.delay(rfq_id)
    return {"opened": len(due), "reminded": len(reminders), "expired": len(expiring)}
