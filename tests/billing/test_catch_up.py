"""A contract added after its first months were finalised is charged for them, once, on the next open bill."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from billing import services
from billing.models import Invoice, InvoiceLine
from tests.billing.conftest import make_contract

pytestmark = pytest.mark.django_db
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def late_contracts(billing_world):  # type: ignore[no-untyped-def]
    """October is issued; then two contracts starting in October are added (October was billed without them)."""
    services.bill_run_execute(period=OCT)
    services.bill_run_finalize(actor=billing_world.moderator, period=OCT)
    buyer = billing_world.other_buyer_org
    make_contract(
        buyer,
        billing_world.carrier_org,
        number="CT-LATE01",
        start=date(2026, 10, 20),  # 12 of October's 31 days
        end=date(2027, 10, 20),
        lines=[
            {
                "code": "data-mpls",
                "description": "Late line",
                "monthly_charge": Decimal("300.00"),
                "one_time_charge": Decimal("900.00"),
            }
        ],
    )
    make_contract(
        buyer,
        billing_world.carrier_org,
        number="CT-SHORT1",
        start=date(2026, 10, 5),
        end=date(2026, 10, 25),  # over before November: 20 of October's 31 days
        lines=[{"code": "data-mpls", "description": "Event link", "monthly_charge": Decimal("62.00")}],
    )
    return billing_world


def test_missed_charges_are_billed_on_the_next_open_month_once(late_contracts) -> None:  # type: ignore[no-untyped-def]
    services.bill_run_execute(period=NOV)
    lines = {
        line.description: line.amount
        for line in InvoiceLine.objects.filter(invoice__period=NOV, invoice__buyer=late_contracts.other_buyer_org)
    }
    assert lines == {
        # November in full, October's 12 days (300 x 12 / 31 = 116.129 -> 116.13) and the installation.
        "Late line, 01 Nov–30 Nov 2026": Decimal("300.00"),
        "Late line, 01 Oct–31 Oct 2026 (billed late, prorated 38.7% of the month)": Decimal("116.13"),
        "Late line: installation (01 Oct–31 Oct 2026, billed late)": Decimal("900.00"),
        # The short contract ended in October: its 20 days (62 x 20 / 31 = 40.00) still reach a bill.
        "Event link, 01 Oct–31 Oct 2026 (billed late, prorated 64.5% of the month)": Decimal("40.00"),
    }
    # Acme's bill, whose contract October did carry, has no catch-up.
    acme = InvoiceLine.objects.filter(invoice__period=NOV, invoice__buyer=late_contracts.buyer_org)
    assert not acme.filter(description__contains="billed late").exists()

    # Once November is issued, December bills December only.
    services.bill_run_finalize(actor=late_contracts.moderator, period=NOV)
    services.bill_run_execute(period=DEC)
    december = InvoiceLine.objects.filter(invoice__period=DEC, invoice__buyer=late_contracts.other_buyer_org)
    assert [line.description for line in december] == ["Late line, 01 Dec–31 Dec 2026"]
    assert Invoice.objects.get(period=DEC, buyer=late_contracts.other_buyer_org).total == Decimal("300.00")


def test_both_rating_paths_write_the_same_catch_up(late_contracts) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has only the Python rating")
    from tests.billing.test_rating_paths import _drafts

    reference, expected = _drafts("python", NOV)
    drafts, written = _drafts("sql", NOV)
    assert written == expected and drafts.totals == reference.totals
    assert any("billed late" in line[2] for invoice in written for line in invoice[7])
