from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billing.models import Contract, RateLine, RateTier
from marketplace.models import Organization, ServiceType
from tests.rfq import builders


def make_contract(
    buyer: Organization,
    carrier: Organization,
    *,
    number: str,
    start: date,
    end: date,
    lines: list[dict[str, Any]],
    carrier_grouping: str = "combined",
    invoice_grouping: str = "consolidated",
    commission: str = "5.00",
    currency: str = "GBP",
) -> Contract:
    contract = Contract.objects.create(
        number=number,
        buyer=buyer,
        carrier=carrier,
        currency=currency,
        start_date=start,
        end_date=end,
        carrier_grouping=carrier_grouping,
        invoice_grouping=invoice_grouping,
        commission_percent=Decimal(commission),
        payment_terms_days=30,
    )
    for spec in lines:
        tiers = spec.pop("tiers", [])
        line = RateLine.objects.create(
            contract=contract,
            service_type=ServiceType.objects.get(code=spec.pop("code")),
            description=spec.pop("description", "Service"),
            **spec,
        )
        for threshold, rate in tiers:
            RateTier.objects.create(rate_line=line, threshold=Decimal(threshold), rate=Decimal(rate))
    return contract


@pytest.fixture
def billing_world(cast):  # type: ignore[no-untyped-def]
    """Acme buys a leased line with metered data and SIP minutes from Northwind, from 11 October 2026."""
    site = builders.site(cast.buyer_org, "Leeds office")
    contract = make_contract(
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
                "monthly_charge": Decimal("0"),
                "usage_unit": "minute",
                "usage_rate": Decimal("0.05"),
                "increment": Decimal("1"),
                "minimum_commitment": Decimal("50.00"),
            },
        ],
    )
    cast.contract = contract
    cast.site = site
    return cast


def usage_csv(
    rows: list[tuple[str, ...]], header: str = "record_id,request,interval_start,interval_end,quantity,unit"
) -> bytes:
    return ("\n".join([header, *[",".join(r) for r in rows]]) + "\n").encode()
