"""Phone-width guards: the navigation and the widest tables fit a 390-pixel screen, pages raise no console errors,
and times carry their zone."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from rfq import services as rfq_services
from tests.billing import world
from tests.conftest import make_cast
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import PASSWORD
from tests.rfq import builders

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _phone(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=PHONE, timezone_id="Europe/London")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    sign_in(page, base, email, PASSWORD)
    return page, problems


def _fits(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"responsive-{name}.png"), full_page=True)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: the page is {widths[0]}px wide on a {widths[1]}px screen"


def _nav_fits(page) -> None:  # type: ignore[no-untyped-def]
    links = page.locator("nav[aria-label=Main] .nav-links > li")
    assert links.count() >= 3
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


def test_buyer_pages_fit_a_phone(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    cast.buyer_owner.timezone = "Europe/London"
    cast.buyer_owner.save(update_fields=["timezone"])
    contract = world.contract(cast)
    builders.published(cast.buyer_owner, [cast.carrier_org], title="Leased lines for every northern depot")
    page, problems = _phone(browser, live_server.url, cast.buyer_owner.email)

    page.goto(live_server.url + "/buyer/")
    _nav_fits(page)
    _fits(page, "01-buyer-dashboard")
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_role("heading", name="Requests for quote")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d{1,2} \w{3} \d{4} \d{2}:\d{2} (GMT|BST)")).first).to_be_visible()
    _fits(page, "02-buyer-requests")
    page.goto(f"{live_server.url}/billing/contracts/{contract.pk}/")
    expect(page.locator(".table-scroll table").first).to_be_visible()
    expect(page.get_by_role("columnheader", name=re.compile(r"Monthly \(GBP\)"))).to_be_visible()
    _fits(page, "03-buyer-contract")
    page.goto(live_server.url + "/inbox/")
    _fits(page, "04-buyer-inbox")
    page.goto(live_server.url + "/organization/people/")  # a table with sr-only labels inside the scroller
    _fits(page, "04-buyer-people")
    assert not problems, problems


def test_carrier_bid_page_fits_a_phone(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    builders.bid(rfq, cast.seller_sales, monthly="80.00", one_time="50.00")
    page, problems = _phone(browser, live_server.url, cast.seller_sales.email)

    page.goto(f"{live_server.url}/rfq/seller/{rfq.pk}/bid/")
    _nav_fits(page)
    expect(page.get_by_text(re.compile("SHA-256", re.I)).first).to_be_visible()
    _fits(page, "05-carrier-bid")
    page.get_by_role("link", name=re.compile("Revision 1")).click()
    expect(page.locator("#digest")).to_be_visible()
    _fits(page, "05-carrier-receipt")
    assert not problems, problems


def test_the_schedule_step_shows_the_saved_start_date(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    rfq = builders.scheduled(cast.buyer_owner)
    rfq_services.rfq_set_schedule(
        actor=cast.buyer_owner,
        rfq=rfq,
        bid_deadline=rfq.bid_deadline,
        decision_deadline=rfq.decision_deadline,
        desired_start=date(2027, 1, 6),
        term_months=rfq.term_months,
    )
    page, problems = _phone(browser, live_server.url, cast.buyer_owner.email)
    page.goto(f"{live_server.url}/rfq/{rfq.pk}/edit/schedule/")
    # An en-GB "06/01/2027" is no value for <input type=date>: the browser would show it empty and lose it on save.
    expect(page.get_by_label(re.compile("start", re.I))).to_have_value("2027-01-06")
    _fits(page, "06-buyer-schedule")
    assert not problems, problems
