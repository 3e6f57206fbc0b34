"""The moderator console for requests, and the admin: bid metadata before the deadline, never prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.models import AuditEvent
from rfq.models import Bid, BidLine, BidRevision, Rfq
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db
LIST = reverse("rfq:console_list")

# A price no other figure on the pages can produce, and usage terms as unlikely.
PRICE = "313.17"
TIER_RATE, COMMITMENT = "0.031731", "71.31"
USAGE = {
    "usage_rate": Decimal("0.02"),
    "usage_unit": "GB",
    "tiers": [(Decimal("7331"), Decimal(TIER_RATE))],
    "minimum_commitment": Decimal(COMMITMENT),
}


@pytest.fixture
def rfq(cast):  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org])
    builders.bid(rfq, cast.seller_sales, monthly=PRICE, terms={"internet-dedicated": USAGE})
    return rfq


def test_list_shows_every_request_with_counts_and_filters(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    moderator = client_for(cast.moderator)
    html = moderator.get(LIST).content.decode()
    assert rfq.reference in html
    assert cast.buyer_org.name in html
    row = html[html.index(rfq.reference) :]
    assert "<td>2</td>" in row and "<td>1</td>" in row  # two invited, one bid
    assert rfq.reference in moderator.get(LIST, {"status": "open"}).content.decode()
    assert rfq.reference not in moderator.get(LIST, {"status": "awarded"}).content.decode()
    assert rfq.reference in moderator.get(LIST, {"q": cast.buyer_org.name[:6]}).content.decode()
    assert "No requests match these filters." in moderator.get(LIST, {"q": "nothing like it"}).content.decode()
    assert moderator.get(LIST, {"status": "bogus", "page": "x"}).status_code == 200


def test_list_empty_state(cast) -> None:  # type: ignore[no-untyped-def]
    assert "No requests yet." in client_for(cast.moderator).get(LIST).content.decode()


def test_list_pages_and_pins_its_query_count(cast, rfq, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(30):
        clone = Rfq.objects.get(pk=rfq.pk)
        clone.pk = None
        clone.reference = f"RFQ-C{n:04d}"
        clone.save()
    client = client_for(cast.moderator)
    client.get(LIST)
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert "Page 1 of 2" in response.content.decode()


def test_detail_before_the_deadline_shows_metadata_but_no_prices(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    client_for(cast.seller_sales).get(reverse("rfq:seller_detail", args=[rfq.pk]))
    html = client_for(cast.moderator).get(reverse("rfq:console_detail", args=[rfq.pk])).content.decode()
    assert "Bids are sealed until" in html
    assert cast.carrier_org.name in html and cast.other_carrier_org.name in html
    assert "Submitted" in html
    assert PRICE not in html and TIER_RATE not in html and COMMITMENT not in html
    assert "not yet" in html  # the other carrier has not viewed it
    for action in ("rfq.publish", "rfq.distribute", "rfq.invitation_viewed", "bid.save_draft", "bid.submit"):
        assert action in html, action


def test_detail_after_the_deadline_shows_the_comparison(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    builders.past_deadline(rfq)
    html = client_for(cast.moderator).get(reverse("rfq:console_detail", args=[rfq.pk])).content.decode()
    assert PRICE in html
    assert f"above 7331 GB: {TIER_RATE}" in html and f"minimum {COMMITMENT} a month" in html
    assert "Published digests" in html
    assert Bid.objects.get(rfq=rfq).digest in html


def test_suspend_needs_a_reason_then_tells_everyone(cast, rfq, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    url = reverse("rfq:console_suspend", args=[rfq.pk])
    moderator = client_for(cast.moderator)
    response = moderator.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator.post(url, {"reason": "The buyer asked for a duplicate."})
    assert response.status_code == 302
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.SUSPENDED
    assert AuditEvent.objects.filter(action="rfq.suspend", object_id=str(rfq.pk)).exists()
    page = client_for(cast.seller_sales).get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()
    assert "The buyer asked for a duplicate." in page
    assert cast.seller_sales.notifications.filter(kind="rfq_suspended").exists()
    again = moderator.post(url, {"reason": "Twice."}, follow=True)
    assert "is suspended by the moderator; it cannot be suspended" in again.content.decode()
    # A stale tab's empty reason: the form is no longer on the page, so the refusal says why on top.
    stale = moderator.post(url, {"reason": ""}, follow=True)
    assert "is suspended by the moderator; it cannot be suspended" in stale.content.decode()


def test_admin_hides_bid_prices_until_the_bids_open(cast, rfq) -> None:  # type: ignore[no-untyped-def]
    admin = client_for(cast.moderator)
    bid = Bid.objects.get(rfq=rfq)
    line = BidLine.objects.filter(bid=bid).first()
    revision = BidRevision.objects.get(bid=bid)
    urls = [
        reverse("admin:rfq_bid_change", args=[bid.pk]),
        reverse("admin:rfq_bidline_change", args=[line.pk]),
        reverse("admin:rfq_bidrevision_change", args=[revision.pk]),
        reverse("admin:rfq_bidline_changelist"),
        reverse("admin:rfq_bidrevision_changelist"),
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert PRICE not in html and TIER_RATE not in html and COMMITMENT not in html, url
    assert revision.digest in admin.get(urls[2]).content.decode()
    builders.past_deadline(rfq)
    for url in urls[:3]:
        html = admin.get(url).content.decode()
        assert PRICE in html and TIER_RATE in html and COMMITMENT in html, url
    # Read-mostly: nothing can be changed or added from the admin.
    assert admin.post(reverse("admin:rfq_bidline_change", args=[line.pk]), {"monthly_charge": "1"}).status_code == 403
    assert admin.get(reverse("admin:rfq_rfq_add")).status_code == 403
