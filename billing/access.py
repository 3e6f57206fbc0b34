"""Who may see which billing data: one access function per actor and object, plus the reads the pages need.

Buyers see their own contracts and invoices. Carriers see their contracts; their admin and billing staff also
see the invoice lines the carrier supplied (never a whole buyer invoice, never another carrier's line), their
usage imports and settlements; carrier sales staff see contracts only (403 on the money pages).
Moderators and billing agents (billing staff) see all billing data; only moderators record payments, issue
notes, pay out settlements and set commission (billing agents get 403 there).
Everything else is 404, exactly like a page that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from billing.models import (
    BillRun,
    Contract,
    Invoice,
    InvoiceLine,
    Note,
    Payment,
    Settlement,
    UsageImport,
    UsageRecord,
)
from billing.money import round_money
from billing.selectors import RequestHead, invoice_context, is_billing_staff, ledger
from marketplace.models import Membership, Organization, User
from marketplace.selectors import membership_for_user

STAFF, BUYER, CARRIER = "staff", "buyer", "carrier"
CARRIER_FINANCE_ROLES = (Membership.Role.ADMIN, Membership.Role.BILLING)
LAYOUTS = {STAFF: "layouts/billing.html", BUYER: "layouts/buyer.html", CARRIER: "layouts/seller.html"}


@dataclass(frozen=True)
class BillingActor:
    """Who is looking at billing pages, from where, and what their role lets them do."""

    user: User
    area: str
    organization: Organization | None = None
    role: str = ""

    @property
    def is_staff(self) -> bool:
        return self.area == STAFF

    @property
    def is_moderator(self) -> bool:
        return self.is_staff and self.user.is_moderator

    @property
    def is_carrier_finance(self) -> bool:
        return self.area == CARRIER and self.role in CARRIER_FINANCE_ROLES

    @property
    def layout(self) -> str:
        return LAYOUTS[self.area]

    @property
    def is_reseller(self) -> bool:
        from buyers.selectors import is_reseller

        return self.area == BUYER and self.organization is not None and is_reseller(self.organization)


def billing_actor_get(*, user: User) -> BillingActor:
    """Return the billing actor for any buyer, carrier or billing staff user; anyone else gets Http404."""
    if is_billing_staff(user):
        return BillingActor(user, STAFF)
    membership = membership_for_user(user)
    if membership is None:
        raise Http404("No such page.")
    kind = membership.organization.kind
    if kind == Organization.Kind.BUYER:
        return BillingActor(user, BUYER, membership.organization, membership.role)
    if kind == Organization.Kind.CARRIER:
        return BillingActor(user, CARRIER, membership.organization, membership.role)
    raise Http404("No such page.")


def staff_get(*, user: User) -> BillingActor:
    """Return a moderator or billing agent; anyone else gets Http404."""
    if not is_billing_staff(user):
        raise Http404("No such page.")
    return BillingActor(user, STAFF)


def moderator_writer_get(*, user: User) -> BillingActor:
    """Return a moderator; a billing agent may look but not act (PermissionDenied); others get Http404."""
    actor = staff_get(user=user)
    if not actor.is_moderator:
        raise PermissionDenied("Only the marketplace's moderators can do this.")
    return actor


def buyer_get(*, user: User) -> BillingActor:
    """Return a member of a buyer organisation; anyone else gets Http404."""
    actor = billing_actor_get(user=user)
    if actor.area != BUYER:
        raise Http404("No such page.")
    return actor


def finance_reader_get(*, user: User) -> BillingActor:
    """Billing staff, or a carrier's admin/billing staff (sales: PermissionDenied); others Http404."""
    actor = billing_actor_get(user=user)
    if actor.area == BUYER:
        raise Http404("No such page.")
    if actor.area == CARRIER and not actor.is_carrier_finance:
        raise PermissionDenied("Only the carrier's admin and billing staff see billing figures.")
    return actor


