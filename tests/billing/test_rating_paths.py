"""PostgreSQL's rating in SQL (billing/rating.py) writes the same drafts as the Python reference.

The month holds every kind of line both paths know: proration at a contract's start and end, a one-time charge,
graduated tiers, minute increments, a commitment true-up, late usage of ended and running contracts, a rate line
without a usage rate, invoices per carrier and per site, a reseller's end customer, a second currency, non-ASCII
names and descriptions (some of which the database lower-cases otherwise than Python), and a half-cent proration
(30.15 for one day of November's 30 is 1.005, billed 1.01).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from billing import rating, services
from billing.models import BillRun, Invoice, RateLine, UsageRecord
from buyers.models import EndCustomer
from tests.billing.conftest import make_contract
from tests.factories import OrganizationFactory
from tests.rfq import builders

pytestmark = pytest.mark.django_db
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has only the Python rating")


def _usage(line: RateLine, period: date, quantities: list[str], *, adjustment: bool = False, prefix: str) -> None:
    contract = line.contract
    start = datetime(period.year, period.month, 3, tzinfo=UTC)
    UsageRecord.objects.bulk_create(
        UsageRecord(
            carrier_id=contract.carrier_id,
            record_id=f"{prefix}-{i}",
            contract=contract,
            rate_line=line,
            buyer_id=contract.buyer_id,
            end_customer_id=contract.end_customer_id,
            usage_import_id=0,
            source="carrier",
            interval_start=start,
            interval_end=start.replace(hour=1),
            quantity=Decimal(q),
            unit=line.usage_unit or "unit",
            bill_period=period,
            is_adjustment=adjustment,
        )
        for i, q in enumerate(quantities)
    )


@pytest.fixture
def busy_month(billing_world):  # type: ignore[no-untyped-def]
    world = billing_world
    acme_lines = {line.usage_unit: line for line in world.contract.rate_lines.all()}
    _usage(acme_lines["GB"], OCT, ["4000", "2000.5", "0"], prefix="acme-gb")
    _usage(acme_lines["minute"], OCT, ["1.2", "0.5", "2.0"], prefix="acme-min")
    _usage(acme_lines["GB"], NOV, ["12.345678"], prefix="acme-nov")
    # Late usage of a running contract: its own line beside the month's usage, left out of the commitment.
    _usage(acme_lines["minute"], OCT, ["3.25"], adjustment=True, prefix="acme-late")

    zurich = OrganizationFactory(name="Zürich Ärzte AG", kind="buyer")
    ohm = OrganizationFactory(name="Öhm Dental", kind="buyer")
    reseller = OrganizationFactory(name="harbor resale", kind="buyer")
    customer = EndCustomer.objects.create(reseller=reseller, name="Café Noir", reference="EC-1")
    north_site, south_site = builders.site(zurich, "Nord"), builders.site(zurich, "Süd")

    per_site = make_contract(
        zurich,
        world.carrier_org,
        number="CT-ZUR01",
        start=date(2026, 1, 1),
        end=date(2026, 10, 20),  # ends on the 20th: 19 of October's 31 days
        invoice_grouping="per_site",
        carrier_grouping="per_carrier",
        commission="7.50",
        lines=[
            {"code": "data-mpls", "description": "MPLS Nord – Glasfaser", "site": north_site,
             "monthly_charge": Decimal("999.99"), "usage_unit": "GB", "usage_rate": Decimal("0.031"),
             "minimum_commitment": Decimal("400.00")},
            {"code": "data-mpls", "description": "MPLS Süd", "site": south_site,
             "monthly_charge": Decimal("123.45"), "usage_unit": "GB", "usage_rate": None},
        ],
    )  # fmt: skip
    nord, sud = per_site.rate_lines.order_by("id")
    _usage(nord, OCT, ["100.000001", "0.000009"], prefix="zur-n")
    _usage(sud, OCT, ["55"], prefix="zur-s")
    make_contract(
        zurich,
        world.other_carrier_org,
        number="CT-ZUR02",
        start=date(2026, 10, 5),
        end=date(2027, 10, 5),
        carrier_grouping="per_carrier",
        currency="EUR",
        lines=[{"code": "data-mpls", "description": "Backup 4G", "monthly_charge": Decimal("19.90"),
                "one_time_charge": Decimal("49.00")}],
    )  # fmt: skip
    ended = make_contract(
        ohm,
        world.carrier_org,
        number="CT-OHM01",
        start=date(2025, 1, 1),
        end=date(2026, 9, 1),
        lines=[{"code": "data-mpls", "description": "Old line", "monthly_charge": Decimal("10"),
                "usage_unit": "GB", "usage_rate": Decimal("0.5"), "tiers": [("10", "0.25")]}],
    )  # fmt: skip
    _usage(ended.rate_lines.get(), OCT, ["7", "8.25"], adjustment=True, prefix="ohm-late")
    resold = make_contract(
        reseller,
        world.carrier_org,
        number="CT-HRB01",
        start=date(2026, 11, 30),  # one day of November's 30: 30.15 / 30 = 1.005, half up to 1.01
        end=date(2027, 11, 30),
        lines=[{"code": "data-mpls", "description": "Café line", "monthly_charge": Decimal("30.15"),
                "minimum_commitment": Decimal("0.15")}],
    )  # fmt: skip
    resold.end_customer = customer
    resold.save()
    # A month's quantity past a single record's limit of 10^12 units.
    transit = make_contract(
        OrganizationFactory(name="Big Data Ltd", kind="buyer"),
        world.carrier_org,
        number="CT-BIG01",
        start=date(2026, 1, 1),
        end=date(2027, 1, 1),
        lines=[{"code": "data-mpls", "description": "Transit", "usage_unit": "byte",
                "usage_rate": Decimal("0.000001")}],
    )  # fmt: skip
    _usage(transit.rate_lines.get(), OCT, ["999999999999.999999", "999999999999.999999"], prefix="big")
    # Names whose lower case only Python gets right (a final sigma; a dotted capital I becomes i and a dot),
    # created so that falling back to the id would give the other order.
    for name in ["Ασ", "ΑΣ", "ib", "İa"]:
        make_contract(
            OrganizationFactory(name=name, kind="buyer"),
            world.carrier_org,
            number=f"CT-{len(name)}{ord(name[-1])}",
            start=date(2026, 1, 1),
            end=date(2027, 1, 1),
            lines=[{"code": "data-mpls", "description": "Line", "monthly_charge": Decimal("10")}],
        )
    return world


def _drafts(path: str, period: date) -> tuple[rating.Drafts, list[Any]]:
    start, end = services.month_bounds(period)
    with transaction.atomic():
        run = BillRun.objects.create(period=period)
        if path == "sql":
            # What a run writes on PostgreSQL: the SQL rating with the lines worked out in Python beside it.
            drafts = services._write_drafts(run, period, report=False)
        else:
            drafts = services._rate_in_python(run, period)
        written = [
            (
                invoice.buyer.name,
                invoice.group_key,
                invoice.carrier_id,
                invoice.end_customer_id,
                invoice.currency,
                invoice.subtotal,
                invoice.total,
                [
                    (
                        line.position,
                        line.kind,
                        line.description,
                        line.quantity,
                        line.unit,
                        line.unit_price,
                        line.amount,
                        line.commission,
                        line.record_count,
                        line.contract_id,
                        line.rate_line_id,
                        line.carrier_id,
                    )
                    for line in invoice.lines.order_by("position")
                ],
            )  # fmt: skip
            for invoice in Invoice.objects.filter(bill_run=run).order_by("id")
        ]
        transaction.set_rollback(True)
    return drafts, written


@pytest.mark.parametrize("increments", [True, False], ids=["with-increments", "without-increments"])
@pytest.mark.parametrize("period", [OCT, NOV], ids=["october", "november"])
def test_sql_rating_writes_what_the_python_reference_writes(busy_month, period: date, increments: bool) -> None:  # type: ignore[no-untyped-def]
    _needs_postgres()
    if not increments:
        # Without any increment the GROUP BY takes its other form, with no join to the rate lines.
        RateLine.objects.update(increment=0)
    reference, expected = _drafts("python", period)
    drafts, written = _drafts("sql", period)
    assert written == expected
    assert (drafts.invoices, drafts.lines, drafts.records, drafts.totals) == (
        reference.invoices,
        reference.lines,
        reference.records,
        reference.totals,
    )


def test_the_month_covers_every_kind_of_line(busy_month) -> None:  # type: ignore[no-untyped-def]
    _needs_postgres()
    _, october = _drafts("sql", OCT)
    kinds = {line[1] for invoice in october for line in invoice[7]}
    assert kinds == {"recurring", "one_time", "usage", "adjustment", "true_up"}
    # Invoices come in the order of their buyers' lower-cased names, compared by code point as Python does.
    buyers = list(dict.fromkeys(invoice[0] for invoice in october))
    assert buyers == ["Acme Test Logistics", "Big Data Ltd", "ib", "İa", "Zürich Ärzte AG", "Öhm Dental", "ΑΣ", "Ασ"]
    assert {invoice[4] for invoice in october} == {"GBP", "EUR"}
    by_description = {line[2]: line for invoice in october for line in invoice[7]}
    # 999.99 for 19 of 31 days = 612.897096... → 612.90; commission 7.5 % = 45.9675 → 45.97.
    nord = by_description["MPLS Nord – Glasfaser, 01 Oct–31 Oct 2026 (prorated 61.3% of the month)"]
    assert (nord[6], nord[7]) == (Decimal("612.90"), Decimal("45.97"))
    # Late usage of the ended contract: 15.25 GB, 10 at 0.5 and 5.25 at 0.25 = 6.3125 → 6.31.
    late = by_description["Old line: late usage from earlier months, 15.25 GB"]
    assert late[6] == Decimal("6.31")
    transit = by_description["Transit: usage, 1999999999999.999998 byte"]
    assert (transit[3], transit[6]) == (Decimal("1999999999999.999998"), Decimal("2000000.00"))
    _, november = _drafts("sql", NOV)
    cafe = {line[1]: line for invoice in november for line in invoice[7] if line[2].startswith("Café line")}
    assert cafe["recurring"][6] == Decimal("1.01")
    # The commitment of 0.15 for one day of 30 is 0.005, also half up: 0.01, with no usage to set against it.
    assert cafe["true_up"][6] == Decimal("0.01")
