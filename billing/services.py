"""Every write of billing: contracts, usage imports, bill runs, invoices, notes, payments, settlements."""

from __future__ import annotations

import calendar
import hashlib
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, DataError, connection, models, transaction
from django.db.models import Case, Count, DecimalField, F, Sum, When
from django.db.models.functions import Ceil
from django.utils import timezone

from billing import locks, rating
from billing.models import (
    BillRun,
    CommissionRate,
    Contract,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Note,
    Payment,
    PaymentAllocation,
    RateLine,
    RateTier,
    Settlement,
    SettlementAdjustment,
    UsageImport,
    UsageRecord,
)
from billing.money import CENT, round_money
from marketplace.audit import audit_record
from marketplace.models import Organization, User
from marketplace.services import DomainError, notify

DEFAULT_COMMISSION = Decimal("5.00")
ZERO = Decimal("0")
SIX_PLACES = Decimal("0.000001")
RUN_LOCK = locks.RUN_LOCK  # (RUN_LOCK, yyyymm) is held for the whole of a period's run or finalisation
# The largest amount an invoice, a line or a commission holds (numeric(14, 2)).
MAX_AMOUNT = Decimal("999999999999.99")


# Serialisation failure, deadlock, lock not available, statement timeout: the run may well work if run again.
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014"}


class BillRunFailed(DomainError):
    """The run could not write its drafts; the period's run records why and nothing of the attempt stays."""


# --- contracts --------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def contracts_sync_from_awards() -> int:
    """Create the contracts of every award that has none yet; safe to run any number of times.

    A buyer's award gives one contract. A reseller's award gives one per end customer whose sites it covers
    (and one for sites of the reseller's own), so each end customer's usage and charges stay apart.
    """
    from rfq.models import Award

    created = 0
    for award in (
        Award.objects.select_for_update(of=("self",))
        .filter(contracts__isnull=True)
        .select_related("rfq")
        .prefetch_related("lines__site", "lines__service_type")
        .order_by("id")
    ):
        rfq = award.rfq
        start = award.start_date or award.accepted_at.date()
        rate = CommissionRate.objects.filter(carrier_id=award.carrier_id).values_list("percent", flat=True).first()
        by_end_customer: dict[int | None, list[Any]] = defaultdict(list)
        for line in award.lines.all():
            by_end_customer[line.site.end_customer_id].append(line)
        for end_customer_id, lines in sorted(by_end_customer.items(), key=lambda item: item[0] or 0):
            contract = Contract.objects.create(
                number="CT-" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
                award=award,
                rfq=rfq,
                buyer_id=award.buyer_id,
                end_customer_id=end_customer_id,
                carrier_id=award.carrier_id,
                currency=award.currency,
                start_date=start,
                end_date=_add_months(start, award.term_months),
                invoice_grouping=rfq.invoice_grouping,
                carrier_grouping=rfq.carrier_grouping,
                payment_terms_days=rfq.payment_terms_days,
                # The organisation's own choices at acceptance; the lead's PO on the request is the lead's only.
                invoice_delivery=award.invoice_delivery or rfq.invoice_delivery,
                po_number=award.po_number or (rfq.po_number if award.buyer_id == rfq.buyer_id else ""),
                commission_percent=rate if rate is not None else DEFAULT_COMMISSION,
            )
            rate_lines = RateLine.objects.bulk_create(
                [
                    RateLine(
                        contract=contract,
                        site=line.site,
                        service_type=line.service_type,
                        description=f"{line.service_type.name} at {line.site.name}",
                        quantity=line.quantity,
                        monthly_charge=line.monthly_charge,
                        one_time_charge=line.one_time_charge,
                        usage_unit=line.usage_unit,
                        usage_rate=line.usage_rate,
                        # The award keeps "none" as null; the rate line as 0.
                        increment=line.increment or ZERO,
                        minimum_commitment=line.minimum_commitment or ZERO,
                    )
                    for line in lines
                ]
            )
            RateTier.objects.bulk_create(
                RateTier(rate_line=rate_line, threshold=threshold, rate=rate)
                for rate_line, line in zip(rate_lines, lines, strict=True)
                for threshold, rate in line.usage_tiers
            )
            audit_record(
                actor=None,
                action="contract.create",
                obj=contract,
                organization=contract.buyer,
                after={"award": award.pk, "carrier": award.carrier_id, "end_customer": end_customer_id},
            )
            created += 1
    return created


@transaction.atomic
def commission_set(*, actor: User, carrier: Organization, percent: Decimal) -> CommissionRate:
    """Set a carrier's default commission for contracts made from now on."""
    if not actor.is_moderator:
        raise DomainError("Only moderators set commission.")
    if not (ZERO <= percent <= Decimal(100)):
        raise DomainError("Commission is a percentage between 0 and 100.")
    rate, _ = CommissionRate.objects.select_for_update().get_or_create(carrier=carrier)
    before = rate.percent
    rate.percent = percent
    rate.updated_at = timezone.now()
    rate.save(update_fields=["percent", "updated_at"])
    audit_record(
        actor=actor,
        action="commission.set",
        obj=rate,
        organization=carrier,
        before={"percent": before},
        after={"percent": percent},
    )
    return rate


# --- usage import -----------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    usage_import: UsageImport
    already_imported: bool = False


def usage_import_create(
    *, actor: User | None, carrier: Organization, source: str, filename: str, data: bytes
) -> ImportOutcome:
    """Register an uploaded file; the same file twice is recognised and changes nothing."""
    from django.core.files.base import ContentFile

    from marketplace.uploads import safe_filename

    if source not in UsageImport.Source.values:
        raise DomainError("Choose where the usage comes from.")
    if carrier.kind != Organization.Kind.CARRIER:
        raise DomainError("Usage is imported for a carrier.")
    digest = hashlib.sha256(data).hexdigest()
    earlier = UsageImport.objects.filter(carrier=carrier, sha256=digest, status=UsageImport.Status.DONE).first()
    if earlier is not None:
        return ImportOutcome(earlier, already_imported=True)
    usage_import = UsageImport(
        carrier=carrier,
        source=source,
        filename=safe_filename(filename, default="usage.csv"),
        sha256=digest,
        uploaded_by=actor,
    )
    usage_import.file.save("upload.csv", ContentFile(data), save=False)
    usage_import.save()
    audit_record(
        actor=actor,
        action="usage_import.create",
        obj=usage_import,
        organization=carrier,
        after={"file": usage_import.filename, "sha256": digest, "source": source},
    )
    return ImportOutcome(usage_import)


