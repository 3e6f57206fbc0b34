"""Access rules for the rfq app's buyer-facing URLs (see access_table_base.py for the vocabulary).

Every request belongs to the cast's buyer_org: its owner and member may; other buyers, carriers (invited or
not), the moderator and the billing agent get 404 on buyer pages; visitors are sent to sign in.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Cast
from tests.security.access_table_base import BUYERS, Entry, allow

OWN = allow("buyer_owner", "buyer_member")


def _draft(cast: Cast) -> dict[str, Any]:
    from tests.rfq import builders

    return {"pk": builders.draft(cast.buyer_owner).pk}


def _draft_step(cast: Cast) -> dict[str, Any]:
    return {**_draft(cast), "step": "services"}


def _published(cast: Cast) -> dict[str, Any]:
    from tests.rfq import builders

    return {"pk": builders.published(cast.buyer_owner, [cast.carrier_org]).pk}


def _question(cast: Cast) -> dict[str, Any]:
    from rfq import services
    from rfq.models import RfqInvitation
    from tests.rfq import builders

    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    invitation = RfqInvitation.objects.get(rfq=rfq, carrier=cast.carrier_org)
    question = services.question_ask(actor=cast.seller_sales, invitation=invitation, text="Is there a lift?")
    return {"pk": rfq.pk, "question_pk": question.pk}


def _bill(cast: Cast) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rfq import services
    from tests.rfq import builders

    rfq = builders.draft(cast.buyer_owner)
    pdf = SimpleUploadedFile("bill.pdf", b"%PDF-1.4\n%%EOF\n")
    return {"pk": rfq.pk, "bill_pk": services.prior_bill_add(actor=cast.buyer_owner, rfq=rfq, file=pdf).pk}


def _with_bids(cast: Cast) -> dict[str, Any]:
    from tests.rfq import builders

    return {"pk": builders.with_bids(cast).pk}


def _selected(cast: Cast) -> dict[str, Any]:
    from rfq import services
    from rfq.models import Rfq
    from tests.rfq import builders

    rfq = builders.with_bids(cast)
    bid = rfq.bids.get(carrier=cast.carrier_org)
    services.rfq_select(actor=cast.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in bid.lines.all()})
    builders.terms()
    return {"pk": Rfq.objects.get(pk=rfq.pk).pk}


RFQ_BUYER_TABLE: dict[str, Entry] = {
    "rfq:list": Entry(allow(*BUYERS)),
    "rfq:create": Entry(allow(*BUYERS)),
    "rfq:step": Entry(OWN, kwargs=_draft_step),
    "rfq:service_row": Entry(OWN, kwargs=_draft, query="?remove=1", note="htmx partial"),
    "rfq:publish": Entry(OWN, kwargs=_draft, method="POST", note="incomplete: back to review with what is missing"),
    "rfq:prior_bill_download": Entry(OWN, kwargs=_bill),
    "rfq:detail": Entry(OWN, kwargs=_published),
    "rfq:question_answer": Entry(
        OWN, kwargs=_question, method="POST", data=lambda c: {f"q{0}-answer": ""}, note="empty answer: 400 form"
    ),
    "rfq:addendum_create": Entry(OWN, kwargs=_published, method="POST", data=lambda c: {"description": ""}),
    "rfq:cancel": Entry(OWN, kwargs=_published, method="POST", data=lambda c: {"reason": ""}),
    "rfq:confirm_sites": Entry(OWN, kwargs=_published, method="POST", data=lambda c: {}),
    "rfq:compare": Entry(OWN, kwargs=_with_bids),
    "rfq:compare_csv": Entry(OWN, kwargs=_with_bids),
    "rfq:award_select": Entry(OWN, kwargs=_with_bids),
    "rfq:award_terms": Entry(OWN, kwargs=_selected),
}
