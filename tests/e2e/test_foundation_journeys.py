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