def usage_import_run(*, import_id: int) -> UsageImport:
    """Import the file whole or not at all; the import row records the outcome. Idempotent."""
    from billing.usage import run_import

    usage_import = UsageImport.objects.get(pk=import_id)
    if usage_import.status in (UsageImport.Status.DONE, UsageImport.Status.FAILED):
        return usage_import
    UsageImport.objects.filter(pk=import_id).update(status=UsageImport.Status.RUNNING)
    usage_import.file.open("rb")
    data = usage_import.file.read()
    usage_import.file.close()
    try:
        with transaction.atomic():
            if UsageImport.objects.filter(
                carrier_id=usage_import.carrier_id, sha256=usage_import.sha256, status=UsageImport.Status.DONE
            ).exists():
                result = None
            else:
                result = run_import(usage_import, data)
                if not result.ok:
                    # Nothing of a refused file stays behind.
                    transaction.set_rollback(True)
    except UnicodeDecodeError:
        result = None
        UsageImport.objects.filter(pk=import_id).update(
            status=UsageImport.Status.FAILED,
            finished_at=timezone.now(),
            errors=[{"line": 0, "column": "", "message": "The file is not UTF-8 text: save it as CSV (UTF-8)."}],
            message="Refused: the file is not UTF-8 text.",
        )
        return UsageImport.objects.get(pk=import_id)
    if result is None:
        UsageImport.objects.filter(pk=import_id).update(
            status=UsageImport.Status.FAILED,
            finished_at=timezone.now(),
            message="This file was imported before; nothing changed.",
        )
    elif result.ok:
        UsageImport.objects.filter(pk=import_id).update(
            status=UsageImport.Status.DONE,
            finished_at=timezone.now(),
            total_rows=result.total,
            processed_rows=result.total,
            inserted=result.inserted,
            duplicates=result.duplicates,
            adjustments=result.adjustments,
            message=f"Imported {result.inserted} record(s); {result.duplicates} duplicate(s) counted once.",
        )
    else:
        UsageImport.objects.filter(pk=import_id).update(
            status=UsageImport.Status.FAILED,
            finished_at=timezone.now(),
            total_rows=result.total,
            errors=result.errors,
            message=f"Refused: {len(result.errors)} row(s) need fixing; nothing was imported.",
        )
    usage_import.refresh_from_db()
    audit_record(
        actor=usage_import.uploaded_by,
        action=f"usage_import.{usage_import.status}",
        obj=usage_import,
        organization=usage_import.carrier,
        after={
            "inserted": usage_import.inserted,
            "duplicates": usage_import.duplicates,
            "errors": len(usage_import.errors),
        },
    )
    return usage_import


# --- rating -----------------------------------------------------------------------------------------


def previous_month(today: date) -> date:
    """The first day of the month before `today`'s: the month a bill run on the 1st bills."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_bounds(period: date) -> tuple[date, date]:
    start = date(period.year, period.month, 1)
    return start, _add_months(start, 1)


def active_days(contract: Contract | ContractTerms, period: date) -> tuple[int, int]:
    """The days of the month a contract runs, and the month's days: monthly charges are prorated by them."""
    start, end = month_bounds(period)
    overlap = (min(end, contract.end_date) - max(start, contract.start_date)).days
    return max(overlap, 0), (end - start).days


def prorate(amount: Decimal, days: tuple[int, int]) -> Decimal:
    """`amount` for the days a contract ran, rounded once: amount * active / month's days, exactly."""
    active, month = days
    return round_money(amount * active / month)


def period_label(period: date) -> str:
    start, end = month_bounds(period)
    return f"{start:%d %b}–{end - timedelta(days=1):%d %b %Y}"