def invoice_reader_get(*, user: User) -> BillingActor:
    """A buyer's member or billing staff, who read invoices; carriers (who never see a buyer's invoice) Http404."""
    actor = billing_actor_get(user=user)
    if actor.area == CARRIER:
        raise Http404("No such page.")
    return actor


def carrier_finance_get(*, user: User) -> BillingActor:
    """A carrier's admin or billing staff (sales: PermissionDenied); anyone else, staff included, Http404."""
    actor = billing_actor_get(user=user)
    if actor.area != CARRIER:
        raise Http404("No such page.")
    if not actor.is_carrier_finance:
        raise PermissionDenied("Only the carrier's admin and billing staff see billing figures.")
    return actor


def reseller_get(*, user: User) -> BillingActor:
    """Return a member of a reseller buyer; anyone else (other buyers too) gets Http404."""
    from buyers.selectors import is_reseller

    actor = buyer_get(user=user)
    assert actor.organization is not None  # noqa: S101
    if not is_reseller(actor.organization):
        raise Http404("No such page.")
    return actor


# --- contracts ---------------------------------------------------------------------------------------


def contracts_for_actor(actor: BillingActor) -> QuerySet[Contract]:
    """Buyers see their contracts, carriers theirs, billing staff all, newest first."""
    base = Contract.objects.select_related("buyer", "carrier", "rfq", "end_customer").annotate(
        line_count=Count("rate_lines")
    )
    if actor.area == BUYER:
        base = base.filter(buyer=actor.organization)
    elif actor.area == CARRIER:
        base = base.filter(carrier=actor.organization)
    return base.order_by("-start_date", "number")


def contract_get_for_user(*, user: User, pk: int) -> tuple[BillingActor, Contract]:
    """Return a contract its buyer, its carrier or billing staff may see, or raise Http404."""
    actor = billing_actor_get(user=user)
    contract = (
        contracts_for_actor(actor)
        .prefetch_related("rate_lines__tiers", "rate_lines__site", "rate_lines__service_type")
        .filter(pk=pk)
        .first()
    )
    if contract is None:
        raise Http404("No such contract.")
    return actor, contract


# --- invoices ----------------------------------------------------------------------------------------


def invoices_for_actor(actor: BillingActor) -> QuerySet[Invoice]:
    """Buyers see their issued invoices; billing staff see every invoice, drafts included."""
    base = Invoice.objects.select_related("buyer", "carrier", "end_customer")
    if actor.area == BUYER:
        return base.filter(buyer=actor.organization).exclude(status=Invoice.Status.DRAFT)
    if actor.is_staff:
        return base
    raise Http404("No such page.")


def invoice_get_for_user(*, user: User, pk: int) -> tuple[BillingActor, Invoice]:
    """Return an invoice to its buyer (issued only) or to billing staff; carriers and others get Http404."""
    actor = invoice_reader_get(user=user)
    invoice = invoices_for_actor(actor).filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return actor, invoice


def invoice_issued_get_for_moderator(*, user: User, pk: int) -> Invoice:
    """Return an issued invoice a moderator may correct with a note; billing agents get PermissionDenied."""
    moderator_writer_get(user=user)
    invoice = Invoice.objects.select_related("buyer").filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def invoice_issued_get_for_staff(*, user: User, pk: int) -> Invoice:
    """Return an issued invoice to billing staff, who post paper copies; everyone else gets Http404."""
    staff_get(user=user)
    invoice = Invoice.objects.select_related("buyer").exclude(status=Invoice.Status.DRAFT).filter(pk=pk).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def amount_due(invoice: Invoice, notes: list[Note]) -> Decimal:
    credits = sum((n.amount for n in notes if n.kind == Note.Kind.CREDIT), Decimal(0))
    debits = sum((n.amount for n in notes if n.kind == Note.Kind.DEBIT), Decimal(0))
    return invoice.total - credits + debits - invoice.amount_paid


