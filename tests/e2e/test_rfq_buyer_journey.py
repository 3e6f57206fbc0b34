"""A buyer builds a request for three sites in the wizard, publishes it, compares the bids, splits the award."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rfq.models import Award, Rfq
from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.rfq import builders

pytestmark = pytest.mark.django_db(transaction=True)


def test_buyer_builds_publishes_compares_and_splits_the_award(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    builders.site(cast.buyer_org, "Head office", street="1 King Street", city="Leeds", postcode="LS1 2HL")
    builders.site(cast.buyer_org, "Depot", street="7 Canal Wharf", city="Wakefield", postcode="WF1 5PN")
    builders.terms()
    base = live_server.url
    sign_in(page, base, cast.buyer_owner.email, PASSWORD)

    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_text("No requests yet")).to_be_visible()
    page.get_by_role("button", name="New request").click()
    page.get_by_label("Title").fill("Offices and depot 2027")
    page.get_by_role("button", name="Start").click()

    # Sites: nothing chosen is refused beside the field; then two existing sites and one added inline.
    expect(page.get_by_role("heading", name="Step 1: Sites")).to_be_visible()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Choose at least one site.")).to_be_visible()
    page.get_by_text("Add a new site").click()
    page.get_by_label("Name").fill("Warehouse")
    page.get_by_label("Street address").fill("9 Dock Road")
    page.get_by_label("City").fill("Hull")
    page.get_by_label("Postcode").fill("HU1 1AA")
    page.get_by_role("button", name="Add site to this request").click()
    expect(page.get_by_text("Added Warehouse")).to_be_visible()
    page.get_by_role("checkbox", name=re.compile("Head office")).check()
    page.get_by_role("checkbox", name=re.compile("Depot")).check()
    expect(page.get_by_role("checkbox", name=re.compile("Warehouse"))).to_be_checked()
    shot("rfq-buyer-01-sites")
    page.get_by_role("button", name="Save and continue").click()

    # Services: rows come in through htmx, one per site; a missing bandwidth is shown beside the field.
    expect(page.get_by_role("heading", name="Step 2: Services")).to_be_visible()
    for index, site in enumerate(("Depot", "Head office", "Warehouse")):
        page.get_by_label(f"Service to add at {site}").select_option(label="Broadband")
        # htmx fetches just the row; the page is not reloaded.
        with page.expect_response(lambda r: "/edit/services/row/" in r.url):
            page.get_by_role("button", name="Add service").nth(index).click()
    rows = page.locator(".service-row")
    expect(rows).to_have_count(3)
    page.get_by_label("Service to add at Warehouse").select_option(label="SIP trunking")
    page.get_by_role("button", name="Add service").nth(2).click()
    expect(rows).to_have_count(4)
    page.get_by_role("button", name="Remove SIP trunking").click()
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    for i, mbps in enumerate(("100", "500", "50")):
        row = page.locator(".service-row").nth(i)
        row.get_by_label("Bandwidth (Mbps)").fill(mbps)
        row.get_by_label("Availability SLA").select_option("99.9%")
    shot("rfq-buyer-02-services")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Step 3: Billing")).to_be_visible()
    page.get_by_label("Purchase order number").fill("PO-2027-01")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Step 4: Prior usage")).to_be_visible()
    for field in page.get_by_label("Monthly spend today").all():
        field.fill("120.00")
    page.get_by_label("Current carrier").first.fill("OldTel")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Step 5: Who may see it")).to_be_visible()
    page.get_by_role("radio", name=re.compile("Listed: only the carriers I pick")).check()
    page.get_by_role("checkbox", name=cast.carrier_org.name).check()
    page.get_by_role("checkbox", name=cast.other_carrier_org.name).check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Step 6: Schedule")).to_be_visible()
    now = timezone.now()
    page.get_by_label("Bid deadline").fill((now + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Decision deadline").fill((now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Contract term (months)").fill("24")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The decision deadline must come after the bid deadline.")).to_be_visible()
    page.get_by_label("Decision deadline").fill((now + timedelta(days=12)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Step 7: Review")).to_be_visible()
    shot("rfq-buyer-03-review")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published: the request is out to carriers.")).to_be_visible()
    expect(page.get_by_text("2 carriers invited, 0 have viewed.")).to_be_visible()
    shot("rfq-buyer-04-published")

    # Carriers bid (one leaves the warehouse unpriced), then the deadline passes.
    rfq = Rfq.objects.get(title="Offices and depot 2027")
    assert rfq.status == Rfq.Status.OPEN and rfq.rfq_sites.count() == 3
    builders.bid(rfq, cast.seller_sales, monthly="95.00")
    warehouse = rfq.lines.get(rfq_site__site__name="Warehouse")
    builders.bid(rfq, cast.other_seller, monthly="70.00", unpriced=[warehouse])
    builders.past_deadline(rfq, open_bids=False)

    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_text("Bids opened", exact=True)).to_be_visible()  # the clock decides, not the task
    shot("rfq-buyer-04b-list")
    page.get_by_role("link", name="Offices and depot 2027").click()
    page.get_by_role("button", name="Compare bids").click()
    expect(page.get_by_text("Not comparable: 1 line not priced")).to_be_visible()
    shot("rfq-buyer-05-compare")
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="Download CSV")).to_be_hidden()
    shot("rfq-buyer-05b-compare-print")
    page.emulate_media(media="screen")

    page.get_by_role("button", name="Choose the winner").click()
    shot("rfq-buyer-06-split")
    lines = list(rfq.lines.order_by("rfq_site__site__name"))
    cheap, full = rfq.bids.get(carrier=cast.other_carrier_org), rfq.bids.get(carrier=cast.carrier_org)
    for line in lines:
        winner = cheap if cheap.lines.filter(rfq_line=line).exists() else full
        page.locator(f'input[name="line-{line.pk}"][value="{winner.lines.get(rfq_line=line).pk}"]').check()
    shot("rfq-buyer-07-split-chosen")
    page.get_by_role("button", name="Choose these bids").click()
    expect(page.get_by_text("Winners chosen.")).to_be_visible()
    page.get_by_label("I accept these terms").check()
    page.get_by_role("button", name="Accept the terms").click()
    expect(page.get_by_text("The award is final: every organisation accepted the terms.")).to_be_visible()
    shot("rfq-buyer-08-accepted")
    rfq.refresh_from_db()
    assert rfq.status == Rfq.Status.AWARDED
    assert set(Award.objects.filter(rfq=rfq).values_list("carrier_id", flat=True)) == {
        cast.carrier_org.pk,
        cast.other_carrier_org.pk,
    }