def usage_charge(quantity: Decimal, base_rate: Decimal, tiers: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Graduated tiers: the base rate up to the first threshold, each tier's rate above its own."""
    bands = [(ZERO, base_rate), *sorted(tiers)]
    amount = ZERO
    for i, (low, rate) in enumerate(bands):
        high = bands[i + 1][0] if i + 1 < len(bands) else None
        portion = (min(quantity, high) if high is not None else quantity) - low
        if portion > 0:
            amount += portion * rate
    return amount


def progress_key(period: date) -> str:
    return f"bill-run-progress:{period:%Y-%m}"


def _progress(period: date, phase: str, done: int = 0, total: int = 0) -> None:
    # The run is one transaction; progress goes through the shared cache so the page can show it.
    cache.set(progress_key(period), {"phase": phase, "done": done, "total": total, "at": time.time()}, timeout=3600)


@dataclass(slots=True)
class ContractTerms:
    """What rating needs of a contract, read as plain values (no model instances on the hot path)."""

    pk: int
    number: str
    request: str  # the request reference, or the contract number when there is no request
    buyer_id: int
    carrier_id: int
    end_customer_id: int | None
    currency: str
    start_date: date
    end_date: date
    carrier_grouping: str
    invoice_grouping: str
    commission_percent: Decimal


@dataclass(slots=True)
class LineTerms:
    pk: int
    contract: ContractTerms
    site_id: int | None
    description: str
    monthly_charge: Decimal
    one_time_charge: Decimal
    usage_unit: str
    usage_rate: Decimal | None
    minimum_commitment: Decimal


LINE_FIELDS = (
    "pk",
    "site_id",
    "description",
    "monthly_charge",
    "one_time_charge",
    "usage_unit",
    "usage_rate",
    "minimum_commitment",
    "contract_id",
    "contract__number",
    "contract__rfq__reference",
    "contract__buyer_id",
    "contract__carrier_id",
    "contract__end_customer_id",
    "contract__currency",
    "contract__start_date",
    "contract__end_date",
    "contract__carrier_grouping",
    "contract__invoice_grouping",
    "contract__commission_percent",
)


def _load_lines(lines: Any, into: dict[int, LineTerms], contracts: dict[int, ContractTerms]) -> None:
    for row in lines.values_list(*LINE_FIELDS):
        contract_id = row[8]
        terms = contracts.get(contract_id)
        if terms is None:
            terms = contracts[contract_id] = ContractTerms(contract_id, row[9], row[10] or row[9], *row[11:])
        into[row[0]] = LineTerms(row[0], terms, *row[1:8])


@dataclass
class DraftLine:
    contract: ContractTerms
    rate_line: LineTerms
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    record_count: int = 0


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def catch_up_lines(period: date) -> list[DraftLine]:
    """Charges of months finalised without the contract, billed on the first month that is still open.

    A contract added after its first months were finalised (billed in advance, or an award that came late) would
    otherwise never be charged for them. A contract that no issued invoice carries yet, whose first months are
    finalised, gets for each of them its (prorated) recurring charge, and for its first month its one-time charge,
    on the bill of the first month from its start that is not finalised: that month, and no other, since once it
    is issued the contract is on an issued invoice. Commitment true-ups of those months are not billed (as for
    months billed in advance). Usually there is no such contract: a query or two.
    """
    finalized = set(BillRun.objects.filter(status=BillRun.Status.FINALIZED).values_list("period", flat=True))
    if not finalized:
        return []
    issued = InvoiceLine.objects.filter(contract_id=models.OuterRef("pk")).exclude(invoice__status=Invoice.Status.DRAFT)
    never_issued = Contract.objects.filter(start_date__lt=period, start_date__gte=min(finalized)).filter(
        ~models.Exists(issued)
    )
    rate_lines: dict[int, LineTerms] = {}
    contracts: dict[int, ContractTerms] = {}
    _load_lines(RateLine.objects.filter(contract__in=never_issued).order_by("pk"), rate_lines, contracts)
    lines: list[DraftLine] = []
    for rl in rate_lines.values():
        contract = rl.contract
        first = date(contract.start_date.year, contract.start_date.month, 1)
        missed, month = [], first
        while month < period and month in finalized:
            missed.append(month)
            month = _next_month(month)
        if not missed or month != period:
            continue  # nothing missed, or the catch-up belongs to an earlier open month's bill
        for when in missed:
            days = active_days(contract, when)
            if days[0] and rl.monthly_charge:
                fraction = Decimal(days[0]) / Decimal(days[1])
                prorated = "" if fraction == 1 else f", prorated {fraction * 100:.1f}% of the month"
                lines.append(
                    DraftLine(
                        contract,
                        rl,
                        InvoiceLine.Kind.RECURRING,
                        f"{rl.description}, {period_label(when)} (billed late{prorated})",
                        fraction,
                        "month",
                        rl.monthly_charge,
                        prorate(rl.monthly_charge, days),
                    )
                )
            if when == first and rl.one_time_charge:
                lines.append(
                    DraftLine(
                        contract,
                        rl,
                        InvoiceLine.Kind.ONE_TIME,
                        f"{rl.description}: installation ({period_label(when)}, billed late)",
                        Decimal(1),
                        "",
                        rl.one_time_charge,
                        round_money(rl.one_time_charge),
                    )
                )
    return lines


def month_is_over(end: date) -> bool:
    """A month's commitment shortfall is known only once it has ended: a month billed in advance has no true-up."""
    return timezone.now().date() >= end


def _lines_for_period(period: date) -> tuple[list[DraftLine], int]:
    """Rate the period: recurring, one-time, usage (one GROUP BY), true-ups and late-usage adjustments."""
    start, end = month_bounds(period)
    over = month_is_over(end)
    rate_lines: dict[int, LineTerms] = {}
    contracts: dict[int, ContractTerms] = {}
    _load_lines(
        RateLine.objects.filter(contract__start_date__lt=end, contract__end_date__gt=start), rate_lines, contracts
    )
    tiers: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for rate_line_id, threshold, rate in RateTier.objects.values_list("rate_line_id", "threshold", "rate"):
        tiers[rate_line_id].append((threshold, rate))
    billed: Any = Case(
        When(
            rate_line__increment__gt=0,
            then=Ceil(F("quantity") / F("rate_line__increment")) * F("rate_line__increment"),
        ),
        default=F("quantity"),
        output_field=DecimalField(max_digits=24, decimal_places=6),
    )
    if not RateLine.objects.filter(increment__gt=0).exists():
        # Without increments to round to, the GROUP BY needs no join to the rate lines.
        billed = F("quantity")
    totals = list(
        UsageRecord.objects.filter(bill_period=period)
        .values("rate_line_id", "is_adjustment")
        .annotate(quantity=Sum(billed), records=Count("*"))
        .order_by()
    )
    missing = {t["rate_line_id"] for t in totals} - set(rate_lines)
    if missing:
        # Late usage of a contract that has ended still has to be billed.
        _load_lines(RateLine.objects.filter(pk__in=missing), rate_lines, contracts)
    usage: dict[int, dict[bool, tuple[Decimal, int]]] = defaultdict(dict)
    records = 0
    for t in totals:
        usage[t["rate_line_id"]][t["is_adjustment"]] = (Decimal(t["quantity"]), t["records"])
        records += t["records"]
    lines: list[DraftLine] = []
    label = period_label(period)
    for rl in sorted(rate_lines.values(), key=lambda r: r.pk):
        contract = rl.contract
        days = active_days(contract, period)
        fraction = Decimal(days[0]) / Decimal(days[1])
        if fraction > 0 and rl.monthly_charge:
            prorated = "" if fraction == 1 else f" (prorated {fraction * 100:.1f}% of the month)"
            lines.append(
                DraftLine(
                    contract,
                    rl,
                    InvoiceLine.Kind.RECURRING,
                    f"{rl.description}, {label}{prorated}",
                    fraction,
                    "month",
                    rl.monthly_charge,
                    prorate(rl.monthly_charge, days),
                )
            )
        if rl.one_time_charge and start <= contract.start_date < end:
            lines.append(
                DraftLine(
                    contract,
                    rl,
                    InvoiceLine.Kind.ONE_TIME,
                    f"{rl.description}: installation",
                    Decimal(1),
                    "",
                    rl.one_time_charge,
                    round_money(rl.one_time_charge),
                )
            )
        usage_amount = ZERO
        for adjustment, (quantity, count) in sorted(usage.get(rl.pk, {}).items()):
            rate = rl.usage_rate or ZERO
            amount = round_money(usage_charge(quantity, rate, tiers.get(rl.pk, [])))
            kind = InvoiceLine.Kind.ADJUSTMENT if adjustment else InvoiceLine.Kind.USAGE
            what = "late usage from earlier months" if adjustment else "usage"
            lines.append(
                DraftLine(
                    contract,
                    rl,
                    kind,
                    f"{rl.description}: {what}, {quantity.normalize():f} {rl.usage_unit}",
                    quantity,
                    rl.usage_unit,
                    rate,
                    amount,
                    count,
                )
            )
            if not adjustment:
                usage_amount = amount
        if rl.minimum_commitment and fraction > 0 and over:
            commitment = prorate(rl.minimum_commitment, days)
            if usage_amount < commitment:
                lines.append(
                    DraftLine(
                        contract,
                        rl,
                        InvoiceLine.Kind.TRUE_UP,
                        f"{rl.description}: minimum commitment {commitment} not reached",
                        Decimal(1),
                        "",
                        commitment - usage_amount,
                        commitment - usage_amount,
                    )
                )
    return lines + catch_up_lines(period), records


def bulk_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows (given as field attnames) and return their ids, in order."""
    created = model._default_manager.bulk_create([model(**row) for row in rows], batch_size=1000)
    return [obj.pk for obj in created]


def _group_key(line: DraftLine) -> str:
    c = line.contract
    parts = [c.currency, f"ec{c.end_customer_id or 0}"]
    parts.append(f"carrier{c.carrier_id}" if c.carrier_grouping == "per_carrier" else "all-carriers")
    parts.append(f"site{line.rate_line.site_id or 0}" if c.invoice_grouping == "per_site" else "all-sites")
    return ":".join(parts)


def _fingerprint(lines: list[tuple[int, str, dict[str, Any]]]) -> str:
    """SHA-256 over every written line as (buyer, invoice group, line) in a fixed order."""
    fields = ("kind", "description", "quantity", "unit_price", "amount", "commission", "record_count")
    rows = [
        [buyer_id, group_key, *(line[f] for f in fields)]
        for buyer_id, group_key, line in sorted(lines, key=lambda x: (x[0], x[1], x[2]["position"]))
    ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def _advisory_lock(period: date) -> None:
    # Two runs of one period never overlap: the second waits here until the first commits; imports writing to
    # the period wait too, and a run waits for those under way.
    locks.lock_period(period)


@dataclass
class RunSummary:
    period: date
    invoices: int
    lines: int
    records: int
    total: dict[str, Decimal]
    fingerprint: str
    dry_run: bool = False
    reused: bool = False


def _rate_in_python(run: BillRun, period: date, *, report: bool = True) -> rating.Drafts:
    """The reference rating, and SQLite's: one GROUP BY, lines rated in Python, drafts written in bulk.

    PostgreSQL runs billing.rating's two statements instead; tests/billing/test_rating_paths.py holds both paths
    to the same drafts.
    """
    lines, records = _lines_for_period(period)
    culprit = _overflow_culprit(lines)
    if culprit is not None:
        raise BillRunFailed(_too_large(period, culprit))
    groups: dict[tuple[int, str], list[DraftLine]] = defaultdict(list)
    for line in lines:
        groups[(line.contract.buyer_id, _group_key(line))].append(line)
    buyers = dict(Organization.objects.filter(pk__in={b for b, _ in groups}).values_list("pk", "name"))
    ordered = sorted(groups, key=lambda k: (buyers[k[0]].lower(), k[0], k[1]))
    if report:
        _progress(period, "writing invoices", 0, len(ordered))
    # Lines are grouped by request, then site, then kind; totals are sums of lines rounded once each.
    sorted_groups = {
        group: sorted(
            groups[group],
            key=lambda dl: (
                dl.contract.request,
                dl.rate_line.description,
                dl.kind,
                dl.description,
            ),
        )
        for group in ordered
    }
    totals: dict[str, Decimal] = defaultdict(Decimal)
    drafts = []
    for buyer_id, key in ordered:
        group_lines = sorted_groups[(buyer_id, key)]
        first = group_lines[0].contract
        subtotal = sum((dl.amount for dl in group_lines), ZERO)
        totals[first.currency] += subtotal
        drafts.append(
            {
                "bill_run_id": run.pk,
                "period": period,
                "buyer_id": buyer_id,
                "group_key": key,
                "end_customer_id": first.end_customer_id,
                "carrier_id": first.carrier_id if key.split(":")[2] != "all-carriers" else None,
                "currency": first.currency,
                "subtotal": subtotal,
                "total": subtotal,
            }
        )
    invoice_ids = bulk_insert(Invoice, drafts)
    objects = [
        {
            "invoice_id": invoice_id,
            "contract_id": dl.contract.pk,
            "rate_line_id": dl.rate_line.pk,
            "carrier_id": dl.contract.carrier_id,
            "kind": dl.kind,
            "description": dl.description[:250],
            "quantity": dl.quantity.quantize(SIX_PLACES, ROUND_HALF_UP),
            "unit": dl.unit,
            "unit_price": dl.unit_price.quantize(SIX_PLACES, ROUND_HALF_UP),
            "amount": dl.amount,
            "commission": round_money(dl.amount * dl.contract.commission_percent / 100),
            "record_count": dl.record_count,
            "position": position,
        }
        for invoice_id, group in zip(invoice_ids, ordered, strict=True)
        for position, dl in enumerate(sorted_groups[group])
    ]
    bulk_insert(InvoiceLine, objects)
    group_of: dict[Any, tuple[int, str]] = dict(zip(invoice_ids, ordered, strict=True))
    fingerprint = _fingerprint([(*group_of[line["invoice_id"]], line) for line in objects])
    return rating.Drafts(len(invoice_ids), len(objects), records, dict(totals), fingerprint)


def _write_drafts(run: BillRun, period: date, *, report: bool = True) -> rating.Drafts:
    """Replace the run's drafts with the period rated now: SQL on PostgreSQL, the reference path elsewhere."""
    Invoice.objects.filter(bill_run=run).delete()
    if connection.vendor == "postgresql":
        start, end = month_bounds(period)
        extra = [
            (dl.rate_line.pk, dl.kind, dl.description, dl.quantity, dl.unit, dl.unit_price, dl.amount)
            for dl in catch_up_lines(period)
        ]
        return rating.rate_and_write(
            run_id=run.pk, period=start, end=end, label=period_label(period), now=timezone.now(), extra=extra
        )
    return _rate_in_python(run, period, report=report)


def _drafts_still_current(run: BillRun, period: date) -> bool:
    """Would a run now give the same drafts? Rates the period again in a savepoint and compares fingerprints.

    Usage imported, contracts added or rates changed after the drafts were made would otherwise be finalised
    without them, and usage of a finalised month never reaches a bill of its own.
    """
    savepoint = transaction.savepoint()
    try:
        return _write_drafts(run, period, report=False).fingerprint == run.fingerprint
    except (BillRunFailed, DatabaseError):
        return False
    finally:
        transaction.savepoint_rollback(savepoint)


def _overflow_culprit(lines: list[DraftLine]) -> tuple[str, Decimal] | None:
    """The first line, or else the first invoice, whose amount no invoice can hold: (what it is, its amount)."""
    for dl in lines:
        if abs(dl.amount) > MAX_AMOUNT:
            return f"{dl.contract.number}, {dl.description}", dl.amount
    subtotals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for dl in lines:
        subtotals[(dl.contract.buyer_id, _group_key(dl))] += dl.amount
    over = sorted(key for key, total in subtotals.items() if abs(total) > MAX_AMOUNT)
    if not over:
        return None
    name = Organization.objects.filter(pk=over[0][0]).values_list("name", flat=True).first()
    return f"the invoice of {name}", subtotals[over[0]]


def _too_large(period: date, culprit: tuple[str, Decimal] | None = None) -> str:
    what = f" {culprit[0]} comes to {culprit[1]:,.2f}." if culprit else ""
    return (
        f"A charge for {period:%B %Y} is larger than an invoice can hold (at most {MAX_AMOUNT:,}).{what}"
        " Check the month's usage quantities and the contract's rates."
    )


def _refusal(period: date, exc: DatabaseError) -> str:
    """What to tell the person who ran the period when the database refused the drafts."""
    if isinstance(exc, DataError) and "overflow" in str(exc):
        # The SQL path cannot say which line or invoice overflowed; the reference rating (reads only) can.
        return _too_large(period, _overflow_culprit(_lines_for_period(period)[0]))
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if getattr(exc.__cause__, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return f"The database interrupted the run for {period:%B %Y} ({first}); nothing was written: run it again."
    return f"The database refused the run for {period:%B %Y}: {first}."


def _run_failed(run: BillRun, actor: User | None, message: str, started_at: Any, *, announce: bool) -> None:
    run.status, run.error, run.started_at, run.started_by = BillRun.Status.FAILED, message, started_at, actor
    run.save(update_fields=["status", "error", "started_at", "started_by"])
    audit_record(actor=actor, action="bill_run.fail", obj=run, after={"error": message})
    if not announce:
        return
    _tell_billing_staff(
        run,
        actor,
        key=f"bill-run-failed:{run.period:%Y-%m}:{started_at.isoformat()}",
        subject=f"{run.period:%B %Y}: the bill run failed",
        body=f"{message}\n\nNothing of the run was written. Fix the cause, then run the month again.",
    )


def _tell_billing_staff(run: BillRun, actor: User | None, *, key: str, subject: str, body: str) -> None:
    """Moderators and billing agents hear how a run ended, in the inbox; by e-mail too when nobody started it
    by hand (cron, beat). Whoever started it sees the outcome on the run page and is not told again."""
    from django.urls import reverse

    staff = User.objects.filter(is_active=True).filter(
        models.Q(is_staff=True) | models.Q(membership__organization__kind=Organization.Kind.BUREAU)
    )
    if actor is not None:
        staff = staff.exclude(pk=actor.pk)
    notify(
        recipients=list(staff.distinct().order_by("pk")),
        key=key,
        kind="bill_run",
        subject=subject,
        body=body,
        url=reverse("billing:bill_run", args=[f"{run.period:%Y-%m}"]),
        email=actor is None,
    )


def bill_run_execute(
    *, period: date, actor: User | None = None, dry_run: bool = False, report: bool = True, announce: bool = True
) -> RunSummary:
    """Rate a month and write its draft invoices; running it again gives identical drafts.

    If the drafts cannot be written (a charge too large for an invoice, say), nothing of the attempt stays: the
    drafts of the last good run, if any, are kept, the run is marked failed with the reason (unless it was a dry
    run), and BillRunFailed carries the reason to the caller.
    `report` shows progress on the run page (not for a preview); `announce` tells billing staff of new drafts
    (not when they are issued at once: finalising tells them instead).
    """
    period = date(period.year, period.month, 1)
    requested_at = timezone.now()
    contracts_sync_from_awards()
    with transaction.atomic():
        _advisory_lock(period)
        run = BillRun.objects.select_for_update().filter(period=period).first()
        if run is not None and run.status == BillRun.Status.FINALIZED:
            raise DomainError(f"{period:%B %Y} is finalised; correct it with credit or debit notes.")
        if (
            run is not None
            and run.status == BillRun.Status.DRAFT
            and run.finished_at
            and run.finished_at > requested_at
            and not dry_run
        ):
            # A parallel request finished while this one waited for the lock: its result is the result.
            return RunSummary(
                period,
                run.invoice_count,
                InvoiceLine.objects.filter(invoice__bill_run=run).count(),
                run.records_rated,
                {},
                run.fingerprint,
                reused=True,
            )
        if run is not None and run.status == BillRun.Status.FAILED and run.started_at > requested_at and not dry_run:
            # A parallel request failed while this one waited: the same month fails the same way; say so once.
            raise BillRunFailed(run.error)
        if report:
            _progress(period, "rating")
        started_at = timezone.now()
        previous = (run.status, run.fingerprint) if run is not None else None
        if run is None:
            run = BillRun.objects.create(period=period, started_by=actor, started_at=started_at)
        try:
            # A savepoint: a refused attempt is undone whole and the failure itself is still recorded.
            with transaction.atomic():
                run.status, run.started_at, run.started_by, run.error = BillRun.Status.RUNNING, started_at, actor, ""
                run.save(update_fields=["status", "started_at", "started_by", "error"])
                drafts = _write_drafts(run, period, report=report)
        except (BillRunFailed, DatabaseError) as exc:
            if connection.needs_rollback:
                raise  # the connection went (a worker killed, say): nothing can be recorded, nothing was kept
            failure = str(exc) if isinstance(exc, BillRunFailed) else _refusal(period, exc)
            if not dry_run:
                _run_failed(run, actor, failure, started_at, announce=report)
        else:
            failure = ""
            run.status = BillRun.Status.DRAFT
            run.finished_at = timezone.now()
            run.records_rated = drafts.records
            run.invoice_count = drafts.invoices
            run.fingerprint = drafts.fingerprint
            run.save(update_fields=["status", "finished_at", "records_rated", "invoice_count", "fingerprint"])
            summary = RunSummary(
                period, drafts.invoices, drafts.lines, drafts.records, drafts.totals, drafts.fingerprint, dry_run
            )
            if not dry_run:
                audit_record(
                    actor=actor,
                    action="bill_run.execute",
                    obj=run,
                    after={"invoices": drafts.invoices, "records": drafts.records, "fingerprint": drafts.fingerprint},
                )
                if report and announce and previous != (BillRun.Status.DRAFT, drafts.fingerprint):
                    _announce_drafts(run, actor, drafts)
        if dry_run:
            transaction.set_rollback(True)
    if failure:
        # Committed above: the failed run and its reason are what the run page shows.
        if report:
            _progress(period, "failed")
        raise BillRunFailed(failure)
    if report:
        _progress(period, "done", drafts.invoices, drafts.invoices)
    return summary


def _announce_drafts(run: BillRun, actor: User | None, drafts: rating.Drafts) -> None:
    """New drafts (a first run, other drafts than before, or good ones after a failure): tell billing staff."""
    period = run.period
    totals = ", ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(drafts.totals.items()))
    if drafts.invoices:
        subject = f"{period:%B %Y}: {drafts.invoices} draft invoice(s) ready for review"
        body = (
            f"The bill run rated {drafts.records} usage record(s) into {drafts.invoices} draft invoice(s)"
            f"{f' totalling {totals}' if totals else ''}. Review them, then finalise the month."
        )
    else:
        subject = f"{period:%B %Y}: nothing to bill"
        body = "The bill run found no contract running in the month and no usage to bill."
    _tell_billing_staff(
        run, actor, key=f"bill-run:{period:%Y-%m}:{run.started_at.isoformat()}", subject=subject, body=body
    )


# --- finalisation, numbering, notes ---------------------------------------------------------------------


def _next_number(series: str, year: int) -> str:
    sequence, _ = InvoiceSequence.objects.get_or_create(series=series, year=year)
    sequence = InvoiceSequence.objects.select_for_update().get(pk=sequence.pk)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{series}-{year}-{sequence.last:06d}"


@transaction.atomic
def bill_run_finalize(*, actor: User | None, period: date) -> BillRun:
    """Issue the period's drafts: gapless numbers, frozen invoices, carrier settlements, PDFs and e-mail."""
    period = date(period.year, period.month, 1)
    _advisory_lock(period)
    run = BillRun.objects.select_for_update().filter(period=period).first()
    if run is not None and run.status == BillRun.Status.FINALIZED:
        raise DomainError(f"{period:%B %Y} is already finalised; correct it with credit or debit notes.")
    if run is not None and run.status == BillRun.Status.FAILED:
        raise DomainError(f"The last run of {period:%B %Y} failed: run the month again, and finalise once it succeeds.")
    if run is None or run.status != BillRun.Status.DRAFT:
        raise DomainError("Run the period first; only draft invoices can be finalised.")
    if not _drafts_still_current(run, period):
        when = timezone.localtime(run.finished_at) if run.finished_at else None
        _, end = month_bounds(period)
        ended = when is not None and when.date() < end and month_is_over(end)
        raise DomainError(
            f"Usage, contracts or rates for {period:%B %Y} changed after these drafts were made"
            f"{f' ({when:%d %b %Y %H:%M})' if when else ''}"
            f"{', or the month has ended since and its commitment true-ups are due' if ended else ''}"
            ": run the month again, review the new drafts, then finalise."
        )
    today = timezone.now().date()
    invoices = list(
        Invoice.objects.select_related("buyer").filter(bill_run=run).order_by("buyer__name", "buyer_id", "group_key")
    )
    # Each invoice is due on the shortest payment terms among the contracts its lines bill (one buyer may have
    # contracts on different terms, e.g. an invoice per carrier).
    terms = dict(
        InvoiceLine.objects.filter(invoice__bill_run=run)
        .values("invoice_id")
        .annotate(days=models.Min("contract__payment_terms_days"))
        .values_list("invoice_id", "days")
    )
    for invoice in invoices:
        invoice.number = _next_number("SB", today.year)
        invoice.status = Invoice.Status.FINAL
        invoice.issue_date = today
        invoice.due_date = today + timedelta(days=terms.get(invoice.pk) or 30)
    Invoice.objects.bulk_update(invoices, ["number", "status", "issue_date", "due_date"])
    sums = (
        InvoiceLine.objects.filter(invoice__bill_run=run)
        .values("carrier_id", "invoice__currency")
        .annotate(gross=Sum("amount"), commission=Sum("commission"))
        .order_by("carrier_id")
    )
    for row in sums:
        Settlement.objects.create(
            carrier_id=row["carrier_id"],
            period=period,
            currency=row["invoice__currency"],
            gross=row["gross"],
            commission=row["commission"],
            net=row["gross"] - row["commission"],
        )
    settlement_adjustments_attach(actor=actor, period=period)
    payments_apply_credit(actor=actor, invoices=invoices)
    run.status = BillRun.Status.FINALIZED
    run.finalized_at = timezone.now()
    run.finalized_by = actor
    run.save(update_fields=["status", "finalized_at", "finalized_by"])
    audit_record(actor=actor, action="bill_run.finalize", obj=run, after={"invoices": [i.number for i in invoices]})
    _tell_billing_staff(
        run,
        actor,
        key=f"bill-run-finalised:{period:%Y-%m}",
        subject=f"{period:%B %Y} finalised: {len(invoices)} invoice(s) issued",
        body=(
            f"{len(invoices)} invoice(s) for {period:%B %Y} have their numbers and go to the buyers with their PDFs; "
            "the carriers' settlements are computed. Corrections now go through credit and debit notes."
        ),
    )
    from billing.tasks import invoice_render_pdf_task, settlement_render_pdf_task

    for invoice in invoices:
        transaction.on_commit(lambda i=invoice.pk: invoice_render_pdf_task.delay(i))  # type: ignore[misc]
    for settlement_id in Settlement.objects.filter(period=period).values_list("pk", flat=True):
        transaction.on_commit(lambda s=settlement_id: settlement_render_pdf_task.delay(s))  # type: ignore[misc]
    return run


@transaction.atomic
def invoice_mark_posted(*, actor: User, invoice: Invoice) -> Invoice:
    """Record that the paper copy of an issued invoice went in the post, for buyers who asked for paper."""
    from billing.selectors import invoice_delivery

    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.DRAFT:
        raise DomainError("Drafts are not sent; finalise the period first.")
    if "post" not in invoice_delivery(invoice):
        raise DomainError("This buyer did not ask for invoices by post.")
    if invoice.posted_at is not None:
        raise DomainError(f"This invoice was already posted on {invoice.posted_at:%d %B %Y}.")
    invoice.posted_at = timezone.now()
    invoice.posted_by = actor
    invoice.save(update_fields=["posted_at", "posted_by"])
    audit_record(actor=actor, action="invoice.posted", obj=invoice, organization=invoice.buyer)
    return invoice


def invoice_amount_due(invoice: Invoice) -> Decimal:
    credits = sum((n.amount for n in invoice.notes.all() if n.kind == Note.Kind.CREDIT), ZERO)
    debits = sum((n.amount for n in invoice.notes.all() if n.kind == Note.Kind.DEBIT), ZERO)
    return invoice.total - credits + debits - invoice.amount_paid


def invoice_creditable(invoice: Invoice) -> Decimal:
    """What credit notes may still take off an invoice: its total and debit notes, less earlier credit notes."""
    credits = sum((n.amount for n in invoice.notes.all() if n.kind == Note.Kind.CREDIT), ZERO)
    debits = sum((n.amount for n in invoice.notes.all() if n.kind == Note.Kind.DEBIT), ZERO)
    return invoice.total + debits - credits


@transaction.atomic
def note_create(*, actor: User, invoice: Invoice, kind: str, amount: Decimal, reason: str) -> Note:
    """Correct an issued invoice with a credit or debit note; the invoice itself never changes.

    The note reaches the carriers whose lines the invoice bills, as adjustments of their settlements.
    """
    if not actor.is_moderator:
        raise DomainError("Only moderators issue credit and debit notes.")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == Invoice.Status.DRAFT:
        raise DomainError("Drafts are corrected by running the period again, not with notes.")
    if kind not in Note.Kind.values or amount <= 0 or not reason.strip():
        raise DomainError("A note needs a positive amount and a reason.")
    if invoice.total <= 0:
        raise DomainError("Nothing was billed on this invoice, so no carrier's share can be corrected.")
    creditable = invoice_creditable(invoice)
    if kind == Note.Kind.CREDIT and round_money(amount) > creditable:
        raise DomainError(f"A credit note cannot exceed what is left to credit on the invoice ({creditable}).")
    series = "CN" if kind == Note.Kind.CREDIT else "DN"
    note = Note.objects.create(
        invoice=invoice,
        kind=kind,
        amount=round_money(amount),
        reason=reason.strip(),
        number=_next_number(series, timezone.now().year),
        created_by=actor,
    )
    adjustments = _note_adjust_settlements(note, invoice)
    _refresh_paid_state(invoice)
    audit_record(
        actor=actor,
        action=f"note.{kind}",
        obj=note,
        organization=invoice.buyer,
        after={
            "invoice": invoice.number,
            "amount": note.amount,
            "adjustments": [
                f"carrier {a.carrier_id}: {a.amount} less commission {a.commission}"
                f" on {f'settlement {a.settlement_id}' if a.settlement_id else 'the next settlement'}"
                for a in adjustments
            ],
        },
    )
    return note


def note_shares(invoice: Invoice, amount: Decimal) -> list[tuple[int, Decimal, Decimal]]:
    """Split a note's amount over the invoice's carriers pro rata to their lines: (carrier, share, commission).

    Shares are exact to the cent and add up to the amount: each carrier gets its share rounded down, and the cents
    left go one each to the largest remainders (ties to the lower carrier id). Commission on a share is at the
    carrier's own rate on the invoice (its lines' commission over its lines' amount), rounded half up once.
    """
    rows = [
        (row["carrier_id"], round_money(Decimal(row["gross"])), round_money(Decimal(row["commission"])))
        for row in InvoiceLine.objects.filter(invoice=invoice)
        .values("carrier_id")
        .annotate(gross=Sum("amount"), commission=Sum("commission"))
        .order_by("carrier_id")
    ]
    total = sum((gross for _, gross, _ in rows), ZERO)
    if total <= 0:
        return []
    exact = [amount * gross / total for _, gross, _ in rows]
    shares = [e.quantize(CENT, ROUND_DOWN) for e in exact]
    cents_left = int((amount - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(rows)), key=lambda i: (-(exact[i] - shares[i]), rows[i][0]))
    for i in by_remainder[:cents_left]:
        shares[i] += CENT
    return [
        (carrier_id, share, round_money(share * commission / gross) if gross else ZERO)
        for (carrier_id, gross, commission), share in zip(rows, shares, strict=True)
        if share
    ]


def _note_adjust_settlements(note: Note, invoice: Invoice) -> list[SettlementAdjustment]:
    """Give each carrier on the invoice its share of the note, on its settlement for the invoice's month while that
    is due, else on its next due one; with none due yet, the share waits for the carrier's next settlement."""
    sign = -1 if note.kind == Note.Kind.CREDIT else 1
    made = []
    for carrier_id, share, commission in note_shares(invoice, note.amount):
        # Locked without LIMIT: PostgreSQL re-checks a row paid out meanwhile and would then return none at all.
        due = list(
            Settlement.objects.select_for_update()
            .filter(
                carrier_id=carrier_id,
                currency=invoice.currency,
                status=Settlement.Status.DUE,
                period__gte=invoice.period,
            )
            .order_by("period")
        )
        settlement = due[0] if due else None
        adjustment = SettlementAdjustment.objects.create(
            note=note,
            carrier_id=carrier_id,
            currency=invoice.currency,
            amount=sign * share,
            commission=sign * commission,
            settlement=settlement,
        )
        if settlement is not None:
            _settlement_take(settlement, [adjustment])
        made.append(adjustment)
    return made


def _settlement_take(settlement: Settlement, adjustments: list[SettlementAdjustment], *, render: bool = True) -> None:
    """Add adjustments to a locked, due settlement; its statement is rendered (again) to show them."""
    settlement.adjustments += sum((a.amount for a in adjustments), ZERO)
    settlement.adjustment_commission += sum((a.commission for a in adjustments), ZERO)
    lines_net = settlement.gross - settlement.commission
    settlement.net = lines_net + settlement.adjustments - settlement.adjustment_commission
    settlement.statement_pdf = ""  # type: ignore[assignment]
    settlement.save(update_fields=["adjustments", "adjustment_commission", "net", "statement_pdf"])
    if not render:
        return
    from billing.tasks import settlement_render_pdf_task

    transaction.on_commit(lambda s=settlement.pk: settlement_render_pdf_task.delay(s))  # type: ignore[misc]


def settlement_adjustments_attach(*, actor: User | None, period: date) -> int:
    """Put waiting note adjustments on the period's new settlements of their carriers; idempotent.

    Called inside the finalisation's transaction. Only adjustments of notes on earlier months' invoices join:
    those wait because their own month's settlement was already paid out.
    """
    waiting = list(
        SettlementAdjustment.objects.select_for_update(of=("self",))
        .filter(settlement__isnull=True, note__invoice__period__lt=period)
        .order_by("id")
    )
    if not waiting:
        return 0
    settlements = {
        (s.carrier_id, s.currency): s
        for s in Settlement.objects.select_for_update().filter(period=period, status=Settlement.Status.DUE)
    }
    taken: dict[Settlement, list[SettlementAdjustment]] = defaultdict(list)
    for adjustment in waiting:
        settlement = settlements.get((adjustment.carrier_id, adjustment.currency))
        if settlement is not None:
            adjustment.settlement = settlement
            taken[settlement].append(adjustment)
    for settlement, adjustments in taken.items():
        SettlementAdjustment.objects.bulk_update(adjustments, ["settlement"])
        _settlement_take(settlement, adjustments, render=False)  # finalisation renders the period's statements
        audit_record(
            actor=actor,
            action="settlement.adjust",
            obj=settlement,
            organization=settlement.carrier,
            after={"notes": [a.note_id for a in adjustments], "net": settlement.net},
        )
    return sum(len(a) for a in taken.values())


# --- payments and settlements -------------------------------------------------------------------------


def _refresh_paid_state(invoice: Invoice) -> None:
    due = invoice_amount_due(invoice)
    status = Invoice.Status.PAID if due <= 0 else Invoice.Status.FINAL
    if invoice.status != status:
        invoice.status = status
        invoice.save(update_fields=["status"])


def _allocate(payment: Payment, invoices: Any, left: Decimal) -> list[PaymentAllocation]:
    """Allocate up to `left` of a locked payment to locked invoices in their order, each up to what it has due.

    The one place money meets invoices: an invoice is paid exactly when nothing is due on it any more.
    """
    made = []
    for inv in invoices:
        if left <= 0:
            break
        due = invoice_amount_due(inv)
        if due <= 0:
            continue
        part = min(due, left)
        made.append(PaymentAllocation.objects.create(payment=payment, invoice=inv, amount=part))
        inv.amount_paid += part
        inv.save(update_fields=["amount_paid"])
        _refresh_paid_state(inv)
        left -= part
    allocated = sum((a.amount for a in made), ZERO)
    if allocated:
        payment.unallocated -= allocated
        payment.save(update_fields=["unallocated"])
    return made


def _open_invoices(*, buyer_id: int, currency: str) -> Any:
    """A buyer's issued, unpaid invoices in one currency, locked, oldest due first, with their notes."""
    return (
        Invoice.objects.select_for_update(of=("self",))
        .filter(buyer_id=buyer_id, currency=currency, status=Invoice.Status.FINAL)
        .order_by("due_date", "number")
        .prefetch_related("notes")
    )


@transaction.atomic
def payment_record(
    *,
    actor: User,
    buyer: Organization,
    amount: Decimal,
    currency: str,
    received_on: date,
    reference: str,
    invoice: Invoice | None = None,
) -> Payment:
    """Record money from a buyer and allocate it: to the named invoice, or oldest issued invoices first."""
    if not actor.is_moderator:
        raise DomainError("Only moderators record payments.")
    if amount <= 0:
        raise DomainError("A payment is a positive amount.")
    if Payment.objects.filter(buyer=buyer, reference=reference.strip()).exists():
        raise DomainError(f"A payment with reference {reference} is already recorded for {buyer}.")
    payment = Payment.objects.create(
        buyer=buyer,
        amount=round_money(amount),
        unallocated=round_money(amount),
        currency=currency,
        received_on=received_on,
        reference=reference.strip(),
        recorded_by=actor,
    )
    open_invoices = _open_invoices(buyer_id=buyer.pk, currency=currency)
    if invoice is not None:
        if invoice.buyer_id != buyer.pk or invoice.currency != currency:
            raise DomainError("That invoice belongs to another buyer or currency.")
        open_invoices = open_invoices.filter(pk=invoice.pk)
    _allocate(payment, open_invoices, payment.amount)
    audit_record(
        actor=actor,
        action="payment.record",
        obj=payment,
        organization=buyer,
        after={"amount": payment.amount, "unallocated": payment.unallocated, "reference": payment.reference},
    )
    notify(
        recipients=list(User.objects.filter(membership__organization=buyer, membership__role="owner")),
        key=f"payment:{payment.pk}",
        kind="payment_received",
        subject=f"Payment {payment.reference} received",
        body=f"We received {payment.amount} {payment.currency}. Thank you.",
        url="/billing/invoices/",
    )
    return payment


@transaction.atomic
def payment_allocate(
    *, actor: User, payment: Payment, invoice: Invoice | None = None, amount: Decimal | None = None
) -> list[PaymentAllocation]:
    """Allocate a recorded payment's unallocated remainder: to the named invoice, or oldest due first.

    Without an amount, as much as is due, up to the remainder. An amount larger than the remainder, or than what
    the invoice (or, with none named, all the buyer's open invoices in the currency) has due, is refused.
    """
    if not actor.is_moderator:
        raise DomainError("Only moderators allocate payments.")
    # The payment's lock serialises allocations of it: two at once cannot both take the same remainder.
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.unallocated <= 0:
        raise DomainError(f"Payment {payment.reference} is fully allocated.")
    if amount is not None and (amount <= 0 or round_money(amount) != amount):
        raise DomainError("Allocate a positive amount in whole cents.")
    if amount is not None and amount > payment.unallocated:
        raise DomainError(
            f"Only {payment.unallocated} {payment.currency} of payment {payment.reference} is unallocated."
        )
    invoices = _open_invoices(buyer_id=payment.buyer_id, currency=payment.currency)
    if invoice is not None:
        if invoice.buyer_id != payment.buyer_id or invoice.currency != payment.currency:
            raise DomainError("That invoice belongs to another buyer or currency.")
        invoices = invoices.filter(pk=invoice.pk)
    locked = list(invoices)
    if invoice is not None and not locked:
        raise DomainError(f"Invoice {invoice.number or invoice.pk} is not open: nothing is due on it.")
    due = sum((max(invoice_amount_due(inv), ZERO) for inv in locked), ZERO)
    if due <= 0:
        raise DomainError(f"{payment.buyer} has nothing due in {payment.currency}.")
    if amount is not None and amount > due:
        where = f"invoice {invoice.number}" if invoice is not None else f"{payment.buyer}'s open invoices"
        raise DomainError(f"Only {due} {payment.currency} is due on {where}.")
    before = payment.unallocated
    made = _allocate(payment, locked, min(amount if amount is not None else due, payment.unallocated))
    audit_record(
        actor=actor,
        action="payment.allocate",
        obj=payment,
        organization=payment.buyer,
        before={"unallocated": before},
        after={
            "unallocated": payment.unallocated,
            "allocations": [f"{a.invoice.number}: {a.amount}" for a in made],
        },
    )
    return made


def payments_apply_credit(*, actor: User | None, invoices: list[Invoice]) -> list[PaymentAllocation]:
    """Apply buyers' unallocated payments to newly issued invoices, oldest payment to oldest due; idempotent.

    Called inside the finalisation's transaction: the invoices are issued with their credit applied, or not at all.
    """
    wanted = {(i.buyer_id, i.currency) for i in invoices if i.status == Invoice.Status.FINAL}
    if not wanted:
        return []
    payments = list(
        Payment.objects.select_for_update()
        .filter(unallocated__gt=0, buyer_id__in={b for b, _ in wanted})
        .order_by("received_on", "id")
    )
    ids = [i.pk for i in invoices]
    made: list[PaymentAllocation] = []
    for payment in payments:
        if (payment.buyer_id, payment.currency) not in wanted:
            continue
        before = payment.unallocated
        open_invoices = _open_invoices(buyer_id=payment.buyer_id, currency=payment.currency).filter(pk__in=ids)
        allocated = _allocate(payment, open_invoices, payment.unallocated)
        if allocated:
            audit_record(
                actor=actor,
                action="payment.allocate",
                obj=payment,
                organization=payment.buyer,
                before={"unallocated": before},
                after={
                    "unallocated": payment.unallocated,
                    "allocations": [f"{a.invoice.number}: {a.amount}" for a in allocated],
                    "automatic": True,
                },
            )
            made.extend(allocated)
    return made


@transaction.atomic
def settlement_mark_paid(*, actor: User, settlement: Settlement, reference: str) -> Settlement:
    """Record that the moderator paid the carrier its net amount for the period."""
    if not actor.is_moderator:
        raise DomainError("Only moderators pay out settlements.")
    s = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if s.status == Settlement.Status.PAID:
        raise DomainError("This settlement is already paid.")
    if not reference.strip():
        raise DomainError("Give the payment reference of the transfer.")
    s.status = Settlement.Status.PAID
    s.paid_at = timezone.now()
    s.paid_reference = reference.strip()
    s.save(update_fields=["status", "paid_at", "paid_reference"])
    audit_record(
        actor=actor,
        action="settlement.paid",
        obj=s,
        organization=s.carrier,
        after={"net": s.net, "reference": s.paid_reference},
    )
    notify(
        recipients=list(
            User.objects.filter(membership__organization=s.carrier, membership__role__in=["admin", "billing"])
        ),
        key=f"settlement-paid:{s.pk}",
        kind="settlement_paid",
        subject=f"Settlement for {s.period:%B %Y} paid",
        body=f"We paid {s.net} {s.currency} (reference {s.paid_reference}).",
        url="/billing/settlements/",
    )
    return s


def period_from_string(value: str) -> date:
    """Parse '2026-10' into the first day of that month, or raise DomainError."""
    import re

    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    # Billing began this century: a year outside it is a slip, and 0000 or 9999-12 would break the date arithmetic.
    if not match or not 2000 <= int(match.group(1)) <= 2999 or not 1 <= int(match.group(2)) <= 12:
        raise DomainError("Give the period as YYYY-MM, e.g. 2026-10.")
    return date(int(match.group(1)), int(match.group(2)), 1)
