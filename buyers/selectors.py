"""Reads for the buyers app, including its access functions (Http404 outside scope, PermissionDenied for roles)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from buyers.models import (
    BuyerProfile,
    BuyingGroup,
    EndCustomer,
    GroupInvitation,
    GroupMembership,
    Site,
    group_invitation_ttl,
)
from marketplace.models import Membership, Organization, User
from marketplace.selectors import buyer_membership_get, buyer_owner_membership_get

__all__ = [
    "buyer_membership_get",
    "buyer_owner_membership_get",
]


def profile_for(organization: Organization) -> BuyerProfile | None:
    """Return the organisation's buyer profile, or None before registration starts."""
    return BuyerProfile.objects.filter(organization=organization).first()


def is_reseller(organization: Organization) -> bool:
    """Say whether the organisation is flagged as a reseller."""
    return BuyerProfile.objects.filter(organization=organization, is_reseller=True).exists()


def reseller_membership_get(*, user: User) -> Membership:
    """Return the membership of a user of a reseller buyer; anyone else gets Http404."""
    membership = buyer_membership_get(user=user)
    if not is_reseller(membership.organization):
        raise Http404("No such page.")
    return membership


# Sites


def site_list(*, organization: Organization, query: str = "", archived: bool = False) -> QuerySet[Site]:
    """Return the organisation's sites, active or archived, filtered by a free-text query."""
    sites = Site.objects.filter(organization=organization, archived_at__isnull=not archived).select_related(
        "end_customer"
    )
    query = query.strip()
    if query:
        sites = sites.filter(
            Q(name__icontains=query)
            | Q(street__icontains=query)
            | Q(city__icontains=query)
            | Q(region__icontains=query)
            | Q(postcode__icontains=query)
            | Q(contact_name__icontains=query)
        )
    return sites


def site_get_for_buyer(*, user: User, pk: int) -> Site:
    """Return a site of the user's buyer organisation, or raise Http404."""
    membership = buyer_membership_get(user=user)
    site = Site.objects.select_related("organization", "end_customer").filter(pk=pk).first()
    if site is None or site.organization_id != membership.organization_id:
        raise Http404("No such site.")
    return site


# End customers


def end_customer_list(*, organization: Organization) -> QuerySet[EndCustomer]:
    """Return a reseller's end customers with their number of active sites."""
    return (
        EndCustomer.objects.filter(reseller=organization)
        .annotate(site_total=Count("sites", filter=Q(sites__archived_at__isnull=True)))
        .order_by("name", "id")
    )


def end_customer_get_for_reseller(*, user: User, pk: int) -> EndCustomer:
    """Return an end customer of the user's reseller organisation, or raise Http404."""
    membership = reseller_membership_get(user=user)
    customer = EndCustomer.objects.filter(pk=pk, reseller=membership.organization).first()
    if customer is None:
        raise Http404("No such end customer.")
    return customer


# Buying groups


def _verified_member_exists() -> Exists:
    return Exists(
        GroupMembership.objects.filter(
            group=OuterRef("pk"),
            status=GroupMembership.Status.ACTIVE,
            organization__verification_status=Organization.Verification.VERIFIED,
        ).exclude(organization=OuterRef("lead"))
    )


def group_is_qualified(group: BuyingGroup) -> bool:
    """Say whether the moderator has verified at least one member organisation besides the lead.

    The lead had to be verified to create the group, so counting it would qualify every group at birth;
    seed 001 claim 9 asks for a verified member, which is what makes a group more than its lead.
    The RFQ issue calls this before a group request may be published.
    """
    return BuyingGroup.objects.filter(pk=group.pk).filter(_verified_member_exists()).exists()


def groups_annotated() -> QuerySet[BuyingGroup]:
    """Return buying groups with their lead, member count and qualification computed in SQL."""
    return (
        BuyingGroup.objects.select_related("lead")
        .annotate(
            member_total=Count("memberships", filter=Q(memberships__status=GroupMembership.Status.ACTIVE)),
            pending_requests=Count("memberships", filter=Q(memberships__status=GroupMembership.Status.REQUESTED)),
        )
        .annotate(is_qualified=_verified_member_exists())
        .order_by("name", "id")
    )


def group_list_for_organization(*, organization: Organization) -> QuerySet[BuyingGroup]:
    """Return the groups the organisation is an active member of."""
    return groups_annotated().filter(
        memberships__organization=organization, memberships__status=GroupMembership.Status.ACTIVE
    )


def group_invitations_for_organization(*, organization: Organization) -> QuerySet[GroupInvitation]:
    """Return the unexpired group invitations waiting for the organisation's answer, one per group it is not in."""
    now = timezone.now()
    earlier = GroupInvitation.objects.live(now).filter(
        group=OuterRef("group"), organization=OuterRef("organization"), pk__lt=OuterRef("pk")
    )
    member = GroupMembership.objects.filter(
        group=OuterRef("group"), organization=organization, status=GroupMembership.Status.ACTIVE
    )
    return (
        GroupInvitation.objects.live(now)
        .filter(organization=organization)
        .exclude(Exists(earlier))
        .exclude(Exists(member))
        .select_related("group", "group__lead")
        .order_by("group__name", "id")
    )


def group_requests_sent_by_organization(*, organization: Organization) -> QuerySet[GroupMembership]:
    """Return the organisation's own join requests waiting for a lead's decision."""
    return GroupMembership.objects.filter(
        organization=organization, status=GroupMembership.Status.REQUESTED
    ).select_related("group")


