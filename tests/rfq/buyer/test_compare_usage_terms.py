"""The buyer sees each bid's usage terms wherever its prices are shown: comparison, CSV, the choice and the terms."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from rfq.models import AwardLine
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db

USAGE = {
    "usage_rate": Decimal("0.02"),
    "usage_unit": "GB",
    "increment": Decimal("1"),
    "tiers": [(Decimal("1000"), Decimal("0.015")), (Decimal("5000"), Decimal("0.01"))],
    "minimum_commitment": Decimal("50.00"),
}
PHRASES = ["0.02 per GB", "billed in steps of 1 GB", "above 1000 GB: 0.015", "above 5000 GB: 0.01", "minimum 50.00"]


@pytest.fixture
def rfq(cast):  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org], term=12)
    builders.bid(rfq, cast.seller_sales, monthly="80.00", terms={"internet-dedicated": USAGE})
    builders.bid(rfq, cast.other_seller, monthly="70.00")
    return builders.past_deadline(rfq)


def test_comparison_shows_the_terms_beside_the_prices(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    html = client_for(cast.buyer_member).get(reverse("rfq:compare", args=[rfq.pk])).content.decode()
    for phrase in PHRASES:
        assert html.count(phrase) == 2, phrase  # one per line of the bid
    # The other bid has no usage rate: nothing is made up for it.
    assert html.count("usage-terms") == 2


def test_csv_has_a_usage_column_per_bid(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast.buyer_owner).get(reverse("rfq:compare_csv", args=[rfq.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    first = header.index(f"Bid 1 {cast.carrier_org.name} usage")
    second = header.index(f"Bid 2 {cast.other_carrier_org.name} usage")
    assert rows[1][first] == "; ".join(
        [
            "0.02 per GB",
            "billed in steps of 1 GB",
            "above 1000 GB: 0.015",
            "above 5000 GB: 0.01",
            "minimum 50.00 a month",
        ]
    )
    assert rows[1][second] == ""
    assert all(len(row) == len(header) for row in rows)


def test_the_choice_and_the_terms_page_show_them_and_the_award_keeps_them(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.buyer_owner)
    choice = client.get(reverse("rfq:award_select", args=[rfq.pk])).content.decode()
    assert "above 1000 GB: 0.015" in choice and "minimum 50.00 a month" in choice
    builders.awarded(rfq, winner=cast.carrier_org)
    terms_page = client.get(reverse("rfq:award_terms", args=[rfq.pk])).content.decode()
    assert all(phrase in terms_page for phrase in PHRASES)
    lines = list(AwardLine.objects.filter(award__rfq=rfq))
    assert len(lines) == 2
    for line in lines:
        assert (line.usage_rate, line.usage_unit, line.increment, line.minimum_commitment) == (
            Decimal("0.02"),
            "GB",
            Decimal("1"),
            Decimal("50.00"),
        )
        assert line.usage_tiers == USAGE["tiers"]
