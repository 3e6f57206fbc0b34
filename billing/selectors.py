"""Reads for billing: access per actor, and what invoices and statements show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.http import Http404

from billing.models import Contract, Invoice, InvoiceLine, Settlement
from marketplace.models import Organization, User
from marketplace.selectors import membership_for_user


def is_billing_staff(user: User) -> bool:
    """Moderators and billing agents run bills and see billing data."""
    if getattr(user, "is_moderator", False):
        return True
    membership = membership_for_user(user)
    return membership is not None and membership.organization.kind == Organization.Kind.BUREAU


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """What an invoice shows: the parties, lines grouped by request and site, usage summary, totals."""
    lines = list(
        invoice.lines.select_related("contract__rfq", "rate_line__site", "rate_line__service_type", "carrier").order_by(
            "position"
        )
    )
    groups: dict[str, list[InvoiceLine]] = {}
    for line in lines:
        key = line.contract.rfq.reference if line.contract.rfq else line.contract.number
        groups.setdefault(key, []).append(line)
    usage = [line for line in lines if line.kind in ("usage", "adjustment")]
    return {
        "invoice": invoice,
        "buyer": invoice.buyer,
        "groups": groups,
        "usage": usage,
        "commission": sum((line.commission for line in lines), Decimal(0)),
    }


def settlement_context(settlement: Settlement) -> dict[str, Any]:
    lines = (
        InvoiceLine.objects.filter(
            carrier=settlement.carrier, invoice__period=settlement.period, invoice__currency=settlement.currency
        )
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .select_related("invoice", "contract")
        .order_by("invoice__number", "position")
    )
    return {"settlement": settlement, "carrier": settlement.carrier, "lines": lines}


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


def ledger() -> dict[str, Decimal]:
    """Reconciliation: what buyers paid = carriers paid out + commission kept + what is held for carriers."""
    from billing.models import PaymentAllocation

    received = PaymentAllocation.objects.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    paid_out = Settlement.objects.filter(status=Settlement.Status.PAID).aggregate(s=Sum("net"))["s"] or Decimal(0)
    billed = InvoiceLine.objects.exclude(invoice__status=Invoice.Status.DRAFT).aggregate(
        gross=Sum("amount"), commission=Sum("commission")
    )
    return {
        "billed": billed["gross"] or Decimal(0),
        "received": received,
        "paid_out": paid_out,
        "commission_billed": billed["commission"] or Decimal(0),
    }
