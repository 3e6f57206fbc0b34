"""The buyer's list of requests and starting a new one."""

from __future__ import annotations

from django.urls import reverse

from buyers.models import BuyingGroup
from rfq.models import Rfq
from tests.conftest import client_for
from tests.factories import OrganizationFactory
from tests.rfq import builders


def test_empty_list_invites_a_first_request(cast) -> None:
    response = client_for(cast.buyer_member).get(reverse("rfq:list"))
    assert response.status_code == 200
    assert "No requests yet" in response.content.decode()
    assert reverse("rfq:create") in response.content.decode()


def test_list_filters_by_status_and_pages(cast, django_assert_max_num_queries) -> None:
    for i in range(27):
        Rfq.objects.create(buyer=cast.buyer_org, reference=f"RFQ-T{i:04}", title=f"Draft {i}")
    Rfq.objects.create(buyer=cast.buyer_org, reference="RFQ-OPEN01", title="Live one", status=Rfq.Status.OPEN)
    Rfq.objects.create(buyer=cast.other_buyer_org, reference="RFQ-OTHER1", title="Not yours")
    client = client_for(cast.buyer_owner)
    with django_assert_max_num_queries(8):
        page1 = client.get(reverse("rfq:list")).content.decode()
    assert "Page 1 of 2" in page1 and "Not yours" not in page1
    assert "Draft 26" in page1
    page2 = client.get(reverse("rfq:list") + "?page=2").content.decode()
    assert "Draft 0" in page2
    only_open = client.get(reverse("rfq:list") + "?status=open").content.decode()
    assert "Live one" in only_open and "Draft 1" not in only_open
    nothing = client.get(reverse("rfq:list") + "?status=awarded").content.decode()
    assert "No request is" in nothing
    assert client.get(reverse("rfq:list") + "?status=bogus").status_code == 200


def test_list_query_count_does_not_grow_with_requests(cast, django_assert_max_num_queries) -> None:
    builders.published(cast.buyer_owner, [cast.carrier_org])
    builders.draft(cast.buyer_owner, title="Second")
    client = client_for(cast.buyer_owner)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("rfq:list")).status_code == 200


def test_drafts_resume_at_their_step(cast) -> None:
    rfq = builders.draft(cast.buyer_owner)
    body = client_for(cast.buyer_owner).get(reverse("rfq:list")).content.decode()
    assert reverse("rfq:step", args=[rfq.pk, rfq.wizard_step]) in body
    assert rfq.wizard_step == "visibility"


def test_create_a_draft_and_land_on_sites(cast) -> None:
    client = client_for(cast.buyer_member)
    response = client.post(reverse("rfq:create"), {"title": "  New   offices "})
    rfq = Rfq.objects.get(buyer=cast.buyer_org)
    assert response.status_code == 302 and response["Location"] == reverse("rfq:step", args=[rfq.pk, "sites"])
    assert rfq.title == "New offices" and rfq.status == Rfq.Status.DRAFT and rfq.created_by == cast.buyer_member


def test_create_rejects_empty_title(cast) -> None:
    response = client_for(cast.buyer_owner).post(reverse("rfq:create"), {"title": "   "})
    assert response.status_code == 400
    assert not Rfq.objects.exists()


def _group(lead, *members, name: str, qualified: bool = True) -> BuyingGroup:  # type: ignore[no-untyped-def]
    group = builders.buying_group(lead, *members, name=name)
    if not qualified:
        for org in members:
            org.verification_status = "pending"
            org.save()
    return group


def test_group_lead_can_start_a_group_request_for_a_qualified_group_only(cast) -> None:
    member = OrganizationFactory(kind="buyer")
    qualified = _group(cast.buyer_org, member, name="Qualified group")
    unqualified = _group(
        cast.buyer_org, OrganizationFactory(kind="buyer", name="Pending Co"), name="Unqualified group", qualified=False
    )
    client = client_for(cast.buyer_owner)
    body = client.get(reverse("rfq:create")).content.decode()
    assert qualified.name in body and unqualified.name not in body
    assert client.post(reverse("rfq:create"), {"title": "Bad", "group": unqualified.pk}).status_code == 400
    client.post(reverse("rfq:create"), {"title": "Together", "group": qualified.pk})
    assert Rfq.objects.get(title="Together").group == qualified


def test_no_group_choice_for_a_buyer_leading_no_group(cast) -> None:
    body = client_for(cast.buyer_owner).get(reverse("rfq:create")).content.decode()
    assert "Group request" not in body
