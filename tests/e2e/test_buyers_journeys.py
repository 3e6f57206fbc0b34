"""Buyer journeys in the browser: registration with documents, sites, a member, verification, buying groups."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, OrganizationFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CSV_HEADER = "name,street,city,region,postcode,country,contact_name,contact_phone,contact_email,notes"


def _csv(*rows: str) -> dict:  # type: ignore[type-arg]
    return {"name": "sites.csv", "mimeType": "text/csv", "buffer": "\n".join([CSV_HEADER, *rows]).encode()}


def _local(url: str, base: str) -> str:
    """Point a link from an e-mail (built from SITE_URL) at the live test server."""
    return base + "/" + url.split("/", 3)[3]


def test_visitor_registers_a_buyer_adds_sites_and_a_member_and_gets_verified(  # type: ignore[no-untyped-def]
    live_server, page, browser, shot
) -> None:
    base = live_server.url
    moderator = make_cast().moderator

    # Sign up, confirm the e-mail, create the organisation.
    page.goto(base + "/accounts/signup/")
    page.get_by_label("Email").fill("olive@oakfield.test")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    link = re.search(r"http://[^\s]+/accounts/confirm-email/\S+", mail.outbox[-1].body)
    assert link
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("We buy telecom services").check()
    page.get_by_label("Organisation's legal name").fill("Oakfield Garden Centres Ltd")
    page.get_by_label("Street address").fill("1 Orchard Way")
    page.get_by_label("City").fill("York")
    page.get_by_label("Postcode").fill("YO1 7HH")
    page.get_by_label("Country code").fill("GB")
    page.get_by_label("Phone").fill("+44 1904 496 000")
    page.get_by_label("Contact e-mail for the organisation").fill("office@oakfield.test")
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_text("Finish your registration.")).to_be_visible()
    shot("buyers-01-dashboard-before-registration")

    # The registration, step by step.
    page.get_by_role("button", name="Complete registration").click()
    expect(page.get_by_role("heading", name="Step 1: Organisation")).to_be_visible()
    page.get_by_label("Trading name").fill("Oakfield")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Step 2: Contact details")).to_be_visible()
    page.get_by_label("Region, state or county").fill("North Yorkshire")
    page.get_by_label("Billing contact e-mail").fill("billing@oakfield.test")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save and continue").click()  # empty: errors beside the fields
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    shot("buyers-02-business-step-errors")
    page.get_by_label("Industry").select_option(label="Retail and wholesale")
    page.get_by_label("Employees").select_option(label="50–249 employees")
    page.get_by_label("Annual revenue").select_option(label="£10–50 million")
    page.get_by_label("Number of sites").fill("12")
    page.get_by_label("Annual telecom spend").select_option(label="£50,000–250,000 a year")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Company registration number").fill("07654321")
    page.get_by_label("VAT or tax number").fill("GB765432100")
    page.get_by_label("Postcode").check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Step 5: Supporting documents")).to_be_visible()
    page.get_by_label("What is it?").select_option(label="Company registration certificate")
    page.get_by_label("Document").set_input_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"MZ not really a pdf"}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("This file is not a PDF, PNG, JPEG file")).to_be_visible()
    shot("buyers-03-document-wrong-type")
    page.get_by_label("What is it?").select_option(label="Company registration certificate")
    page.get_by_label("Document").set_input_files(
        {"name": "../../certificate.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="certificate.pdf")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("07654321")).to_be_visible()
    shot("buyers-04-review")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("waiting for the moderator's review").first).to_be_visible()
    expect(page.locator("h1 .status")).to_have_text("Pending review")

    # Sites: one by hand, then a CSV file that is refused and one that is imported.
    page.get_by_role("link", name="Add a site").first.click()
    page.get_by_label("Name").fill("York garden centre")
    page.get_by_label("Street address").fill("1 Orchard Way")
    page.locator("#id_city").fill("York")
    page.get_by_label("Postcode").fill("YO1 7HH")
    page.locator("#id_contact_name").fill("Olive Oak")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_text("Added York garden centre.")).to_be_visible()
    page.get_by_role("button", name="Import from CSV").click()
    page.get_by_label("CSV file").set_input_files(
        _csv(
            "Leeds centre,2 Kirkgate,Leeds,West Yorkshire,LS1 6BH,GB,Lee,,,",
            "Hull centre,3 Dock St,Hull,East Yorkshire,,GB,Hal,,not-an-email,",
            "York garden centre,9 Other St,York,North Yorkshire,YO1 8AA,Britain,,,,",
        )
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Problems in the file")).to_be_visible()
    shot("buyers-05-csv-errors")
    page.get_by_label("CSV file").set_input_files(
        _csv(
            "Leeds centre,2 Kirkgate,Leeds,West Yorkshire,LS1 6BH,GB,Lee,,,",
            "Hull centre,3 Dock St,Hull,East Yorkshire,HU1 1AA,GB,Hal,,hal@oakfield.test,",
        )
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 2 sites.")).to_be_visible()
    expect(page.get_by_text("3 sites.")).to_be_visible()
    shot("buyers-06-sites")

    # A colleague, invited through the core people page with a one-time link.
    page.get_by_role("link", name="People").click()
    page.get_by_label("Colleague's e-mail").fill("pete@oakfield.test")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("Invitation sent to pete@oakfield.test")).to_be_visible()
    invite = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[-1].body)
    assert invite
    colleague = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    colleague.goto(_local(invite.group(0), base))
    colleague.locator("#id_new_password1").fill("a-brand-new-passphrase-7")
    colleague.locator("#id_new_password2").fill("a-brand-new-passphrase-7")
    colleague.get_by_role("button", name="Set my password").click()
    expect(colleague.get_by_text("Your password is set.")).to_be_visible()
    sign_in(colleague, base, "pete@oakfield.test", "a-brand-new-passphrase-7")
    expect(colleague.get_by_text("Buyer portal")).to_be_visible()
    colleague.get_by_role("link", name="Sites", exact=True).click()
    expect(colleague.get_by_text("Leeds centre")).to_be_visible()
    colleague.screenshot(path="tmp/screenshots/buyers-07-member-sees-sites.png", full_page=True)

    # The moderator verifies; the buyer sees it.
    mod = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(mod, base, moderator.email, PASSWORD)
    mod.goto(base + "/console/verification/")
    mod.get_by_role("link", name=re.compile("Oakfield")).first.click()
    expect(mod.get_by_text("07654321")).to_be_visible()
    mod.screenshot(path="tmp/screenshots/buyers-08-moderator-evidence.png", full_page=True)
    mod.get_by_role("button", name=re.compile("Verify")).click()
    page.goto(base + "/buyer/")
    expect(page.locator("h1 .status")).to_have_text("Verified")
    shot("buyers-09-verified-dashboard")


def test_second_buyer_joins_group_with_code_and_group_qualifies(live_server, page, browser, shot) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    cast = make_cast()
    newcomer = OrganizationFactory(name="Pine Street Pharmacy", kind="buyer", verification_status="pending")
    newcomer.verified_at = None
    newcomer.save()
    newcomer_owner = member_of(newcomer, "owner", email="owner@pinestreet.test")

    # The lead creates the group and sees the join code once.
    sign_in(page, base, cast.buyer_owner.email, PASSWORD)
    page.get_by_role("link", name="Groups").first.click()
    page.get_by_role("button", name="Create a buying group").click()
    page.get_by_label("Group name").fill("High Street Traders")
    page.get_by_label("Region").fill("Yorkshire")
    page.get_by_label("Contact name").fill("Alice Archer")
    page.get_by_label("Contact e-mail").fill("alice@acme.test")
    page.get_by_role("button", name="Create group").click()
    code = page.locator("#join-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    shot("buyers-10-group-created-code")
    page.reload()
    expect(page.locator("#join-code")).to_have_count(0)

    # The second buyer mistypes the code, then asks to join with the right one.
    other = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(other, base, newcomer_owner.email, PASSWORD)
    other.goto(base + "/buyer/groups/")
    other.get_by_label("Join code").fill(code[:-1] + ("2" if code[-1] != "2" else "3"))
    other.get_by_role("button", name="Ask to join").click()
    expect(other.get_by_text("This join code is not valid")).to_be_visible()
    other.screenshot(path="tmp/screenshots/buyers-11-wrong-code.png", full_page=True)
    other.get_by_label("Join code").fill(code)
    other.get_by_role("button", name="Ask to join").click()
    expect(other.get_by_text("You asked to join High Street Traders. The lead")).to_be_visible()

    # The lead approves; the group is not qualified until the moderator verifies the newcomer.
    page.goto(base + "/buyer/")
    expect(page.get_by_text("asks to join")).to_be_visible()
    page.get_by_role("link", name="High Street Traders").first.click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved Pine Street Pharmacy.")).to_be_visible()
    expect(page.locator("#qualification")).to_have_text("Not yet qualified")
    shot("buyers-12-group-approved-not-qualified")

    mod = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(mod, base, cast.moderator.email, PASSWORD)
    mod.goto(base + "/console/verification/")
    mod.get_by_role("link", name=re.compile("Pine Street Pharmacy")).first.click()
    mod.get_by_role("button", name=re.compile("Verify")).click()

    other.goto(base + "/buyer/groups/")
    other.get_by_role("link", name="High Street Traders").click()
    expect(other.locator("#qualification")).to_have_text("Qualified")
    other.screenshot(path="tmp/screenshots/buyers-13-group-qualified.png", full_page=True)


def test_lead_invites_by_email_and_sees_only_addresses_until_buyers_join(  # type: ignore[no-untyped-def]
    live_server, page, browser, shot
) -> None:
    from buyers.services import group_invite
    from tests.buyers.conftest import make_group

    base = live_server.url
    cast = make_cast()
    group, _ = make_group(cast.buyer_owner, name="Market Row Traders")
    stranger = "hello@newshop.test"
    # An invitation sent before the time to live, nobody answered it: it has expired.
    sent_long_ago = timezone.now() - timedelta(days=settings.GROUP_INVITATION_TTL_DAYS, hours=2)
    with time_machine.travel(sent_long_ago, tick=False):
        group_invite(actor=cast.buyer_owner, group=group, email="quiet@cornershop.test")

    # The lead invites a buyer's address and a stranger's: the same answer for both.
    sign_in(page, base, cast.buyer_owner.email, PASSWORD)
    page.goto(f"{base}/buyer/groups/{group.pk}/")
    for address in (cast.other_buyer.email, stranger):
        page.get_by_label("E-mail address to invite").fill(address)
        page.get_by_role("button", name="Invite", exact=True).click()
        expect(page.get_by_text(f"Invitation sent to {address}.")).to_be_visible()
    page.get_by_label("E-mail address to invite").fill(stranger.upper())
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_text("You have already invited this address")).to_be_visible()
    shot("buyers-14a-group-invite-duplicate")
    page.goto(f"{base}/buyer/groups/{group.pk}/")
    rows = page.locator("#invitations tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text=cast.other_buyer.email)).to_contain_text("Pending")
    expect(rows.filter(has_text=stranger)).to_contain_text("Pending")
    expired = rows.filter(has_text="quiet@cornershop.test")
    expect(expired).to_contain_text("Expired")
    expect(expired.get_by_role("button", name="Cancel invitation")).to_have_count(0)
    expect(page.get_by_text("Other Buyer Ltd")).to_have_count(0)
    shot("buyers-14-group-pending-and-expired-invitations")

    # The lead invites the quiet address again from its row; the new invitation is pending.
    expired.get_by_role("button", name="Invite again").click()
    expect(page.get_by_text("Invitation sent to quiet@cornershop.test.")).to_be_visible()
    expect(rows.filter(has_text="quiet@cornershop.test")).to_have_count(1)
    expect(rows.filter(has_text="quiet@cornershop.test")).to_contain_text("Pending")

    # The buyer's owner accepts from the dashboard.
    other = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(other, base, cast.other_buyer.email, PASSWORD)
    other.goto(base + "/buyer/")
    expect(other.get_by_text("invites you to the buying group")).to_be_visible()
    other.get_by_role("button", name="Accept").click()
    expect(other.get_by_text("You are now a member of Market Row Traders.")).to_be_visible()

    # The stranger's e-mail carries a one-time code; after signing up they join with it.
    invitation_mail = next(m for m in mail.outbox if m.to == [stranger])
    assert "/accounts/signup/" in invitation_mail.body
    code = re.search(r"[A-Z0-9]{5}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", invitation_mail.body)
    assert code
    shop = OrganizationFactory(name="New Shop Ltd", kind="buyer", verification_status="pending")
    shop.verified_at = None
    shop.save()
    member_of(shop, "owner", email=stranger)
    newcomer = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(newcomer, base, stranger, PASSWORD)
    newcomer.goto(base + "/buyer/groups/")
    newcomer.get_by_label("Join code").fill(code.group(0))
    newcomer.get_by_role("button", name="Ask to join").click()
    expect(newcomer.get_by_text("You joined Market Row Traders.")).to_be_visible()

    # Now the lead sees both organisations as members; only the quiet address still waits.
    page.goto(f"{base}/buyer/groups/{group.pk}/")
    expect(page.get_by_role("cell", name="Other Buyer Ltd")).to_be_visible()
    expect(page.get_by_role("cell", name="New Shop Ltd")).to_be_visible()
    expect(page.locator("#invitations tbody tr")).to_have_count(1)
    shot("buyers-15-group-invitations-accepted")
