"""Billing in the browser: a carrier uploads usage, a moderator previews and finalises the month, the buyer
downloads the invoice, the moderator records the payment, the carrier sees its settlement statement."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from billing.models import Invoice, Settlement
from tests.billing import world
from tests.billing.conftest import usage_csv
from tests.conftest import make_cast
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _page_for(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    sign_in(page, base, email, PASSWORD)
    return page


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"billing-{name}.png"), full_page=True)


def test_usage_to_invoice_to_payment_to_settlement(live_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    world.contract(cast)
    base = live_server.url

    # The carrier uploads October's usage: a bad file first (nothing saved, every bad row listed), then a good one.
    carrier = _page_for(browser, base, cast.seller_admin.email)
    carrier.get_by_role("link", name="Billing").click()
    carrier.get_by_role("link", name="Usage uploads").click()
    bad = usage_csv(
        [("x1", "CT-ACME01", "12/10/2026", "2026-10-13T00:00:00Z", "5", "GB"), ("x2", "NOPE", *world.ROWS[0][2:])]
    )
    carrier.get_by_label("Usage file (CSV)").set_input_files({"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
    carrier.get_by_role("button", name="Upload and import").click()
    expect(carrier.get_by_text("nothing was imported")).to_be_visible()
    expect(carrier.get_by_role("cell", name="interval_start", exact=True)).to_be_visible()
    _shot(carrier, "01-usage-refused")
    carrier.get_by_role("link", name="← All uploads").click()
    good = usage_csv(world.ROWS)
    carrier.get_by_label("Usage file (CSV)").set_input_files(
        {"name": "october.csv", "mimeType": "text/csv", "buffer": good}
    )
    carrier.get_by_role("button", name="Upload and import").click()
    expect(carrier.get_by_text("Imported 3 record(s)")).to_be_visible()
    _shot(carrier, "02-usage-imported")
    carrier.get_by_role("link", name="← All uploads").click()
    carrier.get_by_label("Usage file (CSV)").set_input_files(
        {"name": "again.csv", "mimeType": "text/csv", "buffer": good}
    )
    carrier.get_by_role("button", name="Upload and import").click()
    expect(carrier.get_by_text(re.compile("already imported"))).to_be_visible()

    # The moderator previews October (nothing written), runs it, reviews the drafts and finalises.
    moderator = _page_for(browser, base, cast.moderator.email)
    moderator.goto(base + "/billing/")
    moderator.get_by_label("Billing period").fill("2026-10")
    moderator.get_by_role("button", name="Open the period").click()
    expect(moderator.get_by_role("heading", name="Bill run: October 2026")).to_be_visible()
    moderator.get_by_role("button", name=re.compile("Preview")).click()
    expect(moderator.get_by_role("heading", name="Preview")).to_be_visible()
    expect(moderator.get_by_role("cell", name="Acme Test Logistics")).to_be_visible()
    assert not Invoice.objects.exists()
    _shot(moderator, "03-preview")
    moderator.get_by_role("button", name="Run the month").click()
    expect(moderator.get_by_role("heading", name=re.compile("Draft invoices"))).to_be_visible()
    _shot(moderator, "04-drafts")
    moderator.get_by_label(re.compile("I have reviewed the drafts")).check()
    moderator.get_by_role("button", name="Finalise and issue the invoices").click()
    expect(moderator.get_by_text(re.compile("is finalised: 1 invoice"))).to_be_visible()
    expect(moderator.get_by_text(re.compile("Corrections go through credit or debit notes"))).to_be_visible()
    _shot(moderator, "05-finalised")
    invoice = Invoice.objects.get()
    assert invoice.number and invoice.pdf

    # The buyer finds the invoice in the portal and downloads the PDF.
    buyer = _page_for(browser, base, cast.buyer_member.email)
    buyer.get_by_role("link", name="Billing").click()
    expect(buyer.get_by_role("link", name=invoice.number)).to_be_visible()
    _shot(buyer, "06-buyer-invoices")
    buyer.get_by_role("link", name=invoice.number).click()
    expect(buyer.get_by_role("heading", name=re.compile(f"Invoice {invoice.number}"))).to_be_visible()
    expect(buyer.get_by_role("heading", name="How to pay")).to_be_visible()
    _shot(buyer, "07-buyer-invoice")
    # The contract shows the month's usage per line and who reported it.
    buyer.get_by_role("link", name="Contracts").click()
    buyer.get_by_role("link", name="CT-ACME01").click()
    expect(buyer.get_by_role("heading", name="Usage and quality of service, billed in October 2026")).to_be_visible()
    expect(buyer.get_by_role("cell", name="The carrier").first).to_be_visible()
    _shot(buyer, "07b-buyer-contract-usage")
    buyer.go_back()
    buyer.go_back()
    with buyer.expect_download() as download:
        buyer.get_by_role("button", name="Download PDF").click()
    pdf = tmp_path / "invoice.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert invoice.number in text and f"{invoice.total} GBP" in text

    # The moderator records the buyer's transfer against the invoice; the invoice is paid.
    moderator.goto(base + "/billing/payments/")
    moderator.get_by_label("Buyer").select_option(label="Acme Test Logistics")
    moderator.get_by_label("Amount").fill(str(invoice.total))
    moderator.get_by_label("Reference").fill("BANK-2026-11-0042")
    moderator.get_by_label("Invoice").select_option(value=str(invoice.pk))
    moderator.get_by_role("button", name="Record the payment").click()
    expect(moderator.get_by_text("Payment BANK-2026-11-0042")).to_be_visible()
    _shot(moderator, "08-payment-recorded")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID

    # The carrier sees its settlement for October and downloads the statement.
    carrier.get_by_role("link", name="Billing").click()
    carrier.get_by_role("link", name="Settlements").click()
    settlement = Settlement.objects.get(carrier=cast.carrier_org)
    carrier.get_by_role("link", name="October 2026").click()
    expect(carrier.get_by_text(f"{settlement.net} GBP").first).to_be_visible()
    _shot(carrier, "09-carrier-settlement")
    with carrier.expect_download() as statement:
        carrier.get_by_role("button", name=re.compile("Download the statement")).click()
    path = tmp_path / "statement.pdf"
    statement.value.save_as(path)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert str(settlement.net) in text and invoice.number in text

    # The moderator's overview and ledger reconcile: billed = paid out or owed to carriers + commission.
    moderator.goto(base + "/billing/ledger/")
    expect(moderator.get_by_text("The GBP ledger reconciles")).to_be_visible()
    _shot(moderator, "10-ledger")
    moderator.goto(base + "/billing/")
    expect(moderator.get_by_role("link", name="October 2026")).to_be_visible()
    _shot(moderator, "11-overview")
    # The console's metrics show October's billing and commission.
    moderator.goto(base + "/console/")
    moderator.get_by_role("link", name=re.compile("Marketplace metrics")).click()
    expect(moderator.get_by_role("cell", name="October 2026")).to_be_visible()
    _shot(moderator, "11a-metrics")

    # November's run was picked up by a worker that then died: the page says so instead of spinning forever.
    import time

    from django.core.cache import cache

    from billing import services
    from billing.selectors import RUN_PATIENCE

    stale = {"phase": "rating", "done": 0, "total": 0, "at": time.time() - RUN_PATIENCE - 1}
    cache.set(services.progress_key(date(2026, 11, 1)), stale)
    moderator.goto(base + "/billing/runs/2026-11/")
    expect(moderator.get_by_text("The last run stopped before it finished")).to_be_visible()
    _shot(moderator, "11b-run-stopped")

    # November's usage holds a month no invoice line can carry: the run fails whole and the page says why.
    huge = [
        (f"n{i}", "CT-ACME01", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z", "999999999999", "GB") for i in range(101)
    ]
    world.upload(cast, huge, name="november.csv")
    moderator.reload()
    moderator.get_by_role("button", name="Run the month").click()
    expect(moderator.get_by_text(re.compile("larger than an invoice can hold"))).to_be_visible()
    expect(moderator.get_by_role("button", name="Finalise and issue the invoices")).to_have_count(0)
    _shot(moderator, "11c-run-failed")
    assert not Invoice.objects.filter(period=date(2026, 11, 1)).exists()
    # The billing agent finds both outcomes in the inbox, each leading to its run page.
    agent = _page_for(browser, base, cast.billing_agent.email)
    agent.get_by_role("link", name="Inbox").click()
    expect(agent.get_by_role("link", name=re.compile("November 2026: the bill run failed"))).to_be_visible()
    expect(agent.get_by_role("link", name=re.compile("October 2026: 1 draft invoice"))).to_be_visible()
    _shot(agent, "11d-agent-inbox")


def test_reseller_exports_charges_and_sales_staff_see_contracts_only(live_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from buyers.models import BuyerProfile, EndCustomer, Site

    cast = make_cast()
    BuyerProfile.objects.update_or_create(organization=cast.buyer_org, defaults={"is_reseller": True})
    customer = EndCustomer.objects.create(reseller=cast.buyer_org, name="Tyne Taxis", reference="TT-01")
    built = world.contract(cast)
    Site.objects.filter(name="Leeds office").update(end_customer=customer)
    world.build(cast)
    base = live_server.url

    buyer = _page_for(browser, base, cast.buyer_owner.email)
    buyer.get_by_role("link", name="Billing").click()
    buyer.get_by_role("link", name="End customers").click()
    buyer.get_by_label("Period", exact=True).fill("2026-10")
    buyer.get_by_role("button", name="Show").click()
    expect(buyer.get_by_role("cell", name=re.compile("Tyne Taxis"))).to_have_count(3)  # charges and two units
    _shot(buyer, "12-reseller-end-customers")
    with buyer.expect_download() as download:
        buyer.get_by_role("link", name=re.compile("Export charges")).click()
    path = tmp_path / "charges.csv"
    download.value.save_as(path)
    text = path.read_text()
    assert text.startswith("period,end_customer_reference") and "TT-01" in text and "Tyne Taxis" in text

    sales = _page_for(browser, base, cast.seller_sales.email)
    sales.get_by_role("link", name="Billing").click()
    expect(sales.get_by_role("link", name=built.number)).to_be_visible()
    expect(sales.get_by_role("link", name="Settlements")).to_have_count(0)
    sales.get_by_role("link", name=built.number).click()
    expect(sales.get_by_role("heading", name=f"Contract {built.number}")).to_be_visible()
    _shot(sales, "13-carrier-contract")


def test_moderator_allocates_what_a_payment_left_over(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from billing import services
    from billing.models import Payment

    cast = make_cast()
    built = world.build(cast)
    assert built.invoice is not None
    # The buyer paid 2,000.00 against October's 1,233.87; a debit note then asks 50.00 more.
    services.payment_record(
        actor=cast.moderator,
        buyer=cast.buyer_org,
        amount=Decimal("2000.00"),
        currency="GBP",
        received_on=date(2026, 11, 20),
        reference="BANK-OVER-1",
        invoice=built.invoice,
    )
    services.note_create(
        actor=cast.moderator, invoice=built.invoice, kind="debit", amount=Decimal("50.00"), reason="Missed charge"
    )
    base = live_server.url

    moderator = _page_for(browser, base, cast.moderator.email)
    moderator.goto(base + "/billing/payments/")
    moderator.get_by_role("link", name="766.13 GBP").click()
    expect(moderator.get_by_role("heading", name="Payment BANK-OVER-1")).to_be_visible()
    moderator.get_by_role("combobox", name="Invoice").select_option(value=str(built.invoice.pk))
    moderator.get_by_label("Amount").fill("766.13")
    moderator.get_by_role("button", name="Allocate").click()
    expect(moderator.get_by_text(f"Only 50.00 GBP is due on {built.invoice.number}.")).to_be_visible()
    _shot(moderator, "14-allocation-refused")
    moderator.get_by_label("Amount").fill("")
    moderator.get_by_role("button", name="Allocate").click()
    expect(moderator.get_by_text(f"Allocated 50.00 to {built.invoice.number}")).to_be_visible()
    _shot(moderator, "15-allocated")
    assert Payment.objects.get(reference="BANK-OVER-1").unallocated == Decimal("716.13")
    built.invoice.refresh_from_db()
    assert built.invoice.status == Invoice.Status.PAID

    # The carrier's October statement carries its share of the debit note; the ledger still reconciles.
    carrier = _page_for(browser, base, cast.seller_admin.email)
    carrier.goto(base + f"/billing/settlements/{built.settlement.pk}/")  # type: ignore[union-attr]
    expect(carrier.get_by_role("heading", name="Credit and debit notes")).to_be_visible()
    _shot(carrier, "16-settlement-with-note")
    moderator.goto(base + "/billing/ledger/")
    expect(moderator.get_by_text("The GBP ledger reconciles")).to_be_visible()
    _shot(moderator, "17-ledger-checks")