def group_join_requests_for_lead(*, organization: Organization) -> QuerySet[GroupMembership]:
    """Return join requests waiting in the groups the organisation leads."""
    return GroupMembership.objects.filter(
        group__lead=organization, status=GroupMembership.Status.REQUESTED
    ).select_related("group", "organization")


def _active_group_membership(*, user: User, pk: int) -> tuple[Membership, BuyingGroup]:
    membership = buyer_membership_get(user=user)
    group = groups_annotated().filter(pk=pk).first()
    if (
        group is None
        or not GroupMembership.objects.filter(
            group=group, organization=membership.organization, status=GroupMembership.Status.ACTIVE
        ).exists()
    ):
        raise Http404("No such group.")
    return membership, group


def group_get_for_member(*, user: User, pk: int) -> BuyingGroup:
    """Return a group the user's organisation belongs to, or raise Http404."""
    return _active_group_membership(user=user, pk=pk)[1]


def group_get_for_lead(*, user: User, pk: int) -> BuyingGroup:
    """Return a group for its lead's owner; other members get PermissionDenied, outsiders Http404."""
    membership, group = _active_group_membership(user=user, pk=pk)
    if group.lead_id != membership.organization_id or membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner of the lead organisation can do this.")
    return group


def group_membership_for_member_owner(*, user: User, pk: int) -> GroupMembership:
    """Return the user's organisation's active place in a group, for an owner; members get PermissionDenied."""
    membership, group = _active_group_membership(user=user, pk=pk)
    if membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner of the organisation can do this.")
    return GroupMembership.objects.select_related("group").get(
        group=group, organization=membership.organization, status=GroupMembership.Status.ACTIVE
    )


def group_membership_in_led_group(*, user: User, group_pk: int, pk: int) -> GroupMembership:
    """Return a membership row of a group the user leads, or raise Http404 / PermissionDenied."""
    group = group_get_for_lead(user=user, pk=group_pk)
    row = GroupMembership.objects.select_related("group", "organization").filter(pk=pk, group=group).first()
    if row is None:
        raise Http404("No such member.")
    return row


def group_invitation_get_for_owner(*, user: User, pk: int) -> GroupInvitation:
    """Return a pending or expired invitation addressed to the user's organisation; members get PermissionDenied.

    Expired ones come back too, so that answering one late says it expired rather than "not found".
    """
    membership = buyer_membership_get(user=user)
    row = (
        GroupInvitation.objects.select_related("group")
        .filter(
            pk=pk,
            organization=membership.organization,
            status__in=[GroupInvitation.Status.PENDING, GroupInvitation.Status.EXPIRED],
        )
        .first()
    )
    if row is None:
        raise Http404("No such invitation.")
    if membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner of the organisation can answer invitations.")
    return row


def group_invitations_for_lead(*, group: BuyingGroup) -> QuerySet[GroupInvitation]:
    """Return the newest unaccepted invitation per address, by address only, with the status the lead may see.

    `lead_status` is "pending" until the invitation's time runs out and "expired" after, whether or not anyone
    declined it: only a registered buyer can decline, so showing a decline would say whose address it was.
    Accepted and cancelled invitations leave the list; the organisation appears as a member once it joins.
    """
    live = Q(created_at__gt=timezone.now() - group_invitation_ttl())
    newer = GroupInvitation.objects.filter(group=OuterRef("group"), email=OuterRef("email"), pk__gt=OuterRef("pk"))
    unanswered = [GroupInvitation.Status.PENDING, GroupInvitation.Status.DECLINED]
    return (
        GroupInvitation.objects.filter(group=group, status__in=[*unanswered, GroupInvitation.Status.EXPIRED])
        .exclude(Exists(newer))
        .annotate(
            lead_status=Case(
                When(live & Q(status__in=unanswered), then=Value("pending")),
                default=Value("expired"),
                output_field=CharField(),
            )
        )
        .only("id", "group_id", "email", "created_at")
        .order_by("-created_at", "-id")
    )


def group_invitation_in_led_group(*, user: User, group_pk: int, pk: int) -> GroupInvitation:
    """Return an invitation of a group the user leads, or raise Http404 / PermissionDenied."""
    group = group_get_for_lead(user=user, pk=group_pk)
    row = GroupInvitation.objects.filter(pk=pk, group=group).first()
    if row is None:
        raise Http404("No such invitation.")
    return row


def group_members(*, group: BuyingGroup) -> QuerySet[GroupMembership]:
    """Return a group's member rows (active and asking to join) with each organisation's number of active sites."""
    return (
        GroupMembership.objects.filter(group=group, status__in=GroupMembership.OPEN)
        .select_related("organization")
        .annotate(
            site_total=Count(
                "organization__sites",
                filter=Q(organization__sites__archived_at__isnull=True),
            )
        )
        .order_by("status", "organization__name")
    )


def dashboard_summary(*, organization: Organization) -> dict[str, object]:
    """Collect what the buyer dashboard shows, in a fixed number of queries."""
    members = organization.memberships.select_related("user").order_by("role", "user__email")
    site_counts = Site.objects.filter(organization=organization).aggregate(
        active=Count("id", filter=Q(archived_at__isnull=True)),
        archived=Count("id", filter=Q(archived_at__isnull=False)),
    )
    return {
        "profile": profile_for(organization),
        "members": list(members),
        "site_counts": site_counts,
        "groups": list(group_list_for_organization(organization=organization)),
        "group_invitations": list(group_invitations_for_organization(organization=organization)),
        "join_requests": list(group_join_requests_for_lead(organization=organization)),
        "requests_sent": list(group_requests_sent_by_organization(organization=organization)),
    }
