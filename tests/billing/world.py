"""A billed world for the view tests and the access table: the cast's buyer has a contract with the cast's
carrier, usage for October 2026 and, when asked, October finalised with PDFs rendered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing import services
from billing.models import Contract, Invoice, Settlement, UsageImport
from tests.billing.conftest import make_contract, usage_csv
from tests.conftest import Cast

OCT = date(2026, 10, 1)
ROWS = [
    ("d1", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-13T00:00:00Z", "4000", "GB"),
    ("d2", "CT-ACME01", "2026-10-20T00:00:00Z", "2026-10-21T00:00:00Z", "2000", "GB"),
    ("v1", "CT-ACME01", "2026-10-12T09:00:00Z", "2026-10-12T09:02:00Z", "1.2", "minute"),
]


@dataclass
class World:
    contract: Contract
    usage_import: UsageImport
    invoice: Invoice | None = None
    settlement: Settlement | None = None


def contract(cast: Cast) -> Contract:
    from tests.rfq import builders

    found = Contract.objects.filter(number="CT-ACME01").first()
    if found is not None:
        return found
    site = builders.site(cast.buyer_org, "Leeds office")
    return make_contract(
        cast.buyer_org,
        cast.carrier_org,
        number="CT-ACME01",
        start=date(2026, 10, 11),
        end=date(2028, 10, 11),
        lines=[
            {
                "code": "internet-dedicated",
                "description": "Leased line at Leeds office",
                "site": site,
                "monthly_charge": Decimal("310.00"),
                "one_time_charge": Decimal("900.00"),
                "usage_unit": "GB",
                "usage_rate": Decimal("0.02"),
                "tiers": [("1000", "0.015"), ("5000", "0.01")],
            },
            {
                "code": "voice-sip-trunking",
                "description": "SIP trunk at Leeds office",
                "site": site,
                "usage_unit": "minute",
                "usage_rate": Decimal("0.05"),
                "increment": Decimal("1"),
                "minimum_commitment": Decimal("50.00"),
            },
        ],
    )


def upload(cast: Cast, rows: list[tuple[str, ...]] = ROWS, name: str = "october.csv") -> UsageImport:
    outcome = services.usage_import_create(
        actor=cast.seller_admin, carrier=cast.carrier_org, source="carrier", filename=name, data=usage_csv(rows)
    )
    if outcome.already_imported:
        return outcome.usage_import
    return services.usage_import_run(import_id=outcome.usage_import.pk)


def build(cast: Cast, *, finalize: bool = True, pdf: bool = False) -> World:
    """The contract, October's usage and, with finalize, October issued (PDFs rendered inline with pdf)."""
    world = World(contract=contract(cast), usage_import=upload(cast))
    if not finalize:
        return world
    services.bill_run_execute(period=OCT, actor=cast.moderator)
    services.bill_run_finalize(actor=cast.moderator, period=OCT)
    world.invoice = Invoice.objects.get(period=OCT, buyer=cast.buyer_org)
    world.settlement = Settlement.objects.get(period=OCT, carrier=cast.carrier_org)
    if pdf:
        from billing.pdf import invoice_publish, settlement_statement_render

        invoice_publish(invoice_id=world.invoice.pk)
        settlement_statement_render(settlement_id=world.settlement.pk)
        world.invoice.refresh_from_db()
        world.settlement.refresh_from_db()
    return world
