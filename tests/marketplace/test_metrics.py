"""The moderator's metrics: requests, bids, awards, savings and billing by month, with sealed bids left uncounted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db


def this_month(response):  # type: ignore[no-untyped-def]
    first = timezone.now().date().replace(day=1)
    return next(row for row in response.context["rows"] if row["month"] == first)


def test_metrics_count_activity_and_savings_but_not_sealed_bids(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    builders.profile(cast.buyer_org)
    builders.seed_identity(cast)
    # Two bids on a request whose deadline has passed, then awarded to carrier_org at 80 a month against 100 before.
    rfq = builders.with_bids(cast)
    builders.awarded(rfq, winner=cast.carrier_org)
    # A bid on a request still open is sealed: the moderator's metrics do not count it.
    still_open = builders.published(cast.buyer_owner, [cast.carrier_org], title="Still open")
    builders.bid(still_open, cast.seller_sales)

    client = client_for(cast.moderator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("console:metrics"))
    assert response.status_code == 200
    row = this_month(response)
    assert (row["published"], row["bids"], row["awarded"]) == (2, 2, 1)
    summary = response.context["summary"]
    assert summary["opened_requests"] == 1 and summary["bids_per_request"] == Decimal("2.0")
    (gbp,) = summary["savings"]
    # Two lines at 100 a month before, 80 each now: 20% saved.
    assert (gbp["prior"], gbp["awarded"], gbp["percent"]) == (Decimal("200.00"), Decimal("160.00"), Decimal("20.0"))
    assert "20.0%" in response.content.decode()


def test_metrics_page_says_when_there_is_nothing_yet(cast) -> None:  # type: ignore[no-untyped-def]
    page = client_for(cast.moderator).get(reverse("console:metrics")).content.decode()
    assert "Nothing to measure yet" in page


def test_only_moderators_see_the_metrics(cast) -> None:  # type: ignore[no-untyped-def]
    url = reverse("console:metrics")
    for user in (cast.billing_agent, cast.buyer_owner, cast.seller_admin):
        assert client_for(user).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302
