"""Demo billing: contracts for the demo awards, a month of usage, a finalised month with PDFs, a payment, and
Northwind Telecom's settlement paid out. Idempotent: once a month is finalised, running it again changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import services
from billing.models import BillRun, Contract, Invoice, Payment, RateLine, RateTier, Settlement
from marketplace.models import Organization, User

NORTHWIND = "Northwind Telecom"
PAYMENT_REFERENCE = "DEMO-BANK-0001"
PAYOUT_REFERENCE = "DEMO-PAYOUT-0001"


def _prepare_contract(contract: Contract, period: date) -> RateLine | None:
    """Start the demo contract at the billed month; meter its first line in GB with a tier if the bid set no usage."""
    if contract.start_date > period:
        # The demo award starts in the future; the demo bills a past month, so the service began then.
        length = contract.end_date - contract.start_date
        contract.start_date, contract.end_date = period, period + length
        contract.save(update_fields=["start_date", "end_date"])
    line = contract.rate_lines.order_by("id").first()
    if line is None:
        return None
    if not line.usage_unit:
        line.usage_unit, line.usage_rate = "GB", Decimal("0.020000")
        line.save(update_fields=["usage_unit", "usage_rate"])
        RateTier.objects.get_or_create(rate_line=line, threshold=Decimal("2000"), defaults={"rate": Decimal("0.015")})
    return line


def _usage_file(contract: Contract, line: RateLine, period: date) -> bytes:
    """A day of traffic per row for the month, with quality-of-service columns."""
    _, end = services.month_bounds(period)
    out = io.StringIO()
    writer = csv.writer(out)
    # A reseller's contract is for one end customer: its records name that customer, as a reseller's carrier would.
    customer = contract.end_customer.reference if contract.end_customer else ""
    writer.writerow(
        [
            "record_id",
            "request",
            "interval_start",
            "interval_end",
            "quantity",
            "unit",
            "latency_ms",
            "jitter_ms",
            "packet_loss_pct",
            "equipment_id",
            "end_customer",
        ]
    )
    day = period
    while day < end:
        writer.writerow(
            [
                f"demo-{contract.number}-{day:%Y%m%d}",
                contract.number,
                f"{day:%Y-%m-%d}T00:00:00Z",
                f"{day + timedelta(days=1):%Y-%m-%d}T00:00:00Z",
                f"{70 + (day.day * 37) % 60}.5",
                line.usage_unit,
                f"{4 + day.day % 5}.2",
                f"{day.day % 3}.4",
                f"0.0{day.day % 4}",
                "NTU-LONDON-1",
                customer,
            ]
        )
        day += timedelta(days=1)
    return out.getvalue().encode()


@transaction.atomic
def seed() -> list[str]:
    """Bill the demo awards for last month; return what is there."""
    from billing.pdf import invoice_publish, settlement_statement_render

    services.contracts_sync_from_awards()
    northwind = Organization.objects.filter(name=NORTHWIND, kind=Organization.Kind.CARRIER).first()
    moderator = User.objects.filter(is_staff=True, is_active=True).order_by("id").first()
    contracts = list(Contract.objects.filter(carrier=northwind).order_by("id")) if northwind else []
    if moderator is None or not contracts:
        return ["Billing: no demo awards to bill yet."]
    done = BillRun.objects.filter(status=BillRun.Status.FINALIZED).order_by("period").first()
    if done is None:
        period = services.previous_month(timezone.now().date())
        seller = User.objects.filter(membership__organization=northwind).order_by("id").first()
        for contract in contracts:
            line = _prepare_contract(contract, period)
            if line is None:
                continue
            outcome = services.usage_import_create(
                actor=seller,
                carrier=contract.carrier,
                source="carrier",
                filename=f"northwind-{period:%Y-%m}.csv",
                data=_usage_file(contract, line, period),
            )
            if not outcome.already_imported:
                services.usage_import_run(import_id=outcome.usage_import.pk)
        services.bill_run_execute(period=period, actor=moderator)
        services.bill_run_finalize(actor=moderator, period=period)
        done = BillRun.objects.get(period=period)
    period = done.period
    # The PDF tasks run inline here, whatever the broker: the demo shows them at once.
    for invoice_id in Invoice.objects.filter(period=period).values_list("pk", flat=True):
        invoice_publish(invoice_id=invoice_id)
    for settlement_id in Settlement.objects.filter(period=period).values_list("pk", flat=True):
        settlement_statement_render(settlement_id=settlement_id)
    invoice = Invoice.objects.filter(period=period, carrier__isnull=True).order_by("number").first() or (
        Invoice.objects.filter(period=period).order_by("number").first()
    )
    if invoice is not None and not Payment.objects.filter(reference=PAYMENT_REFERENCE).exists():
        services.payment_record(
            actor=moderator,
            buyer=invoice.buyer,
            amount=invoice.total,
            currency=invoice.currency,
            received_on=(invoice.issue_date or timezone.now().date()),
            reference=PAYMENT_REFERENCE,
            invoice=invoice,
        )
    settlement = Settlement.objects.filter(period=period, carrier=northwind).first()
    if settlement is not None and settlement.status == Settlement.Status.DUE:
        settlement = services.settlement_mark_paid(actor=moderator, settlement=settlement, reference=PAYOUT_REFERENCE)
    return [
        f"Billing: {Contract.objects.count()} contract(s); {period:%B %Y} finalised with "
        f"{Invoice.objects.filter(period=period).count()} invoice(s); payment {PAYMENT_REFERENCE}; "
        f"Northwind settlement {'paid' if settlement and settlement.status == 'paid' else 'due'}."
    ]