def invoice_page(invoice: Invoice) -> dict[str, Any]:
    """An invoice's lines by request and site, its usage summary, notes, payments and what is still due."""
    context = invoice_context(invoice)
    by_request: dict[RequestHead, dict[str, list[InvoiceLine]]] = {}
    for reference, lines in context["groups"].items():
        sites: dict[str, list[InvoiceLine]] = {}
        for line in lines:
            site = line.rate_line.site
            sites.setdefault(site.name if site else "All sites", []).append(line)
        by_request[reference] = sites
    notes = list(invoice.notes.all())
    return {
        **context,
        "by_request": by_request,
        "notes": notes,
        "allocations": list(invoice.allocations.select_related("payment").order_by("payment__received_on")),
        "amount_due": amount_due(invoice, notes),
    }


def invoice_lines_for_carrier(actor: BillingActor) -> QuerySet[InvoiceLine]:
    """The lines a carrier supplied on issued invoices: never another carrier's line, never the whole invoice."""
    if not actor.is_carrier_finance:
        raise PermissionDenied("Only the carrier's admin and billing staff see billing figures.")
    return (
        InvoiceLine.objects.filter(carrier=actor.organization)
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .select_related("invoice", "contract", "rate_line__site")
        .order_by("-invoice__period", "invoice__number", "position")
    )


# --- usage imports -----------------------------------------------------------------------------------


def usage_imports_for_actor(actor: BillingActor) -> QuerySet[UsageImport]:
    base = UsageImport.objects.select_related("carrier", "uploaded_by")
    if actor.area == CARRIER:
        return base.filter(carrier=actor.organization)
    return base


def usage_import_get_for_user(*, user: User, pk: int) -> tuple[BillingActor, UsageImport]:
    """Return an import to billing staff or its carrier's admin/billing staff, or raise Http404."""
    actor = billing_actor_get(user=user)
    if actor.area == BUYER:
        raise Http404("No such import.")
    found = usage_imports_for_actor(actor).filter(pk=pk).first()
    if found is None:
        raise Http404("No such import.")
    if actor.area == CARRIER and not actor.is_carrier_finance:
        raise PermissionDenied("Only the carrier's admin and billing staff import usage.")
    return actor, found


# --- settlements -------------------------------------------------------------------------------------


def settlements_for_actor(actor: BillingActor) -> QuerySet[Settlement]:
    base = Settlement.objects.select_related("carrier")
    if actor.area == CARRIER:
        return base.filter(carrier=actor.organization)
    return base


def settlement_get_for_user(*, user: User, pk: int) -> tuple[BillingActor, Settlement]:
    """Return a settlement to billing staff or its carrier's admin/billing staff (sales: 403), else Http404."""
    actor = billing_actor_get(user=user)
    if actor.area == BUYER:
        raise Http404("No such settlement.")
    settlement = settlements_for_actor(actor).filter(pk=pk).first()
    if settlement is None:
        raise Http404("No such settlement.")
    if actor.area == CARRIER and not actor.is_carrier_finance:
        raise PermissionDenied("Only the carrier's admin and billing staff see settlements.")
    return actor, settlement


def settlement_get_for_payout(*, user: User, pk: int) -> Settlement:
    """Return a settlement a moderator may mark paid; its carrier and billing agents get PermissionDenied."""
    actor, settlement = settlement_get_for_user(user=user, pk=pk)
    if not actor.is_moderator:
        raise PermissionDenied("Only the marketplace's moderators pay out settlements.")
    return settlement


# --- bill runs ---------------------------------------------------------------------------------------


def bill_run_for_period(period: date) -> BillRun | None:
    return BillRun.objects.filter(period=period).first()


def draft_invoices(period: date) -> QuerySet[Invoice]:
    """The period's invoices sorted by buyer, with their lines, for review."""
    return (
        Invoice.objects.filter(period=period)
        .select_related("buyer", "carrier", "end_customer")
        .prefetch_related("lines__carrier")
        .order_by("buyer__name", "buyer_id", "group_key")
    )


