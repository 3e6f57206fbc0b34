"""Migrations 0002 (invitations addressed to an owner, from "invited" memberships) and 0003 (expiry), and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("buyers", "0001_buyer_profiles_sites_end_customers_groups")]
AFTER = [("buyers", "0002_group_invitations_by_address")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_invited_memberships_become_invitations_and_come_back() -> None:
    apps = _migrate(BEFORE)
    try:
        Organization = apps.get_model("marketplace", "Organization")
        User = apps.get_model("marketplace", "User")
        Membership = apps.get_model("marketplace", "Membership")
        BuyingGroup = apps.get_model("buyers", "BuyingGroup")
        GroupMembership = apps.get_model("buyers", "GroupMembership")
        lead = Organization.objects.create(name="Lead Ltd", kind="buyer")
        guest = Organization.objects.create(name="Guest Ltd", kind="buyer", contact_email="info@guest.test")
        owner = User.objects.create(email="Owner@Guest.test", password="!")
        Membership.objects.create(user=owner, organization=guest, role="owner")
        group = BuyingGroup.objects.create(
            name="G", region="North", contact_name="L", contact_email="l@lead.test", lead=lead, join_code_hash="x"
        )
        GroupMembership.objects.create(group=group, organization=lead, status="active")
        GroupMembership.objects.create(group=group, organization=guest, status="invited")

        apps = _migrate(AFTER)
        GroupInvitation = apps.get_model("buyers", "GroupInvitation")
        GroupMembership = apps.get_model("buyers", "GroupMembership")
        invitation = GroupInvitation.objects.get()
        assert (invitation.email, invitation.organization_id, invitation.status) == (
            "owner@guest.test",
            guest.pk,
            "pending",
        )
        assert list(GroupMembership.objects.values_list("organization_id", "status")) == [(lead.pk, "active")]

        apps = _migrate(BEFORE)
        GroupMembership = apps.get_model("buyers", "GroupMembership")
        assert GroupMembership.objects.get(organization_id=guest.pk).status == "invited"
    finally:
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())


def test_expired_invitations_become_cancelled_when_migrating_back() -> None:
    apps = _migrate([("buyers", "0003_group_invitations_expire")])
    try:
        Organization = apps.get_model("marketplace", "Organization")
        BuyingGroup = apps.get_model("buyers", "BuyingGroup")
        GroupInvitation = apps.get_model("buyers", "GroupInvitation")
        lead = Organization.objects.create(name="Lead Ltd", kind="buyer")
        group = BuyingGroup.objects.create(
            name="G", region="North", contact_name="L", contact_email="l@lead.test", lead=lead, join_code_hash="x"
        )
        GroupInvitation.objects.create(group=group, email="old@example.test", status="expired")
        GroupInvitation.objects.create(group=group, email="old@example.test", status="pending")

        apps = _migrate(AFTER)
        GroupInvitation = apps.get_model("buyers", "GroupInvitation")
        assert sorted(GroupInvitation.objects.values_list("status", flat=True)) == ["cancelled", "pending"]
    finally:
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())
