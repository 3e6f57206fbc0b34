"""Reads for the core, including the one access function per actor."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from marketplace.models import (
    AuditEvent,
    Invitation,
    Membership,
    Notification,
    Organization,
    OrganizationDocument,
    ServiceCategory,
    ServiceType,
    TermsDocument,
    User,
)

ORG_KIND_BUYER = Organization.Kind.BUYER
ORG_KIND_CARRIER = Organization.Kind.CARRIER
ORG_KIND_BUREAU = Organization.Kind.BUREAU


def membership_for_user(user: Any) -> Membership | None:
    """Return the user's membership with its organisation, or None."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    cached = getattr(user, "_membership_cache", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    membership = (
        Membership.objects.select_related("organization").filter(user=user).first()  # type: ignore[misc]
    )
    user._membership_cache = membership
    return membership


def _membership_of_kind(user: User, kind: str) -> Membership:
    membership = membership_for_user(user)
    if membership is None or membership.organization.kind != kind:
        # 404, not 403: a page outside the actor's area does not exist for them.
        raise Http404("No such page.")
    return membership


def buyer_membership_get(*, user: User) -> Membership:
    """Return the buyer membership of user, or raise Http404."""
    return _membership_of_kind(user, ORG_KIND_BUYER)


def buyer_owner_membership_get(*, user: User) -> Membership:
    """Return the membership of a buyer owner; members get PermissionDenied."""
    membership = buyer_membership_get(user=user)
    if membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Only an owner of the organisation can do this.")
    return membership


def carrier_membership_get(*, user: User) -> Membership:
    """Return the carrier membership of user, or raise Http404."""
    return _membership_of_kind(user, ORG_KIND_CARRIER)


def carrier_membership_with_role_get(*, user: User, roles: tuple[str, ...]) -> Membership:
    """Return the carrier membership if its role is one of roles, else PermissionDenied."""
    membership = carrier_membership_get(user=user)
    if membership.role not in roles and membership.role != Membership.Role.ADMIN:
        raise PermissionDenied("Your role does not allow this.")
    return membership


def moderator_get(*, user: User) -> User:
    """Return user if a moderator, else raise Http404."""
    if not getattr(user, "is_authenticated", False) or not user.is_moderator:
        raise Http404("No such page.")
    return user


def billing_actor_get(*, user: User) -> User:
    """Return user if a moderator or a billing agent, else raise Http404."""
    if getattr(user, "is_authenticated", False) and user.is_moderator:
        return user
    _membership_of_kind(user, ORG_KIND_BUREAU)
    return user


def portal_for_user(user: User) -> str:
    """Name the area a signed-in user belongs in."""
    if user.is_moderator:
        return "moderator"
    membership = membership_for_user(user)
    if membership is None:
        return "onboarding"
    portals: dict[str, str] = {ORG_KIND_BUYER: "buyer", ORG_KIND_CARRIER: "seller", ORG_KIND_BUREAU: "billing"}
    return portals[membership.organization.kind]


def notification_list_for_user(*, user: User) -> QuerySet[Notification]:
    """Return the user's inbox, newest first."""
    return Notification.objects.filter(recipient=user)


def notification_get_for_user(*, user: User, pk: int) -> Notification:
    """Return one of the user's notifications, or raise Http404."""
    try:
        return Notification.objects.get(recipient=user, pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404("No such notification.") from exc


def notification_unread_count(*, user: User) -> int:
    """Count the user's unread notifications."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def catalogue_categories() -> QuerySet[ServiceCategory]:
    """Return the catalogue with its active service types loaded."""
    from django.db.models import Prefetch

    return ServiceCategory.objects.prefetch_related(
        Prefetch("service_types", queryset=ServiceType.objects.filter(is_active=True))
    )


def terms_current() -> TermsDocument | None:
    """Return the newest published terms document."""
    return TermsDocument.objects.filter(published_at__isnull=False).order_by("-version").first()


def audit_events_recent(*, limit: int = 20) -> QuerySet[AuditEvent]:
    """Return the newest audit events, with their actors."""
    return AuditEvent.objects.select_related("actor", "content_type")[:limit]


def organizations_awaiting_review() -> QuerySet[Organization]:
    """Return organisations waiting for a moderator's decision, oldest first."""
    return Organization.objects.filter(verification_status=Organization.Verification.PENDING).order_by(
        "submitted_at", "id"
    )


def manager_roles_for(kind: str) -> tuple[str, ...]:
    """Roles that manage people and documents in an organisation of this kind."""
    roles: dict[str, tuple[str, ...]] = {
        ORG_KIND_BUYER: ("owner",),
        ORG_KIND_CARRIER: ("admin",),
        ORG_KIND_BUREAU: ("agent",),
    }
    return roles[kind]


def organization_membership_get(*, user: User) -> Membership:
    """Return the user's membership in any organisation, or raise Http404."""
    membership = membership_for_user(user)
    if membership is None:
        raise Http404("No such page.")
    return membership


def organization_manager_get(*, user: User) -> Membership:
    """Return the membership of an owner or admin; other members get PermissionDenied."""
    membership = organization_membership_get(user=user)
    if membership.role not in manager_roles_for(membership.organization.kind):
        raise PermissionDenied("Only an owner or admin of your organisation can do this.")
    return membership


def people_for_organization(*, organization: Organization) -> QuerySet[Membership]:
    """Return the organisation's active members with their users."""
    return organization.memberships.select_related("user").filter(user__is_active=True).order_by("user__email")


def invitations_for_organization(*, organization: Organization) -> QuerySet[Invitation]:
    """Return the organisation's invitations that are not accepted, newest first."""
    return organization.invitations.filter(accepted_at__isnull=True).select_related("invited_by")


def membership_get_for_manager(*, user: User, pk: int) -> Membership:
    """Return a membership of the user's own organisation (404 otherwise) if the user manages it (else 403)."""
    mine = organization_membership_get(user=user)
    found = (
        Membership.objects.select_related("user", "organization").filter(pk=pk, organization=mine.organization).first()
    )
    if found is None:
        raise Http404("No such member.")
    organization_manager_get(user=user)
    return found


def invitation_get_for_manager(*, user: User, pk: int) -> Invitation:
    """Return an invitation of the user's own organisation (404 otherwise) if the user manages it (else 403)."""
    mine = organization_membership_get(user=user)
    invitation = (
        Invitation.objects.select_related("organization", "user").filter(pk=pk, organization=mine.organization).first()
    )
    if invitation is None:
        raise Http404("No such invitation.")
    organization_manager_get(user=user)
    return invitation


def documents_for_organization(*, organization: Organization) -> QuerySet[OrganizationDocument]:
    """Return the organisation's documents, newest first."""
    return organization.documents.select_related("uploaded_by")


def document_get_for_user(*, user: User, pk: int) -> OrganizationDocument:
    """Return a document to a member of its organisation or a moderator, else raise Http404."""
    document = OrganizationDocument.objects.select_related("organization").filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    if getattr(user, "is_moderator", False):
        return document
    membership = membership_for_user(user)
    if membership is None or membership.organization_id != document.organization_id:
        raise Http404("No such document.")
    return document
