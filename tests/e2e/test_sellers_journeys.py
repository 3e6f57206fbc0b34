"""Carrier journeys in the browser: registration, verification, a sales colleague, criteria and standing offers."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40"><rect width="120" height="40" rx="6" '
    b'fill="#0f766e"/><text x="12" y="27" font-size="20" fill="#fff">FibreNet</text></svg>'
)


def _local(url: str, base: str) -> str:
    """Point a link from an e-mail (built from SITE_URL) at the live test server."""
    return base + "/" + url.split("/", 3)[3]


def _new_offer(
    page, base: str, *, service: str, title: str, lo: str, hi: str, unit: str, monthly: str, areas: str
) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/seller/offers/new/")
    page.get_by_label("Service type").select_option(label=service)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Capacity from").fill(lo)
    page.get_by_label("Capacity up to").fill(hi)
    page.get_by_label("Capacity unit").select_option(unit)
    page.get_by_label("Contract term (months)").fill("36")
    page.get_by_label("Monthly charge").fill(monthly)
    page.get_by_label("One-time charge").fill("0")
    page.get_by_label("Coverage").fill(areas)
    page.get_by_role("button", name="Create offer").click()
    expect(page.get_by_text(f"Offer “{title}” is live.")).to_be_visible()


def test_carrier_registers_is_verified_and_a_sales_colleague_manages_offers(  # type: ignore[no-untyped-def]
    live_server, page, browser, shot
) -> None:
    base = live_server.url
    moderator = make_cast().moderator
    UserFactory(email="ada@fibrenet.test")

    # Onboarding as a carrier, then the registration wizard.
    sign_in(page, base, "ada@fibrenet.test", PASSWORD)
    page.get_by_label("We sell telecom services (carrier)").check()
    page.get_by_label("Organisation's legal name").fill("FibreNet Networks Ltd")
    page.get_by_label("Street address").fill("9 Canal Street")
    page.get_by_label("City").fill("Leeds")
    page.get_by_label("Postcode").fill("LS1 4DY")
    page.get_by_label("Country code").fill("GB")
    page.get_by_label("Phone").fill("+44 113 496 0999")
    page.get_by_label("Contact e-mail for the organisation").fill("hello@fibrenet.test")
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_text("Complete your carrier registration.")).to_be_visible()
    shot("sellers-01-dashboard-before-registration")

    page.get_by_role("button", name="Complete registration").click()
    expect(page.get_by_role("heading", name="Your company")).to_be_visible()
    page.get_by_label("Brand name").fill("FibreNet")
    page.get_by_label("Company registration number").fill("10293847")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Contact information")).to_be_visible()
    page.get_by_label("Region, state or county").fill("West Yorkshire")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Regulator").select_option("ofcom")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Enter the reference the regulator gave you.")).to_be_visible()
    shot("sellers-02-wizard-field-error")
    page.get_by_label("Registration or licence reference").fill("OFCOM-GA-77881")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Internet").check()
    page.get_by_label("Data networks").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Logo").set_input_files({"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": SVG})
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Supporting document").set_input_files(
        {"name": "incorporation.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(page.get_by_text("OFCOM-GA-77881")).to_be_visible()
    shot("sellers-03-wizard-review")
    # Back to the documents step: the browser cannot refill the file input, so the page names the kept file.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_role("heading", name="Supporting documents")).to_be_visible()
    expect(page.get_by_text("Already uploaded: incorporation.pdf (choose a new file to replace it)")).to_be_visible()
    expect(page.get_by_label("Supporting document")).to_have_accessible_description(
        re.compile("Already uploaded: incorporation.pdf")
    )
    shot("sellers-03b-wizard-kept-upload")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(page.get_by_text("incorporation.pdf")).to_be_visible()
    page.get_by_role("button", name="Finish registration").click()
    expect(page.get_by_text("Your registration is with the moderator for review.")).to_be_visible()
    expect(page.locator("h1 .status")).to_have_text("Pending review")

    # The moderator checks the evidence and verifies.
    mod = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(mod, base, moderator.email, PASSWORD)
    mod.goto(base + "/console/verification/")
    mod.get_by_role("link", name=re.compile("FibreNet")).first.click()
    expect(mod.get_by_text("Ofcom (United Kingdom): OFCOM-GA-77881")).to_be_visible()
    expect(mod.get_by_alt_text("Logo of FibreNet")).to_be_visible()
    mod.screenshot(path="tmp/screenshots/sellers-04-moderator-evidence.png", full_page=True)
    mod.get_by_role("button", name=re.compile("Verify")).click()
    page.goto(base + "/seller/")
    expect(page.locator("h1 .status")).to_have_text("Verified")

    # The admin invites a sales colleague through the core people page.
    page.locator("summary", has_text="Organisation").click()
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_label("Colleague's e-mail").fill("sam@fibrenet.test")
    page.locator("#id_role").select_option("sales")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("Invitation sent to sam@fibrenet.test")).to_be_visible()
    invite = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[-1].body)
    assert invite
    sales = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sales.goto(_local(invite.group(0), base))
    sales.locator("#id_new_password1").fill("a-brand-new-passphrase-7")
    sales.locator("#id_new_password2").fill("a-brand-new-passphrase-7")
    sales.get_by_role("button", name="Set my password").click()
    expect(sales.get_by_text("Your password is set.")).to_be_visible()
    sign_in(sales, base, "sam@fibrenet.test", "a-brand-new-passphrase-7")
    expect(sales.get_by_text("Seller portal")).to_be_visible()

    # The sales user creates a criteria set and reads what it matches.
    sales.get_by_role("link", name="Criteria", exact=True).click()
    sales.get_by_role("button", name="New criteria set").click()
    sales.get_by_label("Name").fill("Northern leased lines")
    sales.get_by_label("Internet: Dedicated Internet access").check()
    sales.get_by_label("Regions").fill("GB, West Yorkshire, LS BD")
    sales.get_by_label("Contract value from").fill("50000")
    sales.get_by_label("Contract value up to").fill("5000")
    sales.get_by_role("button", name="Save criteria set").click()
    expect(sales.get_by_text("The minimum contract value is above the maximum.")).to_be_visible()
    sales.screenshot(path="tmp/screenshots/sellers-05-criteria-range-error.png", full_page=True)
    sales.get_by_label("Contract value from").fill("5000")
    sales.get_by_label("Contract value up to").fill("50000")
    sales.get_by_label("Healthcare and dental").check()
    sales.get_by_role("button", name="Save criteria set").click()
    expect(
        sales.get_by_text(re.compile(r"Matches requests for Dedicated Internet access with a site in GB"))
    ).to_be_visible()
    sales.screenshot(path="tmp/screenshots/sellers-06-criteria.png", full_page=True)

    # Three standing offers; one is edited into a second version, another is retired.
    _new_offer(
        sales,
        base,
        service="Internet: Dedicated Internet access",
        title="Leeds leased line",
        lo="100",
        hi="1000",
        unit="Mbps",
        monthly="310.00",
        areas="GB, West Yorkshire, LS",
    )
    _new_offer(
        sales,
        base,
        service="Data networks: SD-WAN",
        title="SD-WAN edge",
        lo="50",
        hi="500",
        unit="Mbps",
        monthly="140.00",
        areas="GB",
    )
    _new_offer(
        sales,
        base,
        service="Voice: SIP trunking",
        title="SIP channels",
        lo="2",
        hi="60",
        unit="channels",
        monthly="8.00",
        areas="GB",
    )
    sales.get_by_role("link", name="Offers", exact=True).click()
    expect(sales.locator("tbody tr")).to_have_count(3)
    sales.screenshot(path="tmp/screenshots/sellers-07-offers.png", full_page=True)

    sales.get_by_role("link", name="Leeds leased line").click()
    sales.get_by_role("button", name="Edit (new version)").click()
    sales.get_by_label("Monthly charge").fill("-5")
    sales.get_by_role("button", name="Save new version").click()
    expect(sales.get_by_text("A price cannot be negative.")).to_be_visible()
    sales.get_by_label("Monthly charge").fill("289.00")
    sales.get_by_role("button", name="Save new version").click()
    expect(sales.get_by_text("Saved as version 2; earlier versions are kept.")).to_be_visible()
    expect(sales.get_by_text("Version 1")).to_be_visible()
    expect(sales.locator("#version-2")).to_contain_text("GBP 289.00")
    expect(sales.locator("#version-1")).to_contain_text("GBP 310.00")
    sales.screenshot(path="tmp/screenshots/sellers-08-offer-versions.png", full_page=True)

    sales.get_by_role("link", name="← Offers").click()
    sales.get_by_role("link", name="SD-WAN edge").click()
    sales.get_by_role("button", name="Retire offer").click()
    expect(sales.get_by_text("“SD-WAN edge” is retired; buyers no longer see it.")).to_be_visible()
    sales.get_by_role("link", name="← Offers").click()
    expect(sales.locator("tbody tr")).to_have_count(2)
    sales.get_by_role("link", name="Retired").click()
    expect(sales.get_by_role("link", name="SD-WAN edge")).to_be_visible()
    sales.get_by_role("link", name="Dashboard", exact=True).click()
    expect(sales.get_by_role("link", name="Open the requests inbox")).to_be_visible()
    sales.screenshot(path="tmp/screenshots/sellers-09-sales-dashboard.png", full_page=True)


def test_billing_staff_land_on_the_portal_without_selling_actions(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    from tests.billing import world
    from tests.sellers import helpers

    cast = make_cast()
    world.build(cast)
    helpers.make_offer(cast.carrier_org, cast.seller_admin)
    sign_in(page, live_server.url, cast.seller_billing.email, PASSWORD)
    expect(page.get_by_text("Seller portal")).to_be_visible()
    expect(page.get_by_role("heading", name="Invoices and statements")).to_be_visible()
    shot("sellers-10-billing-dashboard")

    page.get_by_role("link", name="Offers", exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="New offer")).to_have_count(0)
    page.get_by_role("link", name="Billing", exact=True).click()
    tabs = page.get_by_role("navigation", name="Billing")
    for name in ("Contracts", "Usage uploads", "Invoice lines", "Settlements"):
        expect(tabs.get_by_role("link", name=name)).to_be_visible()
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.get_by_role("link", name="Settlement statements").click()
    expect(page.get_by_role("link", name="October 2026")).to_be_visible()
    shot("sellers-11-billing-settlements")
