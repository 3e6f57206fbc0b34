"""In a group request every organisation accepts the terms with its own PO number and invoice delivery, and its
contract (so its invoices) carries them; the lead's PO number on the request is the lead's alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Contract
from marketplace.selectors import terms_current
from rfq import services as rfq_services
from rfq.models import Award
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db


def test_each_organisation_of_a_group_request_bills_with_its_own_po_and_delivery(
    world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    group = builders.buying_group(world.buyer_org, world.other_buyer_org)
    member_site = builders.site(world.other_buyer_org, "Clinic", postcode="LS2 7AA")
    rfq = builders.published(world.buyer_owner, [world.carrier_org], sites=[world.sites[0], member_site], group=group)
    bid = builders.bid(rfq, world.seller_sales)
    builders.past_deadline(rfq)
    rfq_services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in bid.lines.all()})
    terms = terms_current()
    assert terms is not None

    member = client_for(world.other_buyer)
    url = reverse("rfq:award_terms", args=[rfq.pk])
    page = member.get(url).content.decode()
    # The member's form does not offer the lead's PO number as its own.
    assert "Your purchase order number" in page and rfq.po_number not in page
    too_long = member.post(
        url, {"po_number": "X" * 41, "invoice_delivery": "portal", "agree": "on", "terms_version": terms.version}
    )
    assert too_long.status_code == 400 and "at most 40 characters" in too_long.content.decode()
    assert not Award.objects.filter(rfq=rfq, buyer=world.other_buyer_org).exists()
    with django_capture_on_commit_callbacks(execute=True):
        member.post(
            url,
            {
                "po_number": " CLINIC-PO-77 ",
                "invoice_delivery": "portal",
                "agree": "on",
                "terms_version": terms.version,
            },
        )
        rfq_services.award_accept_terms(actor=world.buyer_owner, rfq=rfq, organization=world.buyer_org, terms=terms)

    contracts = {c.buyer_id: c for c in Contract.objects.filter(rfq=rfq)}
    mine, theirs = contracts[world.buyer_org.pk], contracts[world.other_buyer_org.pk]
    assert (theirs.po_number, theirs.invoice_delivery) == ("CLINIC-PO-77", "portal")
    assert (mine.po_number, mine.invoice_delivery) == (rfq.po_number, rfq.invoice_delivery)
