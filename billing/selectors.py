"""Reads for billing: access per actor, and what invoices and statements show."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, Max, Min, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from billing import locks
from billing.models import Contract, Invoice, InvoiceLine, Meter, RateLine, Settlement, UsageImport, UsageRecord
from billing.money import round_money
from marketplace.models import Organization, User
from marketplace.selectors import membership_for_user


def is_billing_staff(user: User) -> bool:
    """Moderators and billing agents run bills and see billing data."""
    if getattr(user, "is_moderator", False):
        return True
    membership = membership_for_user(user)
    return membership is not None and membership.organization.kind == Organization.Kind.BUREAU


@dataclass(frozen=True)
class RequestHead:
    """The heading of an invoice's lines for one request: its reference and the buyer's PO number for it."""

    reference: str
    po_number: str


DELIVERY_LABELS = {"email": "E-mail with PDF", "portal": "Portal only", "post": "Paper by post"}


def invoice_delivery(invoice: Invoice) -> set[str]:
    """How the buyer asked to receive this invoice, from its contracts: any of e-mail, portal, post."""
    return set(
        Contract.objects.filter(pk__in=invoice.lines.values("contract_id")).values_list("invoice_delivery", flat=True)
    )


def contract_usage_period(contract: Contract) -> date:
    """The month a contract's usage page opens on: its latest billed month, else last month."""
    latest = (
        InvoiceLine.objects.filter(contract=contract)
        .order_by("-invoice__period")
        .values_list("invoice__period")
        .first()
    )
    if latest is not None:
        return latest[0]
    from billing.services import previous_month

    return previous_month(timezone.now().date())


def contract_usage(contract: Contract, period: date) -> list[dict[str, Any]]:
    """Usage billed in one month per rate line, source and measuring equipment, with its quality of service, in
    one GROUP BY."""
    grouped = (
        UsageRecord.objects.filter(contract_id=contract.pk, bill_period=period)
        .values("rate_line_id", "source", "equipment_id", "unit")
        .annotate(
            records=Count("*"),
            quantity=Sum("quantity"),
            volume_bytes=Sum("volume_bytes"),
            latency_ms=Avg("latency_ms"),
            jitter_ms=Avg("jitter_ms"),
            packet_loss_pct=Avg("packet_loss_pct"),
            asr_pct=Avg("asr_pct"),
            min_bandwidth_mbps=Min("min_bandwidth_mbps"),
            max_bandwidth_mbps=Max("max_bandwidth_mbps"),
            adjustments=Count("record_id", filter=Q(is_adjustment=True)),
        )
        .order_by("rate_line_id", "source", "equipment_id", "unit")
    )
    rows: list[dict[str, Any]] = [dict(row) for row in grouped]
    lines = dict(RateLine.objects.filter(contract=contract).values_list("pk", "description"))
    sources = dict(UsageImport.Source.choices)
    for row in rows:
        row["description"] = lines.get(row["rate_line_id"], "")
        row["source_label"] = sources.get(row["source"], row["source"])
    return rows


def contract_meters(contract: Contract) -> list[Meter]:
    """The measuring equipment polled for the contract's lines, with how the last poll went."""
    return list(Meter.objects.filter(rate_line__contract=contract).select_related("rate_line").order_by("pk"))


