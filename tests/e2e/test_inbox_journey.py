"""Marking notices read in the inbox updates the navigation's unread count in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketplace.models import Notification
from tests.conftest import make_cast
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _mark_read(page, subject: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("row", name=re.compile(subject)).get_by_role("button", name=re.compile("Mark read"))


def test_marking_a_notice_read_updates_the_unread_count(live_server, page, shot) -> None:  # type: ignore[no-untyped-def]
    cast = make_cast()
    for key, subject in (("a", "Bids are open"), ("b", "A carrier asked a question")):
        Notification.objects.create(recipient=cast.buyer_owner, key=key, kind="test", subject=subject, body="")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    sign_in(page, live_server.url, cast.buyer_owner.email, PASSWORD)

    page.goto(live_server.url + "/inbox/")
    shot("inbox-two-unread")
    inbox = page.locator("#inbox-link")
    expect(inbox).to_have_attribute("aria-label", "Inbox, 2 unread")
    expect(inbox.locator(".badge")).to_have_text("2")

    _mark_read(page, "Bids are open").click()
    expect(inbox).to_have_attribute("aria-label", "Inbox, 1 unread")
    expect(inbox.locator(".badge")).to_have_text("1")
    expect(_mark_read(page, "Bids are open")).to_have_count(0)
    shot("inbox-one-read")

    _mark_read(page, "A carrier asked a question").click()
    expect(inbox).to_have_attribute("aria-label", "Inbox, 0 unread")
    expect(inbox.locator(".badge")).to_have_count(0)
    # The swapped-in link is still the navigation's, in its place.
    expect(page.locator("nav #inbox-link")).to_have_count(1)
    assert Notification.objects.filter(recipient=cast.buyer_owner, read_at__isnull=True).count() == 0
    assert problems == []
