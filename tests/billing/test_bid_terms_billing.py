"""Usage terms from the winning bid to the bill: the award copies them, the contract's rate lines and tiers take
them, and a month bills exactly as the hand-worked contract of test_rating does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing import services
from billing.models import Contract, Invoice, InvoiceLine, RateLine, UsageImport
from rfq.models import AwardLine
from tests.billing.conftest import usage_csv
from tests.rfq import builders

pytestmark = pytest.mark.django_db
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)

# The hand-worked contract's two lines, as the carrier bid them.
TERMS = {
    "internet-dedicated": {
        "monthly_charge": Decimal("310.00"),
        "one_time_charge": Decimal("900.00"),
        "usage_rate": Decimal("0.02"),
        "usage_unit": "GB",
        "tiers": [(Decimal("1000"), Decimal("0.015")), (Decimal("5000"), Decimal("0.01"))],
    },
    "voice-sip-trunking": {
        "monthly_charge": Decimal("0"),
        "one_time_charge": Decimal("0"),
        "usage_rate": Decimal("0.05"),
        "usage_unit": "minute",
        "increment": Decimal("1"),
        "minimum_commitment": Decimal("50.00"),
    },
}


@pytest.fixture
def contract(cast, django_capture_on_commit_callbacks) -> Contract:  # type: ignore[no-untyped-def]
    """Northwind wins a 24-month request for a leased line and a SIP trunk at one site, from 11 October 2026."""
    rfq = builders.published(
        cast.buyer_owner,
        [cast.carrier_org],
        sites=[builders.site(cast.buyer_org, "Leeds office")],
        services_per_site=("internet-dedicated", "voice-sip-trunking"),
        term=24,
        desired_start=date(2026, 10, 11),
    )
    builders.bid(rfq, cast.seller_sales, terms=TERMS)
    with django_capture_on_commit_callbacks(execute=True):
        builders.awarded(rfq, winner=cast.carrier_org)
    return Contract.objects.get(rfq=rfq)


def _lines(period: date) -> dict[str, list[InvoiceLine]]:
    out: dict[str, list[InvoiceLine]] = {}
    for line in InvoiceLine.objects.filter(invoice__period=period).order_by("position"):
        out.setdefault(line.kind, []).append(line)
    return out


def test_the_award_and_the_contract_keep_the_bid_terms(contract) -> None:  # type: ignore[no-untyped-def]
    awarded = {line.usage_unit: line for line in AwardLine.objects.filter(award=contract.award)}
    assert awarded["GB"].tiers == [{"threshold": "1000", "rate": "0.015"}, {"threshold": "5000", "rate": "0.01"}]
    assert (awarded["GB"].increment, awarded["GB"].minimum_commitment) == (None, None)
    assert (awarded["minute"].increment, awarded["minute"].minimum_commitment) == (Decimal("1"), Decimal("50.00"))
    assert awarded["minute"].tiers == []
    assert (contract.start_date, contract.end_date) == (date(2026, 10, 11), date(2028, 10, 11))
    rates = {line.usage_unit: line for line in RateLine.objects.filter(contract=contract)}
    data, voice = rates["GB"], rates["minute"]
    assert [(t.threshold, t.rate) for t in data.tiers.order_by("threshold")] == TERMS["internet-dedicated"]["tiers"]
    assert (data.increment, data.minimum_commitment) == (Decimal("0"), Decimal("0"))
    assert (voice.usage_rate, voice.increment, voice.minimum_commitment) == (
        Decimal("0.05"),
        Decimal("1"),
        Decimal("50"),
    )
    assert not voice.tiers.exists()
    assert services.contracts_sync_from_awards() == 0  # nothing twice


def test_a_month_bills_the_tiers_the_increment_and_the_commitment_true_up(cast, contract) -> None:  # type: ignore[no-untyped-def]
    key = contract.number
    rows = [
        ("d1", key, "2026-10-12T00:00:00Z", "2026-10-13T00:00:00Z", "4000", "GB"),
        ("d2", key, "2026-10-20T00:00:00Z", "2026-10-21T00:00:00Z", "2000", "GB"),
        ("v1", key, "2026-10-12T09:00:00Z", "2026-10-12T09:02:00Z", "1.2", "minute"),
        ("v2", key, "2026-10-12T10:00:00Z", "2026-10-12T10:01:00Z", "0.5", "minute"),
        ("v3", key, "2026-10-13T10:00:00Z", "2026-10-13T10:02:00Z", "2.0", "minute"),
    ]
    outcome = services.usage_import_create(
        actor=cast.seller_admin, carrier=cast.carrier_org, source="carrier", filename="oct.csv", data=usage_csv(rows)
    )
    result = services.usage_import_run(import_id=outcome.usage_import.pk)
    assert result.status == UsageImport.Status.DONE, result.errors
    summary = services.bill_run_execute(period=OCT)
    assert summary.invoices == 1 and summary.records == 5
    kinds = _lines(OCT)
    # 310.00 a month for 21 of October's 31 days: 210.00; the installation once.
    assert [line.amount for line in kinds["recurring"]] == [Decimal("210.00")]
    assert [line.amount for line in kinds["one_time"]] == [Decimal("900.00")]
    usage = {line.unit: line for line in kinds["usage"]}
    # 6000 GB through the bid's tiers: 1000 at 0.02 + 4000 at 0.015 + 1000 at 0.01 = 20 + 60 + 10.
    assert usage["GB"].quantity == Decimal("6000") and usage["GB"].amount == Decimal("90.00")
    # The bid's 1-minute increment: 1.2, 0.5 and 2.0 minutes bill as 2 + 1 + 2 = 5 at 0.05.
    assert usage["minute"].quantity == Decimal("5") and usage["minute"].amount == Decimal("0.25")
    # The bid's 50.00 commitment prorated to 21/31 = 33.87, less 0.25 of usage.
    assert [line.amount for line in kinds["true_up"]] == [Decimal("33.62")]
    invoice = Invoice.objects.get(period=OCT)
    assert invoice.total == Decimal("210.00") + Decimal("900.00") + Decimal("90.00") + Decimal("0.25") + Decimal(
        "33.62"
    )
    assert kinds["recurring"][0].commission == Decimal("10.50")

    services.bill_run_execute(period=NOV)
    november = _lines(NOV)
    assert [line.amount for line in november["recurring"]] == [Decimal("310.00")]
    assert "one_time" not in november
    assert [line.amount for line in november["true_up"]] == [Decimal("50.00")]
