"""Access rules for the billing app's URLs (see access_table_base.py for the vocabulary).

Objects belong to the cast's buyer_org (contract, invoice) and carrier_org (usage import, settlement).
Billing staff (moderator, billing agent) see all billing data; only the moderator records payments, issues
notes, pays out settlements and sets commission (the agent gets 403). A carrier's admin and billing staff see
its contracts, upload and read its usage, and see the invoice lines it supplied and its settlements; carrier
sales staff see contracts only (403 on usage, lines and settlements). Buyers see their own contracts and
invoices; a carrier never sees a buyer's invoice. Only staff reach bill runs, payments, commission and the
ledger (404 to carriers). "billing:home" is declared in access_table.py.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.security.access_table_base import SIGNED_IN, Entry, allow

STAFF = ("moderator", "billing_agent")
MODERATOR_WRITES = allow("moderator", forbidden=("billing_agent",))
FINANCE = ("seller_admin", "seller_billing")
CARRIER_FINANCE = allow(*FINANCE, "other_seller", *STAFF, forbidden=("seller_sales",))
OWN_CARRIER_FINANCE = allow(*FINANCE, *STAFF, forbidden=("seller_sales",))
PERIOD = {"period": "2026-10"}


def _contract(cast: Cast) -> dict[str, Any]:
    from tests.billing import world

    return {"pk": world.contract(cast).pk}


def _invoice(cast: Cast) -> dict[str, Any]:
    from tests.billing import world

    built = world.build(cast, pdf=True)
    assert built.invoice is not None
    return {"pk": built.invoice.pk}


def _invoice_no_pdf(cast: Cast) -> dict[str, Any]:
    from tests.billing import world

    built = world.build(cast)
    assert built.invoice is not None
    return {"pk": built.invoice.pk}


def _import(cast: Cast) -> dict[str, Any]:
    from tests.billing import world

    return {"pk": world.build(cast, finalize=False).usage_import.pk}


def _settlement(cast: Cast) -> dict[str, Any]:
    from tests.billing import world

    built = world.build(cast, pdf=True)
    assert built.settlement is not None
    return {"pk": built.settlement.pk}


def _settlement_no_pdf(cast: Cast) -> dict[str, Any]:
    from tests.billing import world

    built = world.build(cast)
    assert built.settlement is not None
    return {"pk": built.settlement.pk}


def _payment(cast: Cast) -> dict[str, Any]:
    """A payment with 766.13 unallocated and an open invoice to allocate it to (50.00 due after a debit note)."""
    from datetime import date
    from decimal import Decimal

    from billing import services
    from tests.billing import world

    built = world.build(cast)
    assert built.invoice is not None
    payment = services.payment_record(
        actor=cast.moderator,
        buyer=cast.buyer_org,
        amount=Decimal("2000.00"),
        currency="GBP",
        received_on=date(2026, 11, 20),
        reference="ACCESS-1",
    )
    services.note_create(
        actor=cast.moderator, invoice=built.invoice, kind="debit", amount=Decimal("50.00"), reason="Missed charge"
    )
    return {"pk": payment.pk}


def _make_reseller(cast: Cast) -> None:
    from buyers.models import BuyerProfile

    BuyerProfile.objects.update_or_create(organization=cast.buyer_org, defaults={"is_reseller": True})


BILLING_TABLE: dict[str, Entry] = {
    # Billing staff: bill runs, commission, payments, the ledger.
    "billing:bill_run_choose": Entry(allow(*STAFF), query="?period=2026-10"),
    "billing:bill_run": Entry(allow(*STAFF), kwargs=lambda c: PERIOD),
    "billing:bill_run_progress": Entry(allow(*STAFF), kwargs=lambda c: PERIOD),
    "billing:bill_run_preview": Entry(allow(*STAFF), kwargs=lambda c: PERIOD, method="POST"),
    "billing:bill_run_execute": Entry(allow(*STAFF), kwargs=lambda c: PERIOD, method="POST"),
    "billing:bill_run_finalize": Entry(
        allow(*STAFF), kwargs=lambda c: PERIOD, method="POST", note="without the confirmation: 400, nothing issued"
    ),
    "billing:commission_list": Entry(allow(*STAFF)),
    "billing:commission_set": Entry(
        MODERATOR_WRITES, kwargs=lambda c: {"pk": c.carrier_org.pk}, method="POST", data=lambda c: {"percent": "7"}
    ),
    "billing:payment_list": Entry(allow(*STAFF)),
    "billing:payment_create": Entry(MODERATOR_WRITES, method="POST", note="empty form: 400"),
    "billing:payment_import": Entry(MODERATOR_WRITES, method="POST", note="no file: 400"),
    "billing:payment_detail": Entry(allow(*STAFF), kwargs=_payment),
    "billing:payment_allocate": Entry(
        MODERATOR_WRITES, kwargs=_payment, method="POST", note="empty form: the remainder goes to the oldest due"
    ),
    "billing:ledger": Entry(allow(*STAFF)),
    # Contracts: every buyer and carrier lists its own; the detail only to its parties and staff.
    "billing:contract_list": Entry(SIGNED_IN),
    "billing:contract_detail": Entry(
        allow("buyer_owner", "buyer_member", "seller_admin", "seller_sales", "seller_billing", *STAFF),
        kwargs=_contract,
    ),
    # Invoices: the buyer's own and staff; carriers never see a buyer's invoice.
    "billing:invoice_list": Entry(allow("buyer_owner", "buyer_member", "other_buyer", *STAFF)),
    "billing:invoice_detail": Entry(allow("buyer_owner", "buyer_member", *STAFF), kwargs=_invoice_no_pdf),
    "billing:invoice_pdf": Entry(allow("buyer_owner", "buyer_member", *STAFF), kwargs=_invoice),
    "billing:note_create": Entry(
        MODERATOR_WRITES, kwargs=_invoice_no_pdf, method="POST", note="empty form: 400, no note issued"
    ),
    "billing:invoice_mark_posted": Entry(
        allow(*STAFF), kwargs=_invoice_no_pdf, method="POST", note="an e-mailed invoice: refused with a message"
    ),
    # Usage: the carrier's admin and billing staff upload and read it; billing staff read every carrier's.
    "billing:usage_import_list": Entry(CARRIER_FINANCE),
    "billing:usage_import_create": Entry(CARRIER_FINANCE, method="POST", note="no file: 400"),
    "billing:usage_format": Entry(CARRIER_FINANCE),
    "billing:usage_import_detail": Entry(OWN_CARRIER_FINANCE, kwargs=_import),
    "billing:usage_import_progress": Entry(OWN_CARRIER_FINANCE, kwargs=_import),
    # Settlements and the lines a carrier supplied.
    "billing:settlement_list": Entry(CARRIER_FINANCE),
    "billing:settlement_detail": Entry(OWN_CARRIER_FINANCE, kwargs=_settlement_no_pdf),
    "billing:settlement_statement": Entry(OWN_CARRIER_FINANCE, kwargs=_settlement),
    "billing:settlement_mark_paid": Entry(
        allow("moderator", forbidden=("billing_agent", "seller_admin", "seller_sales", "seller_billing")),
        kwargs=_settlement_no_pdf,
        method="POST",
        note="no reference: 400",
    ),
    "billing:carrier_lines": Entry(allow(*FINANCE, "other_seller", forbidden=("seller_sales",))),
    # Resellers: usage and charges per end customer.
    "billing:reseller_usage": Entry(allow("buyer_owner", "buyer_member"), setup=_make_reseller),
    "billing:reseller_usage_csv": Entry(allow("buyer_owner", "buyer_member"), setup=_make_reseller),
}
