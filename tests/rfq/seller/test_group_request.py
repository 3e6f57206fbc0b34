"""A buying group's request reaches carriers as one bigger anonymous buyer: counts, never names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from buyers import services as buyer_services
from marketplace.models import ServiceType
from rfq import services
from rfq.models import Rfq
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db


def _group_request(cast) -> Rfq:  # type: ignore[no-untyped-def]
    group, code = buyer_services.group_create(
        actor=cast.buyer_owner,
        organization=cast.buyer_org,
        name="Zqx Merchants Group",
        description="",
        region="North West",
        contact_name="Zqxgroup Contact",
        contact_email="zqx-group@zqx-buyer.test",
        contact_phone="",
    )
    row = buyer_services.group_join_with_code(actor=cast.other_buyer, organization=cast.other_buyer_org, code=code)
    buyer_services.group_request_decide(actor=cast.buyer_owner, request=row, approve=True)
    builders.profile(cast.buyer_org)
    builders.profile(cast.other_buyer_org)
    sites = builders.marked_sites(cast.buyer_org)
    member_site = builders.site(
        cast.other_buyer_org, "Zqx Member Shop", street="5 Zqxmember Street", postcode="LS2 7EW"
    )
    rfq = services.rfq_create_draft(actor=cast.buyer_owner, buyer=cast.buyer_org, title="Group broadband", group=group)
    rfq = services.rfq_set_sites(actor=cast.buyer_owner, rfq=rfq, sites=[*sites, member_site])
    service = ServiceType.objects.get(code="internet-broadband")
    services.rfq_set_lines(
        actor=cast.buyer_owner,
        rfq=rfq,
        lines=[
            {"rfq_site": rs, "service_type": service, "features": {"bandwidth_mbps": 80, "sla": "99.5%"}}
            for rs in rfq.rfq_sites.all()
        ],
    )
    services.rfq_confirm_sites(
        actor=cast.other_buyer, rfq=rfq, organization=cast.other_buyer_org, site_ids=[member_site.pk]
    )
    services.rfq_set_visibility(
        actor=cast.buyer_owner, rfq=rfq, visibility=Rfq.Visibility.LISTED_ACCESS, carriers=[cast.carrier_org]
    )
    now = timezone.now()
    services.rfq_set_schedule(
        actor=cast.buyer_owner,
        rfq=rfq,
        bid_deadline=now + timedelta(days=3),
        decision_deadline=now + timedelta(days=20),
        desired_start=None,
        term_months=36,
    )
    services.rfq_publish(actor=cast.buyer_owner, rfq=rfq)
    rfq.refresh_from_db()
    return rfq


def test_group_request_shows_counts_of_buyers_and_sites_but_no_names(cast) -> None:  # type: ignore[no-untyped-def]
    builders.seed_identity(cast)
    rfq = _group_request(cast)
    assert rfq.status == Rfq.Status.OPEN
    client = client_for(cast.seller_sales)
    inbox = client.get(reverse("rfq:seller_inbox")).content.decode()
    alias = f"Buyer group {rfq.group.reference} (2 buyers, 3 sites)"
    assert alias in inbox
    detail = client.get(reverse("rfq:seller_detail", args=[rfq.pk])).content.decode()
    assert alias in detail
    assert "(2 buyers in a buying group)" in detail
    assert "LS2 7EW, Leeds, GB" in detail
    for page in (inbox, detail):
        for secret in (
            *builders.MARKERS.values(),
            cast.other_buyer_org.name,
            "Zqx Merchants Group",
            "Zqx Member Shop",
            "Zqxmember",
            "Zqxgroup",
        ):
            assert secret not in page, secret
