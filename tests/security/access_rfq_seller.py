"""Access rules for the rfq app's carrier and moderator-console URLs (see access_table_base.py for the vocabulary).

Every request here is cast.buyer_org's, listed to cast.carrier_org only: the other carrier was never invited
and gets 404, exactly like a request that does not exist. carrier_org's billing staff read the anonymous
request page, the carrier's own bid, its receipts and attachments (rfq/selectors.py seller_can_write,
rfq/services.py _require_carrier_staff: every carrier role reads, admins and sales write) but get 403 on every
answer, question and bid change; tests/rfq/seller/test_access.py checks them against BILLING_WRITES.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import Cast
from tests.security.access_table_base import FORBIDDEN, SELLERS, Entry, allow

OWN_CARRIER = ("seller_admin", "seller_sales")
# The invited carrier's pages: its billing staff read them.
INVITED = allow(*OWN_CARRIER, "seller_billing")
# The invited carrier's answers and bid changes: its billing staff get 403.
INVITED_WRITE = allow(*OWN_CARRIER, forbidden=("seller_billing",))
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
    "rfq:seller_inbox": Entry(
        allow(*SELLERS, "seller_billing"), note="every carrier has its own inbox; the other one is empty"
    ),
    "rfq:seller_detail": Entry(INVITED, kwargs=_rfq),
    "rfq:seller_respond": Entry(INVITED_WRITE, kwargs=_rfq, method="POST", data=lambda c: {"action": "intend"}),
    "rfq:seller_ask": Entry(
        INVITED_WRITE, kwargs=_rfq, method="POST", data=lambda c: {"text": "Is there a comms room?"}
    ),
    "rfq:seller_summary_pdf": Entry(INVITED, kwargs=_rfq),
    "rfq:seller_prior_bill": Entry(
        INVITED, kwargs=_prior_bill_after_award, note="prior bills only for the winner, after award"
    ),
    "rfq:seller_bid": Entry(INVITED, kwargs=_rfq, note="GET reads the bid form; its POST is 403 for billing"),
    "rfq:seller_bid_receipt": Entry(INVITED, kwargs=_receipt),
    "rfq:seller_bid_withdraw": Entry(
        INVITED_WRITE, kwargs=_bid, method="POST", note="the second rightful user is told it is already withdrawn"
    ),
    "rfq:seller_bid_reconfirm": Entry(INVITED_WRITE, kwargs=_bid, method="POST"),
    "rfq:seller_attachment": Entry(INVITED, kwargs=_attachment),
    # Moderator console.
    "rfq:console_list": Entry(MODERATOR),
    "rfq:console_detail": Entry(MODERATOR, kwargs=_rfq),
    "rfq:console_suspend": Entry(
        MODERATOR, kwargs=_rfq, method="POST", data=lambda c: {"reason": "Duplicate of another request."}
    ),
}

# carrier_org's billing staff get 403 here; every other carrier URL above answers them 200. Read off the table.
BILLING_WRITES = {key for key, entry in RFQ_SELLER_TABLE.items() if entry.expect["seller_billing"] == FORBIDDEN}
