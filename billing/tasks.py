"""Billing tasks run on the billing and pdf queues; each takes ids and calls one service."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from celery.utils.log import get_task_logger

logger = get_task_logger(__name__)


@shared_task
def contracts_sync_task() -> int:
    from billing.services import contracts_sync_from_awards

    return contracts_sync_from_awards()


def queue_contracts_for_awards(sender: Any, award_ids: list[int], **kwargs: Any) -> None:
    """Receiver of rfq's award_made: contracts follow every award."""
    contracts_sync_task.delay()


@shared_task(time_limit=3600, soft_time_limit=3500)
def usage_import_task(import_id: int) -> str:
    from billing.services import usage_import_run

    return usage_import_run(import_id=import_id).status


@shared_task(time_limit=3600, soft_time_limit=3500)
def bill_run_task(period: str, actor_id: int | None = None, finalize: bool = False) -> str:
    from billing.services import BillRunFailed, bill_run_execute, bill_run_finalize
    from marketplace.models import User
    from marketplace.services import DomainError

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    when = date.fromisoformat(period)
    try:
        summary = bill_run_execute(period=when, actor=actor, announce=not finalize)
        if finalize:
            bill_run_finalize(actor=actor, period=when)
    except BillRunFailed as exc:
        # Recorded on the run, which its page shows; nothing to retry until someone fixes the cause.
        logger.warning("Bill run %s failed: %s", period, exc)
        return "failed"
    except DomainError as exc:
        # Nothing to do: the month is already finalised (billed in advance, or by cron with --finalize).
        logger.info("Bill run %s not run: %s", period, exc)
        return "refused"
    return summary.fingerprint


@shared_task
def monthly_bill_run_task() -> str:
    """Beat, on the 1st: bill the month that just ended (drafts; a person finalises)."""
    from django.utils import timezone

    from billing.services import previous_month

    return bill_run_task(previous_month(timezone.now().date()).isoformat())


@shared_task
def invoice_render_pdf_task(invoice_id: int) -> str:
    from billing.pdf import invoice_publish

    return invoice_publish(invoice_id=invoice_id)


@shared_task
def settlement_render_pdf_task(settlement_id: int) -> str:
    from billing.pdf import settlement_statement_render

    return settlement_statement_render(settlement_id=settlement_id)


@shared_task
def meters_poll_task() -> int:
    from billing.meters import meters_poll_all

    return meters_poll_all()
