"""The carrier's inbox: its invitations only, anonymous, filtered, paged, in the user's time zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import User
from rfq.models import Rfq, RfqInvitation
from tests.conftest import client_for
from tests.rfq import builders

pytestmark = pytest.mark.django_db
URL = reverse("rfq:seller_inbox")


def test_empty_state_points_to_the_criteria(cast) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast.seller_sales).get(URL)
    assert response.status_code == 200
    assert "No requests yet." in response.content.decode()


def test_lists_own_invitations_with_the_alias_only(cast) -> None:  # type: ignore[no-untyped-def]
    builders.seed_identity(cast)
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    html = client_for(cast.seller_sales).get(URL).content.decode()
    assert rfq.reference in html
    assert f"Buyer {cast.buyer_org.alias}" in html
    assert "Dedicated Internet access" in html
    assert builders.MARKERS["org_name"] not in html
    assert builders.MARKERS["trading_name"] not in html
    # The carrier that was not invited sees nothing of it.
    other = client_for(cast.other_seller).get(URL).content.decode()
    assert rfq.reference not in other
    assert "No requests yet." in other


def test_deadline_is_shown_in_the_users_time_zone(cast) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    deadline = timezone.now().replace(month=1, day=15, hour=12, minute=0, second=0, microsecond=0)
    deadline = deadline.replace(year=timezone.now().year + 1)
    Rfq.objects.filter(pk=rfq.pk).update(bid_deadline=deadline, decision_deadline=deadline + timedelta(days=10))
    User.objects.filter(pk=cast.seller_sales.pk).update(timezone="Asia/Tokyo")
    cast.seller_sales.refresh_from_db()
    html = client_for(cast.seller_sales).get(URL).content.decode()
    assert f"15 Jan {deadline.year} 21:00" in html  # 12:00 UTC is 21:00 in Tokyo
    assert "Asia/Tokyo" in html


def test_filters_by_service_region_deadline_and_state(cast) -> None:  # type: ignore[no-untyped-def]
    data = builders.published(cast.buyer_owner, [cast.carrier_org], title="Data lines")
    mobile = builders.published(
        cast.buyer_owner, [cast.carrier_org], title="Mobile fleet", services_per_site=("mobile-plans",), hours=24 * 20
    )
    client = client_for(cast.seller_sales)

    def refs(**params: str) -> set[str]:
        html = client.get(URL, params).content.decode()
        return {r.reference for r in (data, mobile) if r.reference in html}

    assert refs() == {data.reference, mobile.reference}
    assert refs(service_type="mobile-plans") == {mobile.reference}
    assert refs(region="Greater Manchester") == {data.reference, mobile.reference}
    assert refs(region="Cornwall") == set()
    assert refs(deadline="week") == {data.reference}
    RfqInvitation.objects.filter(rfq=mobile).update(state=RfqInvitation.State.DECLINED)
    assert refs(state="declined") == {mobile.reference}
    assert refs(state="open") == {data.reference, mobile.reference}
    assert refs(state="closed") == set()
    # Nonsense in the query string is ignored, never a 500.
    assert client.get(URL, {"state": "<script>", "deadline": "x", "page": "zz"}).status_code == 200
    assert "No requests match these filters." in client.get(URL, {"region": "Cornwall"}).content.decode()


def test_pages_and_pins_its_query_count(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    # Many invitations to many requests: copy the invitation onto 24 more published requests.
    for n in range(24):
        clone = Rfq.objects.get(pk=rfq.pk)
        clone.pk = None
        clone.reference = f"RFQ-T{n:04d}"
        clone.save()
        RfqInvitation.objects.create(rfq=clone, carrier=cast.carrier_org)
    client = client_for(cast.seller_sales)
    client.get(URL)  # warm the session and content types
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.status_code == 200
    assert "Page 1 of 2" in response.content.decode()
    assert "Page 2 of 2" in client.get(URL, {"page": 2}).content.decode()