def invoices_to_post(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Issued invoices with a contract that asked for paper, whose copy has not gone in the post yet."""
    by_post = InvoiceLine.objects.filter(contract__invoice_delivery="post").values("invoice_id")
    return invoices.exclude(status=Invoice.Status.DRAFT).filter(posted_at__isnull=True, pk__in=by_post)


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """What an invoice shows: the parties, lines grouped by request and site, usage summary, totals."""
    lines = list(
        invoice.lines.select_related("contract__rfq", "rate_line__site", "rate_line__service_type", "carrier").order_by(
            "position"
        )
    )
    groups: dict[RequestHead, list[InvoiceLine]] = {}
    for line in lines:
        contract = line.contract
        head = RequestHead(contract.rfq.reference if contract.rfq else contract.number, contract.po_number)
        groups.setdefault(head, []).append(line)
    usage = [line for line in lines if line.kind in ("usage", "adjustment")]
    delivery = {line.contract.invoice_delivery for line in lines}
    po_numbers = sorted({head.po_number for head in groups if head.po_number})
    return {
        "invoice": invoice,
        "buyer": invoice.buyer,
        "groups": groups,
        "usage": usage,
        "commission": sum((line.commission for line in lines), Decimal(0)),
        # One PO for the whole invoice goes in its header; several are shown per request.
        "po_number": po_numbers[0] if len(po_numbers) == 1 else "",
        "delivery": [DELIVERY_LABELS.get(d, d) for d in sorted(delivery)],
        "by_post": "post" in delivery,
    }


def settlement_context(settlement: Settlement) -> dict[str, Any]:
    """A settlement's lines, and the notes that adjusted it with the carrier's share of each."""
    from billing.models import SettlementAdjustment

    adjustments = (
        SettlementAdjustment.objects.filter(settlement=settlement)
        .select_related("note__invoice")
        .order_by("note__created_at", "note_id")
    )
    lines = (
        InvoiceLine.objects.filter(
            carrier=settlement.carrier, invoice__period=settlement.period, invoice__currency=settlement.currency
        )
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .select_related("invoice", "contract")
        .order_by("invoice__number", "position")
    )
    return {
        "settlement": settlement,
        "carrier": settlement.carrier,
        "lines": lines,
        "adjustments": list(adjustments),
        "lines_net": settlement.gross - settlement.commission,
        "notes_net": settlement.adjustments - settlement.adjustment_commission,
    }


def contracts_for_user(user: User) -> QuerySet[Contract]:
    """Buyers see their contracts, carriers theirs, billing staff all."""
    base = Contract.objects.select_related("buyer", "carrier", "rfq")
    if is_billing_staff(user):
        return base
    membership = membership_for_user(user)
    if membership is None:
        raise Http404("No such page.")
    org = membership.organization
    if org.kind == Organization.Kind.BUYER:
        return base.filter(buyer=org)
    if org.kind == Organization.Kind.CARRIER:
        return base.filter(carrier=org)
    raise Http404("No such page.")


LEDGER_FIGURES = (
    "billed",
    "commission_billed",
    "invoiced",
    "paid_on_invoices",
    "received",
    "paid_out",
    "owed_to_carriers",
    "settled_gross",
    "settled_commission",
    "settled_adjustments",
    "settled_adjustment_commission",
    "credit_notes",
    "debit_notes",
    "note_shares",
    "note_commission",
    "waiting_shares",
    "waiting_commission",
    "payments",
    "unallocated",
)


def ledger() -> dict[str, dict[str, Decimal]]:
    """Figures per currency, each read from its own table so that the ledger's checks can fail; never adds
    currencies together. Seven grouped queries, whatever the number of currencies.

    billed and commission_billed come from issued lines, invoiced and paid_on_invoices from the invoices, received
    from allocations, the settlement figures from settlements, note_shares from the notes' carrier adjustments
    (waiting_* those no settlement has taken yet), payments and unallocated from payments.
    """
    from billing.models import Note, Payment, PaymentAllocation, SettlementAdjustment

    books: dict[str, dict[str, Decimal]] = {}

    def book(currency: str) -> dict[str, Decimal]:
        return books.setdefault(currency, dict.fromkeys(LEDGER_FIGURES, Decimal(0)))

    def put(currency: str, **figures: Any) -> None:
        target = book(currency)
        for key, value in figures.items():
            target[key] = value or Decimal(0)

    issued = ~Q(invoice__status=Invoice.Status.DRAFT)
    for line in (
        InvoiceLine.objects.filter(issued)
        .values("invoice__currency")
        .annotate(gross=Sum("amount"), commission=Sum("commission"))
        .order_by()
    ):
        put(line["invoice__currency"], billed=line["gross"], commission_billed=line["commission"])
    for invoice in (
        Invoice.objects.exclude(status=Invoice.Status.DRAFT)
        .values("currency")
        .annotate(total=Sum("total"), paid=Sum("amount_paid"))
        .order_by()
    ):
        put(invoice["currency"], invoiced=invoice["total"], paid_on_invoices=invoice["paid"])
    for alloc in PaymentAllocation.objects.values("invoice__currency").annotate(total=Sum("amount")).order_by():
        put(alloc["invoice__currency"], received=alloc["total"])
    for settled in (
        Settlement.objects.values("currency")
        .annotate(
            paid=Sum("net", filter=Q(status=Settlement.Status.PAID)),
            owed=Sum("net", filter=Q(status=Settlement.Status.DUE)),
            gross=Sum("gross"),
            commission=Sum("commission"),
            adjustments=Sum("adjustments"),
            adjustment_commission=Sum("adjustment_commission"),
        )
        .order_by()
    ):
        put(
            settled["currency"],
            paid_out=settled["paid"],
            owed_to_carriers=settled["owed"],
            settled_gross=settled["gross"],
            settled_commission=settled["commission"],
            settled_adjustments=settled["adjustments"],
            settled_adjustment_commission=settled["adjustment_commission"],
        )
    for note in (
        Note.objects.values("invoice__currency")
        .annotate(
            credit=Sum("amount", filter=Q(kind=Note.Kind.CREDIT)), debit=Sum("amount", filter=Q(kind=Note.Kind.DEBIT))
        )
        .order_by()
    ):
        put(note["invoice__currency"], credit_notes=note["credit"], debit_notes=note["debit"])
    waiting = Q(settlement__isnull=True)
    for share in (
        SettlementAdjustment.objects.values("currency")
        .annotate(
            all_shares=Sum("amount"),
            all_commission=Sum("commission"),
            waiting_shares=Sum("amount", filter=waiting),
            waiting_commission=Sum("commission", filter=waiting),
        )
        .order_by()
    ):
        put(
            share["currency"],
            note_shares=share["all_shares"],
            note_commission=share["all_commission"],
            waiting_shares=share["waiting_shares"],
            waiting_commission=share["waiting_commission"],
        )
    for pay in Payment.objects.values("currency").annotate(total=Sum("amount"), left=Sum("unallocated")).order_by():
        put(pay["currency"], payments=pay["total"], unallocated=pay["left"])
    return dict(sorted(books.items()))


# A queued run that has not started after this long, or (without PostgreSQL's lock to ask) a run whose progress
# has not moved for this long, is shown as stopped.
RUN_PATIENCE = 15 * 60


def period_totals(period: date) -> tuple[int, dict[str, Decimal]]:
    """How many invoices a period has, and their total per currency."""
    rows = list(
        Invoice.objects.filter(period=period)
        .values("currency")
        .annotate(n=Count("id"), total=Sum("total"))
        .order_by("currency")
    )
    return sum(row["n"] for row in rows), {row["currency"]: row["total"] for row in rows}


def bill_run_progress(period: date) -> dict[str, Any]:
    """A period's run as its page shows it: progress, whether it is really under way, and why not.

    On PostgreSQL a run holds an advisory lock for its whole transaction, so a run whose worker died is seen
    at once: its progress still says "rating" but nobody holds the lock (and nothing of it was committed).
    """
    from billing.services import progress_key

    progress = cache.get(progress_key(period)) or {}
    phase = progress.get("phase")
    now = time.time()
    stale = ""
    if phase == "queued" and progress.get("queued_at", 0) < now - RUN_PATIENCE:
        stale = "queued"
    elif phase in ("rating", "writing invoices") and not _run_is_alive(period, progress, now):
        stale = "stopped"
    running = phase in ("queued", "rating", "writing invoices") and not stale
    return {"progress": progress, "in_progress": running, "stale": stale}


def _run_is_alive(period: date, progress: dict[str, Any], now: float) -> bool:
    if connection.vendor != "postgresql":
        return bool(progress.get("at", now) >= now - RUN_PATIENCE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            # Exclusive: imports hold the period shared while they commit, and are not a run.
            " AND classid = %s AND objid = %s AND objsubid = 2 AND mode = 'ExclusiveLock')",
            [locks.RUN_LOCK, locks.period_key(period)],
        )
        return bool(cursor.fetchone()[0])


def billed_by_month(*, since: date) -> dict[date, list[dict[str, Any]]]:
    """Issued invoices per billed month and currency: total billed and the moderator's commission, one GROUP BY."""
    rows = (
        InvoiceLine.objects.filter(invoice__period__gte=since)
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .values("invoice__period", "invoice__currency")
        .annotate(billed=Sum("amount"), commission=Sum("commission"))
        .order_by("invoice__period", "invoice__currency")
    )
    months: dict[date, list[dict[str, Any]]] = {}
    for row in rows:
        months.setdefault(row["invoice__period"], []).append(
            # Sums of rounded lines are whole cents; quantising only drops SQLite's trailing digits.
            {
                "currency": row["invoice__currency"],
                "billed": round_money(row["billed"]),
                "commission": round_money(row["commission"]),
            }
        )
    return months
