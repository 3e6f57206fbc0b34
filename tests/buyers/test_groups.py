"""Buying groups: creation with a join code shown once, joining, approvals, leaving, qualification.

Invitations by e-mail are in test_group_invitations.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from buyers.models import BuyingGroup, GroupMembership
from buyers.selectors import group_is_qualified
from buyers.services import JOIN_ATTEMPTS_LIMIT
from marketplace.models import AuditEvent, Notification, Organization
from tests.buyers.conftest import make_group, make_site
from tests.conftest import client_for
from tests.factories import OrganizationFactory, member_of

pytestmark = pytest.mark.django_db

GROUP = {
    "name": "Main Street Merchants",
    "description": "Shops buying together",
    "region": "North West",
    "contact_name": "Alice",
    "contact_email": "alice@example.test",
    "contact_phone": "+44 161 496 0000",
}


@pytest.fixture
def newcomer():  # type: ignore[no-untyped-def]
    org = OrganizationFactory(name="Newcomer Shop", kind="buyer", verification_status="pending", verified_at=None)
    return org, member_of(org, "owner", email="owner@newcomer.test")


def test_verified_owner_creates_a_group_and_sees_the_code_once(cast) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast.buyer_owner)
    response = client.post(reverse("buyers:group_create"), GROUP)
    group = BuyingGroup.objects.get(name="Main Street Merchants")
    assert response.url == reverse("buyers:group_detail", args=[group.pk])
    first = client.get(response.url)
    code = first.context["new_code"]
    assert code and code.startswith(group.reference + "-")
    assert code in first.content.decode()
    assert code not in group.join_code_hash and check_password(code, group.join_code_hash)
    second = client.get(response.url)
    assert second.context["new_code"] is None and code not in second.content.decode()
    assert GroupMembership.objects.get(group=group).organization == cast.buyer_org
    assert AuditEvent.objects.filter(action="group.create", object_id=str(group.pk)).exists()


def test_unverified_buyers_cannot_create_groups(newcomer) -> None:  # type: ignore[no-untyped-def]
    _, owner = newcomer
    response = client_for(owner).post(reverse("buyers:group_create"), GROUP)
    assert response.status_code == 400
    assert "Only a verified buyer" in response.content.decode()
    assert not BuyingGroup.objects.exists()


def test_group_names_are_unique(cast) -> None:  # type: ignore[no-untyped-def]
    make_group(cast.other_buyer, name="Main Street Merchants")
    response = client_for(cast.buyer_owner).post(
        reverse("buyers:group_create"), {**GROUP, "name": "main street merchants"}
    )
    assert response.status_code == 400
    assert BuyingGroup.objects.count() == 1


def test_join_with_code_lead_approves_and_group_qualifies_on_verification(  # type: ignore[no-untyped-def]
    cast, newcomer, django_capture_on_commit_callbacks
) -> None:
    from marketplace.services import organization_verify

    group, code = make_group(cast.buyer_owner)
    org, owner = newcomer
    make_site(org, "Shop 1")
    make_site(org, "Shop 2")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("buyers:group_join"), {"code": code.lower().replace("-", " ")})
    assert response.status_code == 302
    row = GroupMembership.objects.get(group=group, organization=org)
    assert row.status == GroupMembership.Status.REQUESTED
    assert Notification.objects.filter(recipient=cast.buyer_owner, kind="group_join_request").exists()
    assert client_for(owner).get(reverse("buyers:group_detail", args=[group.pk])).status_code == 404

    lead = client_for(cast.buyer_owner)
    lead.post(reverse("buyers:group_member_approve", args=[group.pk, row.pk]))
    row.refresh_from_db()
    assert row.status == GroupMembership.Status.ACTIVE
    assert not group_is_qualified(group)  # the newcomer is not verified yet; the lead alone does not count

    page = client_for(owner).get(reverse("buyers:group_detail", args=[group.pk]))
    assert page.status_code == 200 and "Not yet qualified" in page.content.decode()
    members = {m.organization.name: m.site_total for m in page.context["members"]}
    assert members == {"Acme Test Logistics": 0, "Newcomer Shop": 2}

    organization_verify(actor=cast.moderator, organization=org)
    assert group_is_qualified(group)
    assert "Qualified" in client_for(owner).get(reverse("buyers:group_detail", args=[group.pk])).content.decode()


def test_lead_declines_a_join_request(cast, newcomer, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    org, owner = newcomer
    client_for(owner).post(reverse("buyers:group_join"), {"code": code})
    row = GroupMembership.objects.get(group=group, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.buyer_owner).post(reverse("buyers:group_member_decline", args=[group.pk, row.pk]))
    row.refresh_from_db()
    assert row.status == GroupMembership.Status.DECLINED
    assert Notification.objects.filter(recipient=owner, kind="group_join_decision").exists()


def test_wrong_code_gives_a_clear_error_and_changes_nothing(cast, newcomer) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    _, owner = newcomer
    for wrong in (code[:-1] + ("A" if code[-1] != "A" else "B"), "ZZZZZ-AAAA-BBBB-CCCC", "x", ""):
        response = client_for(owner).post(reverse("buyers:group_join"), {"code": wrong})
        assert response.status_code == 400
    assert "This join code is not valid" in response.content.decode() or "required" in response.content.decode()
    assert GroupMembership.objects.filter(group=group).count() == 1


def test_rotated_code_stops_working_and_the_new_one_works(cast, newcomer) -> None:  # type: ignore[no-untyped-def]
    group, old = make_group(cast.buyer_owner)
    lead = client_for(cast.buyer_owner)
    lead.post(reverse("buyers:group_rotate_code", args=[group.pk]))
    new = lead.get(reverse("buyers:group_detail", args=[group.pk])).context["new_code"]
    assert new and new != old
    _, owner = newcomer
    response = client_for(owner).post(reverse("buyers:group_join"), {"code": old})
    assert response.status_code == 400 and "codes change when the lead rotates them" in response.content.decode()
    assert client_for(owner).post(reverse("buyers:group_join"), {"code": new}).status_code == 302
    assert AuditEvent.objects.filter(action="group.rotate_code").exists()


def test_code_guessing_is_rate_limited_per_user(cast, newcomer) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    _, owner = newcomer
    client = client_for(owner)
    for _ in range(JOIN_ATTEMPTS_LIMIT):
        client.post(reverse("buyers:group_join"), {"code": f"{group.reference}-AAAA-BBBB-CCCC"})
    response = client.post(reverse("buyers:group_join"), {"code": code})
    assert response.status_code == 400 and "Too many wrong join codes" in response.content.decode()
    assert not GroupMembership.objects.filter(organization=owner.membership.organization).exists()
    # Another user is not blocked by someone else's guesses.
    assert client_for(cast.other_buyer).post(reverse("buyers:group_join"), {"code": code}).status_code == 302


def test_joining_twice_is_refused(cast) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    client = client_for(cast.other_buyer)
    client.post(reverse("buyers:group_join"), {"code": code})
    response = client.post(reverse("buyers:group_join"), {"code": code})
    assert "already asked to join" in response.content.decode()
    response = client_for(cast.buyer_owner).post(reverse("buyers:group_join"), {"code": code})
    assert "already a member" in response.content.decode()
    assert GroupMembership.objects.filter(group=group).count() == 2


def test_lead_removes_a_member_and_members_leave(cast, newcomer) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    org, owner = newcomer
    for client in (client_for(owner), client_for(cast.other_buyer)):
        client.post(reverse("buyers:group_join"), {"code": code})
    lead = client_for(cast.buyer_owner)
    for row in GroupMembership.objects.filter(status="requested"):
        lead.post(reverse("buyers:group_member_approve", args=[group.pk, row.pk]))
    removed = GroupMembership.objects.get(group=group, organization=org)
    lead.post(reverse("buyers:group_member_remove", args=[group.pk, removed.pk]))
    removed.refresh_from_db()
    assert removed.status == GroupMembership.Status.REMOVED
    assert client_for(owner).get(reverse("buyers:group_detail", args=[group.pk])).status_code == 404

    client_for(cast.other_buyer).post(reverse("buyers:group_leave", args=[group.pk]))
    left = GroupMembership.objects.get(group=group, organization=cast.other_buyer_org)
    assert left.status == GroupMembership.Status.LEFT

    # The lead can neither leave nor remove itself.
    response = lead.post(reverse("buyers:group_leave", args=[group.pk]), follow=True)
    assert "cannot leave" in response.content.decode()
    lead_row = GroupMembership.objects.get(group=group, organization=cast.buyer_org)
    response = lead.post(reverse("buyers:group_member_remove", args=[group.pk, lead_row.pk]), follow=True)
    assert "cannot be removed" in response.content.decode()
    lead_row.refresh_from_db()
    assert lead_row.status == GroupMembership.Status.ACTIVE

    # After leaving, a member may ask to join again.
    assert client_for(cast.other_buyer).post(reverse("buyers:group_join"), {"code": code}).status_code == 302


def test_members_of_the_lead_organisation_read_but_do_not_manage(cast) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    member = client_for(cast.buyer_member)
    assert member.get(reverse("buyers:group_detail", args=[group.pk])).status_code == 200
    assert member.post(reverse("buyers:group_rotate_code", args=[group.pk])).status_code == 403
    before = BuyingGroup.objects.get(pk=group.pk).join_code_hash
    assert BuyingGroup.objects.get(pk=group.pk).join_code_hash == before


def test_other_member_organisations_cannot_manage_the_group(cast) -> None:  # type: ignore[no-untyped-def]
    group, code = make_group(cast.buyer_owner)
    client_for(cast.other_buyer).post(reverse("buyers:group_join"), {"code": code})
    row = GroupMembership.objects.get(organization=cast.other_buyer_org)
    client_for(cast.buyer_owner).post(reverse("buyers:group_member_approve", args=[group.pk, row.pk]))
    other = client_for(cast.other_buyer)
    assert other.post(reverse("buyers:group_rotate_code", args=[group.pk])).status_code == 403
    lead_row = GroupMembership.objects.get(organization=cast.buyer_org)
    assert other.post(reverse("buyers:group_member_remove", args=[group.pk, lead_row.pk])).status_code == 403


def test_group_list_query_count_is_fixed(cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        group, _ = make_group(cast.buyer_owner, name=f"Group {i}")
        GroupMembership.objects.create(group=group, organization=cast.other_buyer_org, status="active")
    client = client_for(cast.buyer_owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("buyers:group_list"))
    assert len(response.context["groups"]) == 5
    assert all(g.is_qualified for g in response.context["groups"])
    with django_assert_max_num_queries(12):
        client.get(reverse("buyers:group_detail", args=[group.pk]))


def test_group_is_qualified_ignores_members_who_left(cast) -> None:  # type: ignore[no-untyped-def]
    group, _ = make_group(cast.buyer_owner)
    row = GroupMembership.objects.create(group=group, organization=cast.other_buyer_org, status="active")
    assert group_is_qualified(group)
    row.status = GroupMembership.Status.LEFT
    row.save(update_fields=["status"])
    assert not group_is_qualified(group)
    assert Organization.objects.get(pk=cast.buyer_org.pk).is_verified