def bill_run_preview(*, period: date, actor: User) -> dict[str, Any]:
    """What a run of the period would produce, per buyer; the run happens and is rolled back, nothing stays."""
    from billing.services import bill_run_execute

    with transaction.atomic():
        # Rolled back below; it shows no progress on the run page and tells nobody.
        summary = bill_run_execute(period=period, actor=actor, report=False)
        rows: list[dict[str, Any]] = [
            dict(row)
            for row in Invoice.objects.filter(period=period)
            .values("buyer_id", "buyer__name", "currency")
            .annotate(invoices=Count("id"), total=Sum("total"))
            .order_by("buyer__name", "buyer_id", "currency")
        ]
        lines = dict(
            InvoiceLine.objects.filter(invoice__period=period)
            .values("invoice__buyer_id")
            .annotate(n=Count("id"))
            .values_list("invoice__buyer_id", "n")
        )
        transaction.set_rollback(True)
    for row in rows:
        row["lines"] = lines.get(row["buyer_id"], 0)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += row["total"] or Decimal(0)
    return {"summary": summary, "buyers": rows, "totals": dict(totals)}


# --- payments and the ledger -------------------------------------------------------------------------


def payments_list() -> QuerySet[Payment]:
    return (
        Payment.objects.select_related("buyer", "recorded_by")
        .annotate(allocated=Coalesce(Sum("allocations__amount"), Decimal(0)))
        .order_by("-received_on", "-id")
    )


def payment_get_for_staff(*, user: User, pk: int) -> tuple[BillingActor, Payment]:
    """Return a payment to billing staff, with its buyer; everyone else gets Http404."""
    actor = staff_get(user=user)
    payment = payments_list().filter(pk=pk).first()
    if payment is None:
        raise Http404("No such payment.")
    return actor, payment


def payment_get_for_allocation(*, user: User, pk: int) -> Payment:
    """Return a payment a moderator may allocate; billing agents get PermissionDenied, others Http404."""
    actor, payment = payment_get_for_staff(user=user, pk=pk)
    if not actor.is_moderator:
        raise PermissionDenied("Only the marketplace's moderators allocate payments.")
    return payment


def payment_page(payment: Payment) -> dict[str, Any]:
    """A payment's allocations, and the buyer's open invoices in its currency with what each has due."""
    allocations = list(payment.allocations.select_related("invoice").order_by("invoice__due_date", "id"))
    open_invoices = list(
        Invoice.objects.filter(buyer_id=payment.buyer_id, currency=payment.currency, status=Invoice.Status.FINAL)
        .prefetch_related("notes")
        .order_by("due_date", "number")
    )
    for invoice in open_invoices:
        invoice.due = amount_due(invoice, list(invoice.notes.all()))  # type: ignore[attr-defined]
    return {"payment": payment, "allocations": allocations, "open_invoices": open_invoices}


