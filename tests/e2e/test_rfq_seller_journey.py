"""Two carriers see a published request anonymously, ask, bid and revise; after the deadline the digests show."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rfq import services
from rfq.models import Bid, BidLine, Question, Rfq
from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.rfq import builders

pytestmark = pytest.mark.django_db(transaction=True)


def _fill_bid(page, rfq: Rfq, monthly: str) -> None:  # type: ignore[no-untyped-def]
    for line in rfq.lines.order_by("pk"):
        prefix = f"#id_line-{line.pk}-"
        page.locator(prefix + "monthly_charge").fill(monthly)
        page.locator(prefix + "one_time_charge").fill("950.00")
        page.locator(prefix + "term_months").fill("24")
        page.locator(prefix + "install_days").fill("30")
        page.locator(prefix + "comply_sla").check()


def test_two_carriers_bid_anonymously_and_check_their_digests(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    builders.seed_identity(cast)
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org, cast.other_carrier_org])
    alias = f"Buyer {cast.buyer_org.alias}"
    base = live_server.url

    # Carrier one finds the request in its inbox: the buyer is only an alias.
    sign_in(page, base, cast.seller_sales.email, PASSWORD)
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_role("heading", name="Requests for quote")).to_be_visible()
    expect(page.get_by_role("cell", name=alias)).to_be_visible()
    shot("rfq-seller-01-inbox")
    page.get_by_role("link", name=rfq.reference).click()
    expect(page.get_by_role("heading", name=re.compile(rfq.reference))).to_be_visible()
    expect(page.get_by_text("LS1 4AP, Leeds, GB")).to_be_visible()
    body = page.locator("body").inner_text()
    assert all(value not in body for value in builders.MARKERS.values())

    # It asks a question; the buyer answers through the service; the answer is published.
    page.get_by_label("Your question").fill("Is there a comms room at site 2?")
    page.get_by_role("button", name="Ask the buyer").click()
    expect(page.get_by_text("Your question was sent.")).to_be_visible()
    services.question_answer(
        actor=cast.buyer_owner, question=Question.objects.get(rfq=rfq), answer="Yes, on the ground floor."
    )
    page.reload()
    expect(page.get_by_text("Yes, on the ground floor.")).to_be_visible()
    shot("rfq-seller-02-request")

    # It prices both lines, the first with metered data, a volume tier and a minimum a month; a negative price and
    # a tier without its rate are refused next to their fields first.
    page.get_by_role("button", name="Prepare a bid").click()
    _fill_bid(page, rfq, "300.00")
    first = rfq.lines.order_by("pk").first()
    prefix = f"#id_line-{first.pk}-"
    page.locator(prefix + "monthly_charge").fill("-10")
    page.locator(prefix + "usage_rate").fill("0.02")
    page.locator(prefix + "usage_unit").fill("GB")
    page.locator(prefix + "tiers").fill("1000")
    page.locator(prefix + "minimum_commitment").fill("50.00")
    page.get_by_role("button", name="Submit bid").click()
    expect(page.get_by_text("Ensure this value is greater than or equal to 0.")).to_be_visible()
    expect(page.get_by_text("“1000” is not a tier: write each as threshold:rate")).to_be_visible()
    page.locator(prefix + "tiers").scroll_into_view_if_needed()
    shot("rfq-seller-03-bid-errors")
    page.locator(prefix + "monthly_charge").fill("300.00")
    page.locator(prefix + "tiers").fill("1000:0.015")
    page.get_by_role("button", name="Submit bid").click()
    expect(page.get_by_role("heading", name=re.compile("Bid receipt"))).to_be_visible()
    digest_one = Bid.objects.get(rfq=rfq, carrier=cast.carrier_org).digest
    expect(page.locator("#digest")).to_have_text(digest_one)
    expect(page.get_by_text("above 1000 GB: 0.015").first).to_be_visible()
    expect(page.get_by_text("minimum 50.00 a month").first).to_be_visible()
    line = BidLine.objects.get(bid__carrier=cast.carrier_org, rfq_line=first)
    assert line.tiers == [{"threshold": "1000", "rate": "0.015"}] and str(line.minimum_commitment) == "50.00"
    shot("rfq-seller-04-receipt")
    page.context.clear_cookies()

    # Carrier two sees the same anonymous request and the published answer, bids, then revises.
    sign_in(page, base, cast.other_seller.email, PASSWORD)
    page.goto(f"{base}/rfq/seller/{rfq.pk}/")
    expect(page.get_by_text(alias).first).to_be_visible()
    expect(page.get_by_text("Yes, on the ground floor.")).to_be_visible()
    page.get_by_role("button", name="Prepare a bid").click()
    _fill_bid(page, rfq, "290.00")
    page.get_by_role("button", name="Submit bid").click()
    expect(page.get_by_role("heading", name=re.compile("revision 1"))).to_be_visible()
    page.goto(f"{base}/rfq/seller/{rfq.pk}/bid/")
    page.locator(f"#id_line-{first.pk}-monthly_charge").fill("275.00")
    page.get_by_role("button", name="Submit revision").click()
    expect(page.get_by_role("heading", name=re.compile("revision 2"))).to_be_visible()
    expect(page.get_by_text("Every revision")).to_be_visible()
    shot("rfq-seller-05-revision")

    # The deadline passes: the request page publishes every digest and marks the carrier's own.
    Rfq.objects.filter(pk=rfq.pk).update(bid_deadline=timezone.now() - timedelta(seconds=1))
    page.goto(f"{base}/rfq/seller/{rfq.pk}/")
    expect(page.get_by_role("heading", name="Published bid digests")).to_be_visible()
    digest_two = Bid.objects.get(rfq=rfq, carrier=cast.other_carrier_org).digest
    mine = page.locator("tr", has_text="(your bid)")
    expect(mine).to_contain_text(digest_two)
    expect(page.locator("body")).to_contain_text(digest_one)
    shot("rfq-seller-06-digests")
    page.context.clear_cookies()

    # The moderator's console shows the request, its bids after opening, and its audit trail.
    sign_in(page, base, cast.moderator.email, PASSWORD)
    page.goto(f"{base}/rfq/console/")
    expect(page.get_by_role("link", name=rfq.reference)).to_be_visible()
    shot("rfq-seller-07-console-list")
    page.get_by_role("link", name=rfq.reference).click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    shot("rfq-seller-08-console-detail")
