"""A buyer turns on the authenticator-app second factor in the browser; the next sign-in asks for its code."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from tests.conftest import make_cast
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _code(secret: str) -> str:
    # A code read in the last seconds of its 30-second window may arrive after it closes on a busy machine.
    if 30 - time.time() % 30 < 5:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_buyer_activates_totp_and_the_next_sign_in_needs_the_code(live_server, browser, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    base = live_server.url
    sign_in(page, base, cast.buyer_owner.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/buyer/"))

    # Changing security settings asks for the password again first.
    page.goto(base + "/accounts/2fa/totp/activate/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Confirm")).click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"\w{16,}"))).to_be_visible()  # the QR code
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    shot("foundation-07-totp-activate")

    page.get_by_label("Authenticator code").fill("000000" if _code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text(re.compile("Incorrect code", re.I))).to_be_visible()
    shot("foundation-08-totp-wrong-code")
    page.get_by_label("Authenticator code").fill(_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text(re.compile("Authenticator app activated", re.I)).first).to_be_visible()

    # A fresh browser: the password alone is not enough any more.
    other = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(other, base, cast.buyer_owner.email, PASSWORD)
    expect(other).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    other.screenshot(path=str(SCREENSHOTS / "foundation-09-totp-sign-in.png"), full_page=True)
    other.get_by_label(re.compile("Authenticator code|Code")).fill(_code(secret))
    other.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(other).to_have_url(re.compile(r"/buyer/"))