def ledger_page() -> dict[str, Any]:
    """The ledger, one book per currency, and the checks that show whether each reconciles, with the difference.

    Buyers: received (allocations) + still owed (invoices: total + debit notes - credit notes - paid)
    = billed (issued lines) + debit notes - credit notes.
    Carriers: paid out + owed (due settlements, and note shares no settlement has taken yet) + commission (on lines
    and on note shares) = billed + debit notes - credit notes.
    Notes: the carriers' shares of notes = debit notes - credit notes.
    Payments: recorded = allocated to invoices + unallocated.
    """
    books = []
    for currency, figures in ledger().items():
        book: dict[str, Any] = {k: round_money(Decimal(v)) for k, v in figures.items()}  # SQLite sums as floats
        book["currency"] = currency
        notes_net = book["debit_notes"] - book["credit_notes"]
        book["corrected"] = book["billed"] + notes_net
        book["outstanding"] = book["invoiced"] + notes_net - book["paid_on_invoices"]
        book["held"] = book["received"] - book["paid_out"]
        book["owed_to_carriers"] += book["waiting_shares"] - book["waiting_commission"]
        book["commission"] = book["settled_commission"] + book["settled_adjustment_commission"]
        book["commission"] += book["waiting_commission"]
        book["carriers_share"] = book["paid_out"] + book["owed_to_carriers"]
        book["checks"] = [
            _check(
                "Received + still owed by buyers = billed + debit notes − credit notes",
                book["received"] + book["outstanding"],
                book["corrected"],
            ),
            _check(
                "Paid out + owed to carriers + commission = billed + debit notes − credit notes",
                book["carriers_share"] + book["commission"],
                book["corrected"],
            ),
            _check("Carriers' shares of notes = debit notes − credit notes", book["note_shares"], notes_net),
            _check(
                "Payments recorded = allocated to invoices + unallocated",
                book["payments"],
                book["received"] + book["unallocated"],
            ),
        ]
        book["reconciles"] = all(c["ok"] for c in book["checks"])
        books.append(book)
    return {"books": books, "reconciles": all(b["reconciles"] for b in books)}


def _check(label: str, left: Decimal, right: Decimal) -> dict[str, Any]:
    return {"label": label, "left": left, "right": right, "difference": left - right, "ok": left == right}


# --- resellers ---------------------------------------------------------------------------------------


def reseller_usage(*, organization: Organization, period: date | None) -> list[dict[str, Any]]:
    """Usage per end customer, period and unit: the record's end customer, else its site's."""
    records = UsageRecord.objects.filter(buyer_id=organization.pk)
    if period is not None:
        records = records.filter(bill_period=period)
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in records.annotate(customer=Coalesce(F("end_customer_id"), F("rate_line__site__end_customer_id")))
        .values("customer", "bill_period", "unit")
        .annotate(quantity=Sum("quantity"), records=Count("*"))
        .order_by("bill_period", "customer", "unit")
    ]
    for row in rows:
        row["end_customer_id"] = row.pop("customer")
    _attach_end_customers(organization, rows)
    return rows


def reseller_charges(*, organization: Organization, period: date | None) -> list[dict[str, Any]]:
    """Issued charges per end customer and period: the invoice's end customer, else the site's."""
    lines = InvoiceLine.objects.filter(invoice__buyer=organization).exclude(invoice__status=Invoice.Status.DRAFT)
    if period is not None:
        lines = lines.filter(invoice__period=period)
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in lines.annotate(
            customer=Coalesce(F("invoice__end_customer_id"), F("rate_line__site__end_customer_id"))
        )
        .values("customer", "invoice__period", "invoice__currency")
        .annotate(amount=Sum("amount"), lines=Count("id"))
        .order_by("invoice__period", "customer")
    ]
    for row in rows:
        row["end_customer_id"] = row.pop("customer")
    _attach_end_customers(organization, rows)
    return rows


def reseller_charge_lines(*, organization: Organization, period: date | None) -> QuerySet[InvoiceLine]:
    """Every issued line of the reseller with its end customer, for the rebilling export."""
    lines = InvoiceLine.objects.filter(invoice__buyer=organization).exclude(invoice__status=Invoice.Status.DRAFT)
    if period is not None:
        lines = lines.filter(invoice__period=period)
    return lines.select_related(
        "invoice__end_customer", "rate_line__site__end_customer", "contract", "carrier"
    ).order_by("invoice__period", "invoice__number", "position")


def _attach_end_customers(organization: Organization, rows: list[dict[str, Any]]) -> None:
    from buyers.models import EndCustomer

    ids = {r["end_customer_id"] for r in rows if r["end_customer_id"]}
    customers = {c.pk: c for c in EndCustomer.objects.filter(reseller=organization, pk__in=ids)}
    for row in rows:
        row["end_customer"] = customers.get(row["end_customer_id"])
