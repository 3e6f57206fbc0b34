"""Access rules for the rfq app's carrier and moderator-console URLs (see access_table_base.py for the vocabulary).

Every request here is cast.buyer_org's, listed to cast.carrier_org only: the other carrier was never invited
and gets 404, exactly like a request that does not exist. Billing staff of the carrier read but may not write:
tests/rfq/seller/test_access.py checks them against BILLING_WRITES.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import Cast
from tests.security.access_table_base import SELLERS, Entry, allow

OWN_CARRIER = ("seller_admin", "seller_sales")
INVITED = allow(*OWN_CARRIER)
MODERATOR = allow("moderator")


def _rfq(cast: Cast) -> dict[str, Any]:
    from tests.rfq import builders

    return {"pk": builders.published(cast.buyer_owner, [cast.carrier_org]).pk}


def _bid(cast: Cast) -> dict[str, Any]:
    from tests.rfq import builders

    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    builders.bid(rfq, cast.seller_admin)
    return {"pk": rfq.pk}


def _receipt(cast: Cast) -> dict[str, Any]:
    return {**_bid(cast), "number": 1}


def _attachment(cast: Cast) -> dict[str, Any]:
    from rfq import services
    from rfq.models import Bid
    from tests.rfq import builders

    kwargs = _bid(cast)
    bid = Bid.objects.get(rfq_id=kwargs["pk"], carrier=cast.carrier_org)
    upload = SimpleUploadedFile("coverage.pdf", builders.PDF, content_type="application/pdf")
    attachment = services.bid_attachment_add(actor=cast.seller_admin, bid=bid, file=upload)
    return {**kwargs, "attachment_pk": attachment.pk}


def _prior_bill_after_award(cast: Cast) -> dict[str, Any]:
    from tests.rfq import builders

    rfq = builders.published(cast.buyer_owner, [cast.carrier_org], prior_bill=True)
    builders.bid(rfq, cast.seller_admin)
    rfq = builders.awarded(rfq, winner=cast.carrier_org)
    return {"pk": rfq.pk, "bill_pk": rfq.prior_bills.get().pk}


RFQ_SELLER_TABLE: dict[str, Entry] = {
    # Carrier pages: only through the carrier's own invitation.
    "rfq:seller_inbox": Entry(allow(*SELLERS), note="every carrier has its own inbox; the other one is empty"),
    "rfq:seller_detail": Entry(INVITED, kwargs=_rfq),
    "rfq:seller_respond": Entry(INVITED, kwargs=_rfq, method="POST", data=lambda c: {"action": "intend"}),
    "rfq:seller_ask": Entry(INVITED, kwargs=_rfq, method="POST", data=lambda c: {"text": "Is there a comms room?"}),
    "rfq:seller_summary_pdf": Entry(INVITED, kwargs=_rfq),
    "rfq:seller_prior_bill": Entry(
        INVITED, kwargs=_prior_bill_after_award, note="prior bills only for the winner, after award"
    ),
    "rfq:seller_bid": Entry(INVITED, kwargs=_rfq),
    "rfq:seller_bid_receipt": Entry(INVITED, kwargs=_receipt),
    "rfq:seller_bid_withdraw": Entry(
        INVITED, kwargs=_bid, method="POST", note="the second rightful user is told it is already withdrawn"
    ),
    "rfq:seller_bid_reconfirm": Entry(INVITED, kwargs=_bid, method="POST"),
    "rfq:seller_attachment": Entry(INVITED, kwargs=_attachment),
    # Moderator console.
    "rfq:console_list": Entry(MODERATOR),
    "rfq:console_detail": Entry(MODERATOR, kwargs=_rfq),
    "rfq:console_suspend": Entry(
        MODERATOR, kwargs=_rfq, method="POST", data=lambda c: {"reason": "Duplicate of another request."}
    ),
}

# Carrier billing staff: these answer 403; every other carrier URL above answers them 200.
BILLING_WRITES = {
    "rfq:seller_respond",
    "rfq:seller_ask",
    "rfq:seller_bid_withdraw",
    "rfq:seller_bid_reconfirm",
}
