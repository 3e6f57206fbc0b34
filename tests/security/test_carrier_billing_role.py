"""What a carrier's billing staff reach beyond the access table's status codes.

They are offered only what they may use: every link on a page they can open works for them, and no form or
htmx action on it posts where the access table refuses them. And they learn nothing of the buyer before award.
"""

from __future__ import annotations

import fnmatch
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.urls import Resolver404, resolve, reverse

from tests.conftest import Cast, client_for, make_cast
from tests.security.access_table import FORBIDDEN, NOT_FOUND, OK, TABLE

# Signed-in pages of the seller portal and the carrier's billing pages; public and third-party pages are
# covered by the table alone.
PORTAL = ("sellers:", "rfq:seller_", "billing:")
SHARED = {"home", "inbox", "people", "documents"}
PAGES = sorted(
    key
    for key, entry in TABLE.items()
    if entry.method == "GET" and entry.expect["seller_billing"] == OK and (key.startswith(PORTAL) or key in SHARED)
)


class _Targets(HTMLParser):
    """Collect (method, url) for every link, form and htmx request on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.found.add(("GET", a["href"]))
        if tag == "form":
            self.found.add((a.get("method", "get").upper(), a.get("action", "")))
        for attr, method in (("hx-get", "GET"), ("hx-post", "POST")):
            if a.get(attr):
                self.found.add((method, a[attr]))


def _populate(cast: Cast) -> None:
    """Give carrier_org something on every list: a billed month, an offer, criteria, coverage, a request."""
    from tests.billing import world
    from tests.rfq import builders
    from tests.sellers import helpers

    world.build(cast)
    helpers.make_offer(cast.carrier_org, cast.seller_admin)
    helpers.make_criteria(cast.carrier_org, cast.seller_admin, name="Northern lines")
    helpers.make_coverage(cast.carrier_org, cast.seller_admin)
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    builders.bid(rfq, cast.seller_admin)


def _rule_for(path: str) -> tuple[str, bool] | None:
    """The table's outcome for seller_billing at path, and whether the row is about one object."""
    match = resolve(path)
    key = f"{match.namespace}:{match.url_name}" if match.namespace else str(match.url_name)
    for pattern, entry in TABLE.items():
        if pattern == key or ("*" in pattern and fnmatch.fnmatchcase(key, pattern)):
            return entry.expect["seller_billing"], entry.kwargs is not None
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("key", PAGES)
def test_billing_staff_see_no_dead_ends(key: str) -> None:
    entry = TABLE[key]
    cast = make_cast()
    kwargs = entry.kwargs(cast) if entry.kwargs else {}
    if not kwargs:
        _populate(cast)
    if entry.setup:
        entry.setup(cast)
    client = client_for(cast.seller_billing)
    url = reverse(entry.sample or key, kwargs=kwargs) + entry.query
    response = client.get(url, follow=True)
    assert response.status_code == 200, f"{key}: {response.status_code}"
    if not response["Content-Type"].startswith("text/html"):
        return
    page = response.redirect_chain[-1][0] if response.redirect_chain else url
    parser = _Targets()
    parser.feed(response.content.decode())
    dead = []
    for method, target in sorted(parser.found):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or target.startswith("#"):
            continue
        path = parts.path or urlsplit(page).path
        if path.startswith((settings.STATIC_URL, settings.MEDIA_URL)) or path == reverse("account_logout"):
            continue
        try:
            rule = _rule_for(path)
        except Resolver404:
            dead.append(f"{method} {target}: no such URL")
            continue
        if method == "GET":
            status = client.get(f"{path}?{parts.query}" if parts.query else path, follow=True).status_code
            if status >= 400:
                dead.append(f"GET {target}: {status}")
        elif rule is None:
            dead.append(f"POST {target}: not in the access table")
        else:
            outcome, per_object = rule
            # A 404 in the table for one object (someone else's) says nothing about billing's own object.
            if outcome == FORBIDDEN or (outcome == NOT_FOUND and not per_object):
                dead.append(f"POST {target}: the table gives seller_billing {outcome}")
    assert not dead, f"{key} offers seller_billing: " + "; ".join(dead)


@pytest.mark.django_db
def test_billing_staff_learn_nothing_of_the_buyer_before_award(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from marketplace.models import Notification
    from rfq.models import Rfq
    from tests.rfq import builders

    builders.seed_identity(cast)
    with django_capture_on_commit_callbacks(execute=True):
        rfq = builders.published(cast.buyer_owner, [cast.carrier_org], visibility=Rfq.Visibility.LISTED_SENT)
        builders.bid(rfq, cast.seller_sales)
    billing = client_for(cast.seller_billing)
    pages = [
        reverse("sellers:dashboard"),
        reverse("rfq:seller_inbox"),
        reverse("rfq:seller_detail", args=[rfq.pk]),
        reverse("rfq:seller_bid", args=[rfq.pk]),
        reverse("rfq:seller_bid_receipt", args=[rfq.pk, 1]),
        reverse("billing:contract_list"),
        reverse("inbox"),
    ]
    markers = [value.lower() for value in builders.MARKERS.values()]
    for url in pages:
        response = billing.get(url)
        assert response.status_code == 200, url
        html = response.content.decode().lower()
        assert rfq.reference.lower() in html or not url.startswith("/rfq/"), url
        assert not [m for m in markers if m in html], url
    # The request went out by e-mail to the people who answer it, not to billing staff.
    assert any(cast.seller_sales.email in m.to for m in mail.outbox)
    assert not any(cast.seller_billing.email in m.to for m in mail.outbox)
    notes = "\n".join(f"{n.subject} {n.body}" for n in Notification.objects.filter(recipient=cast.seller_billing))
    assert not [m for m in markers if m in notes.lower()]
