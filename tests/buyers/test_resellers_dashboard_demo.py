"""Resellers' end customers, the dashboard, members through the core people page, and the demo data."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from buyers.models import BuyerProfile, BuyingGroup, EndCustomer, GroupInvitation, GroupMembership, Site
from marketplace.models import Membership, Organization, User
from tests.buyers.conftest import complete_profile, make_group, make_site
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def reseller(cast):  # type: ignore[no-untyped-def]
    complete_profile(cast.buyer_org, is_reseller=True)
    return cast


def test_non_resellers_do_not_see_end_customer_pages(cast) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.buyer_owner)
    assert client.get(reverse("buyers:customer_list")).status_code == 404
    assert client.get(reverse("buyers:customer_add")).status_code == 404
    assert "End customers" not in client.get(reverse("buyers:dashboard")).content.decode()


def test_reseller_manages_end_customers_and_their_sites(reseller) -> None:  # type: ignore[no-untyped-def]
    cast = reseller
    client = client_for(cast.buyer_member)
    response = client.post(reverse("buyers:customer_add"), {"name": "Tyne Taxis", "reference": "C-1"})
    customer = EndCustomer.objects.get(reseller=cast.buyer_org)
    assert response.url == reverse("buyers:customer_detail", args=[customer.pk])
    duplicate = client.post(reverse("buyers:customer_add"), {"name": "Other", "reference": "C-1"})
    assert duplicate.status_code == 400 and "already has this reference" in duplicate.content.decode()
    assert EndCustomer.objects.count() == 1

    site = {"name": "Dispatch", "street": "40 Pilgrim St", "city": "Newcastle", "postcode": "NE1 6QF", "country": "GB"}
    form = client.get(reverse("buyers:site_add") + f"?customer={customer.pk}").context["form"]
    assert form.initial["end_customer"] == customer
    client.post(reverse("buyers:site_add"), {**site, "end_customer": customer.pk})
    assert Site.objects.get(name="Dispatch").end_customer == customer
    page = client.get(reverse("buyers:customer_detail", args=[customer.pk])).content.decode()
    assert "Dispatch" in page
    listing = client.get(reverse("buyers:customer_list"))
    assert listing.context["page"].object_list[0].site_total == 1

    client.post(reverse("buyers:customer_edit", args=[customer.pk]), {"name": "Tyne Taxis Ltd", "reference": "C-9"})
    customer.refresh_from_db()
    assert (customer.name, customer.reference) == ("Tyne Taxis Ltd", "C-9")


def test_sites_cannot_point_at_another_resellers_customer(reseller) -> None:  # type: ignore[no-untyped-def]
    cast = reseller
    complete_profile(cast.other_buyer_org, is_reseller=True)
    foreign = EndCustomer.objects.create(reseller=cast.other_buyer_org, name="Foreign", reference="F-1")
    site = {"name": "Sneaky", "street": "1 Rd", "city": "Leeds", "postcode": "LS1 1AA", "country": "GB"}
    response = client_for(cast.buyer_owner).post(reverse("buyers:site_add"), {**site, "end_customer": foreign.pk})
    assert response.status_code == 400
    assert not Site.objects.filter(name="Sneaky").exists()
    assert client_for(cast.buyer_owner).get(reverse("buyers:customer_detail", args=[foreign.pk])).status_code == 404


def test_dashboard_shows_what_needs_attention(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    complete_profile(cast.buyer_org)
    for i in range(3):
        make_site(cast.buyer_org, f"Site {i}")
    group, _ = make_group(cast.buyer_owner)
    GroupMembership.objects.create(group=group, organization=cast.other_buyer_org, status="requested")
    other_group, _ = make_group(cast.other_buyer, name="Other Group")
    GroupInvitation.objects.create(group=other_group, email=cast.buyer_owner.email.lower(), organization=cast.buyer_org)
    client = client_for(cast.buyer_owner)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("buyers:dashboard"))
    html = response.content.decode()
    assert "Verified" in html
    assert response.context["site_counts"]["active"] == 3
    assert "Other Buyer Ltd</strong> asks to join" in html
    assert "invites you to the buying group <strong>Other Group" in html
    assert cast.buyer_member.email in html
    assert "Main Street Merchants" in html


def test_dashboard_points_an_unregistered_owner_to_the_registration(cast) -> None:  # type: ignore[no-untyped-def]
    assert "Complete registration" in client_for(cast.buyer_owner).get(reverse("buyers:dashboard")).content.decode()
    member_page = client_for(cast.buyer_member).get(reverse("buyers:dashboard")).content.decode()
    assert "An owner of" in member_page and "Complete registration" not in member_page


def test_owner_invites_a_member_through_the_core_people_page(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    owner = client_for(cast.buyer_owner)
    assert reverse("people") in owner.get(reverse("buyers:dashboard")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            reverse("people_invite"), {"email": "new.colleague@buyer.test", "role": "member", "delivery": "link"}
        )
    assert response.status_code == 302
    link = re.search(r"https?://[^\s]+/invitation/[^\s/]+/", mail.outbox[-1].body)
    assert link
    path = "/" + link.group(0).split("/", 3)[3]
    from django.test import Client

    visitor = Client()
    visitor.post(path, {"new_password1": "a-long-new-passphrase-9", "new_password2": "a-long-new-passphrase-9"})
    user = User.objects.get(email="new.colleague@buyer.test")
    assert user.check_password("a-long-new-passphrase-9")
    assert Membership.objects.get(user=user).organization == cast.buyer_org
    assert client_for(user).get(reverse("buyers:site_list")).status_code == 200


def test_demo_seed_is_complete_and_idempotent(db) -> None:  # type: ignore[no-untyped-def]
    from buyers import demo as buyers_demo
    from marketplace import demo as core_demo

    core_demo.seed()
    buyers_demo.seed()
    counts = [
        model.objects.count()
        for model in (Organization, User, Membership, BuyerProfile, Site, EndCustomer, BuyingGroup, GroupMembership)
    ]
    core_demo.seed()
    buyers_demo.seed()
    again = [
        model.objects.count()
        for model in (Organization, User, Membership, BuyerProfile, Site, EndCustomer, BuyingGroup, GroupMembership)
    ]
    assert counts == again
    acme = Organization.objects.get(name="Acme Logistics")
    assert acme.sites.count() == 6
    assert len(set(acme.sites.values_list("region", flat=True))) == 3
    assert Organization.objects.get(name="Birch Dental Group").sites.count() == 3
    harbor = Organization.objects.get(name="Harbor Voice Partners")
    assert harbor.buyer_profile.is_reseller and harbor.end_customers.count() == 2
    assert User.objects.get(email="reseller@example.com").membership.organization == harbor
    group = BuyingGroup.objects.get(name="Main Street Merchants")
    assert group.lead == acme
    statuses = dict(group.memberships.values_list("organization__name", "status"))
    assert statuses["Birch Dental Group"] == "active" and list(statuses.values()).count("requested") == 1
    assert Organization.objects.filter(kind="buyer", verification_status="pending").count() == 1
    from buyers.services import group_join_with_code

    bakery = Organization.objects.get(name="Corner Bakery Co")
    assert bakery.group_memberships.get().status == "requested"
    with pytest.raises(Exception, match="already asked"):
        group_join_with_code(
            actor=User.objects.get(email="buyer3@example.com"), organization=bakery, code=buyers_demo.DEMO_GROUP_CODE
        )


def test_admin_lists_buyer_objects_read_only(cast) -> None:  # type: ignore[no-untyped-def]
    complete_profile(cast.buyer_org)
    make_site(cast.buyer_org)
    group, _ = make_group(cast.buyer_owner)
    admin = client_for(cast.moderator)
    for name in ("buyerprofile", "site", "endcustomer", "buyinggroup"):
        assert admin.get(reverse(f"admin:buyers_{name}_changelist")).status_code == 200
    page = admin.get(reverse("admin:buyers_buyinggroup_change", args=[group.pk])).content.decode()
    assert group.join_code_hash not in page


def test_one_time_links_expire_and_cannot_be_reused(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    import time_machine
    from django.test import Client
    from django.utils import timezone

    owner = client_for(cast.buyer_owner)
    with django_capture_on_commit_callbacks(execute=True):
        owner.post(reverse("people_invite"), {"email": "late@buyer.test", "role": "member", "delivery": "link"})
        owner.post(reverse("people_invite"), {"email": "twice@buyer.test", "role": "member", "delivery": "link"})
    links = {}
    for message in mail.outbox:
        found = re.search(r"https?://[^\s]+(/invitation/[^\s/]+/)", message.body)
        if found:
            links[message.to[0]] = found.group(1)
    password = {"new_password1": "a-long-new-passphrase-9", "new_password2": "a-long-new-passphrase-9"}
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = Client().post(links["late@buyer.test"], password)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not User.objects.get(email="late@buyer.test").check_password(password["new_password1"])

    assert Client().post(links["twice@buyer.test"], password).status_code == 302
    again = Client().post(links["twice@buyer.test"], {**password, "new_password1": "x" * 20, "new_password2": "x" * 20})
    assert again.status_code == 410
    assert User.objects.get(email="twice@buyer.test").check_password(password["new_password1"])
