"""A visitor signs up and becomes a buyer; a seller and a moderator sign in to their areas."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_signs_up_verifies_and_lands_in_buyer_portal(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    page.goto(base + "/")
    expect(page.get_by_role("heading", name=re.compile("Telecom services"))).to_be_visible()
    shot("foundation-01-landing")
    page.get_by_role("button", name="Create a free account").click()
    page.get_by_label("Email").fill("dana@newco.test")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    link = re.search(r"http://[^\s]+/accounts/confirm-email/\S+", mail.outbox[-1].body)
    assert link
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Tell us about your organisation")).to_be_visible()

    page.get_by_role("button", name="Create organisation").click()  # empty form: errors beside the fields
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    shot("foundation-02-onboarding-errors")

    page.get_by_label("We buy telecom services").check()
    page.get_by_label("Organisation's legal name").fill("NewCo Retail Ltd")
    page.get_by_label("Street address").fill("4 Market Square")
    page.get_by_label("City").fill("Nottingham")
    page.get_by_label("Postcode").fill("NG1 2DP")
    page.get_by_label("Country code").fill("GB")
    page.get_by_label("Phone").fill("+44 115 496 0000")
    page.get_by_label("Contact e-mail for the organisation").fill("office@newco.test")
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_role("heading", name=re.compile("NewCo Retail Ltd"))).to_be_visible()
    expect(page.get_by_text("Buyer portal")).to_be_visible()
    shot("foundation-03-buyer-portal")


def test_seller_and_moderator_reach_their_areas(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    base = live_server.url
    sign_in(page, base, cast.seller_sales.email, PASSWORD)
    expect(page).to_have_url(f"{base}/seller/")
    expect(page.get_by_text("Seller portal")).to_be_visible()
    shot("foundation-04-seller-portal")
    page.locator("summary", has_text=cast.seller_sales.email).click()
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign Out").click()

    sign_in(page, base, cast.moderator.email, PASSWORD)
    expect(page).to_have_url(f"{base}/console/")
    expect(page.get_by_role("heading", name="Moderator console")).to_be_visible()
    shot("foundation-05-console")
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_text("Switchboard administration")).to_be_visible()
    shot("foundation-06-admin")


def test_visitor_and_buyer_check_service_availability(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    from marketplace.models import ServiceType
    from sellers import services as seller_services
    from sellers.regions import parse_areas

    cast = make_cast()
    for org, actor, code, areas in (
        (cast.carrier_org, cast.seller_admin, "internet-dedicated", "GB, Greater London, EC"),
        (cast.other_carrier_org, cast.other_seller, "internet-dedicated", "GB, Greater London, EC E"),
        (cast.carrier_org, cast.seller_admin, "voice-sip-trunking", "GB"),
        (cast.other_carrier_org, cast.other_seller, "data-mpls", "GB, Greater London"),
    ):
        seller_services.coverage_add(
            actor=actor, organization=org, service_type=ServiceType.objects.get(code=code), areas=parse_areas(areas)
        )
    base = live_server.url

    page.goto(base + "/")
    page.get_by_role("button", name="Check availability at an address").click()
    expect(page.get_by_role("heading", name="Service availability")).to_be_visible()
    page.get_by_label("Country code").fill("Britain")
    page.get_by_label("Postcode").fill("EC1A/1BB")
    page.get_by_role("button", name="Check availability").click()
    expect(page.get_by_text("Enter the two-letter country code")).to_be_visible()
    expect(page.get_by_text("Enter a postcode of letters and digits")).to_be_visible()
    shot("foundation-07-availability-errors")

    page.get_by_label("Country code").fill("GB")
    page.get_by_label("Postcode").fill("ec1a 1bb")
    page.get_by_label("Region, state or county").fill("Greater London")
    page.get_by_role("button", name="Check availability").click()
    expect(page.get_by_role("heading", name="Coverage at EC1A 1BB, Greater London, GB")).to_be_visible()
    results = page.get_by_role("table")
    expect(results.get_by_role("row", name=re.compile("Dedicated"))).to_contain_text("2 carriers")
    expect(results.get_by_role("row", name=re.compile("SIP trunking"))).to_contain_text("1 carrier")
    expect(page.get_by_text(cast.carrier_org.name)).to_have_count(0)
    shot("foundation-08-availability-results")

    sign_in(page, base, cast.buyer_member.email, PASSWORD)
    page.get_by_role("link", name="Availability").click()
    page.get_by_label("Postcode").fill("75001")
    page.get_by_label("Country code").fill("FR")
    page.get_by_role("button", name="Check availability").click()
    expect(page.get_by_text("No verified carrier lists coverage at this postcode yet.")).to_be_visible()
    shot("foundation-09-availability-empty")
    page.get_by_role("button", name="Start a request for quote").click()
    expect(page.get_by_role("heading", name="New request for quote")).to_be_visible()
