"""Writes for the buyers app: profiles and registration, sites, end customers, buying groups."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from buyers.models import (
    BuyerProfile,
    BuyingGroup,
    EndCustomer,
    GroupInvitation,
    GroupMembership,
    Site,
    group_invitation_ttl,
)
from marketplace.audit import audit_record, update_audited
from marketplace.csv_import import RowError
from marketplace.models import Membership, Organization, User
from marketplace.services import (
    DomainError,
    notify,
    organization_send_back_for_review,
    organization_submit_for_review,
    organization_update,
)

PROFILE_FIELDS = (
    "industry",
    "employee_band",
    "revenue_band",
    "site_count",
    "telecom_spend_band",
    "registration_number",
    "tax_number",
    "is_reseller",
    "site_precision",
)
# Facts the moderator checks or carriers rely on as verified; changing one sends a verified buyer back to review.
VERIFIED_PROFILE_FIELDS = (
    "industry",
    "employee_band",
    "revenue_band",
    "registration_number",
    "tax_number",
    "is_reseller",
)
SITE_FIELDS = (
    "name",
    "street",
    "city",
    "region",
    "postcode",
    "country",
    "contact_name",
    "contact_phone",
    "contact_email",
    "notes",
)
PROFILE_LABELS = {
    "industry": "industry",
    "employee_band": "employee band",
    "revenue_band": "revenue band",
    "registration_number": "registration number",
    "tax_number": "tax number",
    "is_reseller": "reseller status",
}


def _owners(org: Organization) -> list[User]:
    return [
        m.user for m in org.memberships.select_related("user").filter(role=Membership.Role.OWNER, user__is_active=True)
    ]


def _require_owner(actor: User, organization: Organization) -> None:
    if not Membership.objects.filter(user=actor, organization=organization, role=Membership.Role.OWNER).exists():
        raise DomainError("Only an owner of the organisation can do this.")


def _require_member(actor: User, organization: Organization) -> None:
    if not Membership.objects.filter(user=actor, organization=organization).exists():
        raise DomainError("You do not belong to this organisation.")


# --- Profile and registration ----------------------------------------------------------------------


@transaction.atomic
def buyer_profile_update(
    *, actor: User, organization: Organization, org_fields: dict[str, Any] | None = None, **fields: Any
) -> BuyerProfile:
    """Save organisation and profile facts; a verified buyer whose verified facts change goes back to review."""
    _require_owner(actor, organization)
    if organization.kind != Organization.Kind.BUYER:
        raise DomainError("Only buyer organisations have a buyer profile.")
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown profile fields: {sorted(unknown)}")
    if org_fields:
        organization_update(actor=actor, organization=organization, **org_fields)
    profile, _ = BuyerProfile.objects.select_for_update().get_or_create(organization=organization)
    changed = [name for name, value in fields.items() if getattr(profile, name) != value]
    if changed:
        before = {name: getattr(profile, name) for name in changed}
        for name in changed:
            setattr(profile, name, fields[name])
        profile.updated_at = timezone.now()
        profile.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="buyer_profile.update",
            obj=profile,
            organization=organization,
            before=before,
            after={name: getattr(profile, name) for name in changed},
        )
        # Facts only count as verified once the registration was completed and submitted.
        verified = [PROFILE_LABELS[name] for name in changed if name in VERIFIED_PROFILE_FIELDS]
        if verified and profile.is_complete:
            organization_send_back_for_review(
                actor=actor, organization=organization, reason=f"Verified details changed: {', '.join(verified)}."
            )
    organization.refresh_from_db()
    return profile


def registration_missing(*, organization: Organization, profile: BuyerProfile | None) -> list[str]:
    """Name what the registration still lacks before it can go to review."""
    missing = []
    for name in ("street", "city", "postcode", "country", "phone", "contact_email"):
        if not getattr(organization, name):
            missing.append(f"contact details ({name.replace('_', ' ')})")
    if profile is None:
        return [*missing, "business details", "registration or tax number"]
    if not (profile.industry and profile.employee_band and profile.revenue_band and profile.telecom_spend_band):
        missing.append("business details")
    if profile.site_count is None:
        missing.append("number of sites")
    if not (profile.registration_number or profile.tax_number):
        missing.append("registration or tax number")
    return missing


@transaction.atomic
def buyer_registration_submit(*, actor: User, organization: Organization) -> Organization:
    """Complete the registration and put the organisation in the moderators' queue."""
    _require_owner(actor, organization)
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    profile = BuyerProfile.objects.select_for_update().filter(organization=org).first()
    missing = registration_missing(organization=org, profile=profile)
    if missing:
        raise DomainError(f"Complete these first: {', '.join(missing)}.")
    assert profile is not None  # noqa: S101  (registration_missing names a missing profile)
    if profile.registration_completed_at is None:
        profile.registration_completed_at = timezone.now()
        profile.save(update_fields=["registration_completed_at"])
        audit_record(actor=actor, action="buyer_profile.complete", obj=profile, organization=org)
    if org.verification_status in (Organization.Verification.UNVERIFIED, Organization.Verification.REJECTED):
        org = organization_submit_for_review(actor=actor, organization=org)
    return org


# --- Sites -----------------------------------------------------------------------------------------


def _check_end_customer(organization: Organization, end_customer: EndCustomer | None) -> None:
    if end_customer is not None and end_customer.reseller_id != organization.pk:
        raise DomainError("That end customer is not yours.")


@transaction.atomic
def site_create(
    *, actor: User, organization: Organization, end_customer: EndCustomer | None = None, **fields: Any
) -> Site:
    """Add a site to the organisation (optionally for one of a reseller's end customers)."""
    _require_member(actor, organization)
    _check_end_customer(organization, end_customer)
    if Site.objects.filter(organization=organization, name=fields.get("name"), archived_at__isnull=True).exists():
        raise DomainError("You already have a site with this name.")
    try:
        with transaction.atomic():
            site = Site.objects.create(organization=organization, end_customer=end_customer, **fields)
    except IntegrityError as exc:  # a concurrent add took the name between the check and the insert
        raise DomainError("You already have a site with this name.") from exc
    audit_record(
        actor=actor, action="site.create", obj=site, organization=organization, after={f: fields.get(f) for f in fields}
    )
    return site


@transaction.atomic
def site_update(*, actor: User, site: Site, end_customer: EndCustomer | None = None, **fields: Any) -> Site:
    """Change a site's details."""
    locked = Site.objects.select_for_update().get(pk=site.pk)
    _require_member(actor, locked.organization)
    _check_end_customer(locked.organization, end_customer)
    if locked.is_archived:
        raise DomainError("Restore the site before changing it.")
    name = fields.get("name", locked.name)
    clash = Site.objects.filter(organization=locked.organization, name=name, archived_at__isnull=True)
    if clash.exclude(pk=locked.pk).exists():
        raise DomainError("You already have a site with this name.")
    fields["end_customer"] = end_customer
    update_audited(
        actor=actor,
        obj=locked,
        fields=fields,
        action="site.update",
        organization=locked.organization,
        conflict_message="You already have a site with this name.",
    )
    return locked


@transaction.atomic
def site_archive(*, actor: User, site: Site) -> Site:
    """Archive a site: it leaves the lists and new requests, but stays for the requests that used it."""
    locked = Site.objects.select_for_update().get(pk=site.pk)
    _require_member(actor, locked.organization)
    if locked.is_archived:
        raise DomainError("This site is already archived.")
    locked.archived_at = timezone.now()
    locked.save(update_fields=["archived_at"])
    audit_record(actor=actor, action="site.archive", obj=locked, organization=locked.organization)
    return locked


@transaction.atomic
def site_restore(*, actor: User, site: Site) -> Site:
    """Bring an archived site back."""
    locked = Site.objects.select_for_update().get(pk=site.pk)
    _require_member(actor, locked.organization)
    if not locked.is_archived:
        raise DomainError("This site is not archived.")
    if Site.objects.filter(organization=locked.organization, name=locked.name, archived_at__isnull=True).exists():
        raise DomainError("Another active site has this name; rename that one first.")
    locked.archived_at = None
    locked.save(update_fields=["archived_at"])
    audit_record(actor=actor, action="site.restore", obj=locked, organization=locked.organization)
    return locked


def site_import_check(*, organization: Organization, rows: list[dict[str, Any]]) -> list[RowError]:
    """Find the problems between rows and with existing sites that a single row cannot see."""
    errors: list[RowError] = []
    existing = set(
        Site.objects.filter(organization=organization, archived_at__isnull=True).values_list("name", flat=True)
    )
    existing_lower = {n.lower() for n in existing}
    first_line: dict[str, int] = {}
    for row in rows:
        key = row["name"].lower()
        if key in existing_lower:
            errors.append(RowError(row["line"], "name", f"You already have a site named “{row['name']}”."))
        elif key in first_line:
            errors.append(RowError(row["line"], "name", f"The same name is on line {first_line[key]}."))
        else:
            first_line[key] = row["line"]
    return errors


@transaction.atomic
def site_import(*, actor: User, organization: Organization, rows: list[dict[str, Any]]) -> list[Site]:
    """Create every site of a checked CSV file, or none of them."""
    _require_member(actor, organization)
    # Lock the organisation so two imports of the same file cannot both pass the duplicate check.
    Organization.objects.select_for_update().get(pk=organization.pk)
    errors = site_import_check(organization=organization, rows=rows)
    if errors:
        raise DomainError(f"The file has {len(errors)} problem(s); nothing was imported.")
    sites = [Site(organization=organization, **{f: row.get(f, "") for f in SITE_FIELDS}) for row in rows]
    try:
        with transaction.atomic():
            created = Site.objects.bulk_create(sites)
    except IntegrityError as exc:
        raise DomainError("Some site names clash with existing sites; nothing was imported.") from exc
    audit_record(
        actor=actor,
        action="site.import",
        organization=organization,
        obj=organization,
        after={"count": len(created), "names": [s.name for s in created][:50]},
    )
    return created


# --- End customers ---------------------------------------------------------------------------------


def _require_reseller(organization: Organization) -> None:
    if not BuyerProfile.objects.filter(organization=organization, is_reseller=True).exists():
        raise DomainError("Only resellers manage end customers.")


@transaction.atomic
def end_customer_create(*, actor: User, organization: Organization, **fields: Any) -> EndCustomer:
    """Add an end customer to a reseller."""
    _require_member(actor, organization)
    _require_reseller(organization)
    if EndCustomer.objects.filter(reseller=organization, reference=fields.get("reference")).exists():
        raise DomainError("Another end customer already has this reference.")
    try:
        with transaction.atomic():
            customer = EndCustomer.objects.create(reseller=organization, **fields)
    except IntegrityError as exc:
        raise DomainError("Another end customer already has this reference.") from exc
    audit_record(actor=actor, action="end_customer.create", obj=customer, organization=organization, after=fields)
    return customer


@transaction.atomic
def end_customer_update(*, actor: User, customer: EndCustomer, **fields: Any) -> EndCustomer:
    """Change an end customer's details."""
    locked = EndCustomer.objects.select_for_update().select_related("reseller").get(pk=customer.pk)
    _require_member(actor, locked.reseller)
    clash = EndCustomer.objects.filter(reseller=locked.reseller, reference=fields.get("reference", locked.reference))
    if clash.exclude(pk=locked.pk).exists():
        raise DomainError("Another end customer already has this reference.")
    update_audited(
        actor=actor,
        obj=locked,
        fields=fields,
        action="end_customer.update",
        organization=locked.reseller,
        conflict_message="Another end customer already has this reference.",
    )
    return locked


# --- Buying groups ---------------------------------------------------------------------------------

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
JOIN_ATTEMPTS_LIMIT = 5
JOIN_ATTEMPTS_WINDOW = timedelta(minutes=15)


def _new_join_code(reference: str) -> str:
    secret = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(12))
    return f"{reference}-{secret[:4]}-{secret[4:8]}-{secret[8:]}"


def normalize_join_code(code: str) -> str:
    """Accept a code typed with spaces, lower case or missing dashes."""
    compact = "".join(ch for ch in code.upper() if ch.isalnum())
    if len(compact) < 6:
        return compact
    ref, secret = compact[:5], compact[5:]
    return "-".join([ref, *[secret[i : i + 4] for i in range(0, len(secret), 4)]])


@transaction.atomic
def group_create(*, actor: User, organization: Organization, **fields: Any) -> tuple[BuyingGroup, str]:
    """Create a buying group led by organisation; return it and its join code, shown once."""
    _require_owner(actor, organization)
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    if org.kind != Organization.Kind.BUYER or not org.is_verified:
        raise DomainError("Only a verified buyer can create a buying group.")
    if BuyingGroup.objects.filter(name__iexact=fields.get("name", "")).exists():
        raise DomainError("A group with this name already exists; choose another name.")
    group = BuyingGroup(lead=org, created_by=actor, **fields)
    code = _new_join_code(group.reference)
    group.join_code_hash = make_password(code)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise DomainError("A group with this name already exists; choose another name.") from exc
    GroupMembership.objects.create(
        group=group,
        organization=org,
        status=GroupMembership.Status.ACTIVE,
        created_by=actor,
        joined_at=timezone.now(),
    )
    audit_record(actor=actor, action="group.create", obj=group, organization=org, after={"name": group.name})
    return group, code


@transaction.atomic
def group_rotate_code(*, actor: User, group: BuyingGroup) -> str:
    """Replace the group's join code; the old one stops working at once. Return the new code."""
    locked = BuyingGroup.objects.select_for_update().get(pk=group.pk)
    _require_owner(actor, locked.lead)
    code = _new_join_code(locked.reference)
    locked.join_code_hash = make_password(code)
    locked.code_rotated_at = timezone.now()
    locked.save(update_fields=["join_code_hash", "code_rotated_at"])
    audit_record(actor=actor, action="group.rotate_code", obj=locked, organization=locked.lead)
    return code


def _attempts_key(user: User) -> str:
    return f"buyers:join-code-failures:{user.pk}"


def join_attempts_left(user: User) -> int:
    """Say how many wrong join codes the user may still try in the current window."""
    return max(0, JOIN_ATTEMPTS_LIMIT - int(cache.get(_attempts_key(user), 0)))


def _count_failure(user: User) -> None:
    key = _attempts_key(user)
    if cache.add(key, 1, timeout=int(JOIN_ATTEMPTS_WINDOW.total_seconds())):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=int(JOIN_ATTEMPTS_WINDOW.total_seconds()))


WRONG_CODE = "This join code is not valid. Check it with the group's lead: codes change when the lead rotates them."
DUPLICATE_INVITATION = "You have already invited this address; that invitation is still pending."
EXPIRED_INVITATION = "This invitation has expired; ask the group lead to send a new one."
# A lead could otherwise mail strangers through us without limit; a day's worth covers a real recruiting drive.
GROUP_INVITES_PER_DAY = 20


def _code_digest(code: str) -> str:
    return hashlib.sha256(normalize_join_code(code).encode()).hexdigest()


def group_join_with_code(*, actor: User, organization: Organization, code: str) -> GroupMembership:
    """Ask to join with the group's join code, or join with an invitation code; wrong codes are rate-limited."""
    if join_attempts_left(actor) <= 0:
        raise DomainError("Too many wrong join codes. Wait 15 minutes and try again.")
    code = normalize_join_code(code)
    group = BuyingGroup.objects.filter(reference=code.split("-", 1)[0]).first()
    if group is None:
        # Hash a dummy when the reference is unknown, so timing does not tell which references exist.
        check_password(code, make_password("dummy-join-code"))
    elif check_password(code, group.join_code_hash):
        return _group_request(actor=actor, organization=organization, group=group)
    else:
        invitation = GroupInvitation.objects.filter(
            group=group,
            status__in=[GroupInvitation.Status.PENDING, GroupInvitation.Status.EXPIRED],
            code_digest=_code_digest(code),
        ).first()
        if invitation is not None:
            # A right but expired code is no guess: say so, and do not count it against the user.
            return _group_join_with_invitation_code(actor=actor, organization=organization, invitation=invitation)
    _count_failure(actor)
    raise DomainError(WRONG_CODE)


def _require_buyer(organization: Organization) -> None:
    if organization.kind != Organization.Kind.BUYER:
        raise DomainError("Only buyers join buying groups.")


def _pending_invitations(*, group: BuyingGroup, organization: Organization) -> QuerySet[GroupInvitation]:
    return GroupInvitation.objects.live().filter(group=group, organization=organization).order_by("id")


def _expire_overdue(*, group: BuyingGroup, now: datetime | None = None) -> int:
    """Mark the group's pending invitations whose time ran out as expired; the caller holds the group's lock."""
    now = now or timezone.now()
    rows = list(GroupInvitation.objects.overdue(now).filter(group=group).select_for_update(of=("self",)).order_by("id"))
    for inv in rows:
        inv.status = GroupInvitation.Status.EXPIRED
        inv.decided_at = now
        inv.save(update_fields=["status", "decided_at"])
        audit_record(
            actor=None,
            action="group.invitation_expired",
            obj=inv,
            organization=group.lead,
            before={"status": GroupInvitation.Status.PENDING},
            after={"status": inv.status},
        )
    return len(rows)


def group_invitations_expire(*, now: datetime | None = None) -> int:
    """Mark every pending invitation whose time ran out as expired, one group at a time; return how many."""
    now = now or timezone.now()
    group_ids = sorted(set(GroupInvitation.objects.overdue(now).values_list("group_id", flat=True)))
    expired = 0
    for group_id in group_ids:
        with transaction.atomic():
            # The group first, as every other invitation write does, so no two writers wait in a circle.
            group = BuyingGroup.objects.select_for_update(of=("self",)).select_related("lead").get(pk=group_id)
            expired += _expire_overdue(group=group, now=now)
    return expired


@transaction.atomic
def _group_request(*, actor: User, organization: Organization, group: BuyingGroup) -> GroupMembership:
    _require_owner(actor, organization)
    locked = BuyingGroup.objects.select_for_update(of=("self",)).select_related("lead").get(pk=group.pk)
    _require_buyer(organization)
    _expire_overdue(group=locked)
    row = GroupMembership.objects.filter(
        group=locked, organization=organization, status__in=GroupMembership.OPEN
    ).first()
    if row is not None and row.status == GroupMembership.Status.ACTIVE:
        raise DomainError(f"{organization.display_name} is already a member of {locked.name}.")
    if _pending_invitations(group=locked, organization=organization).exists():
        # The code proves the lead wants them too: an open invitation plus a valid code is a yes.
        return _join_by_invitation(actor=actor, organization=organization, group=locked)
    if row is not None and row.status == GroupMembership.Status.REQUESTED:
        raise DomainError(f"You already asked to join {locked.name}; the lead has not decided yet.")
    row = GroupMembership.objects.create(
        group=locked, organization=organization, status=GroupMembership.Status.REQUESTED, created_by=actor
    )
    audit_record(actor=actor, action="group.request", obj=row, organization=organization, after={"group": locked.name})
    notify(
        recipients=_owners(locked.lead),
        key=f"group-request:{row.pk}",
        kind="group_join_request",
        subject=f"{organization.display_name} asks to join {locked.name}",
        body=f"{organization.display_name} used the join code of {locked.name}. Approve or decline the request.",
        url=reverse("buyers:group_detail", args=[locked.pk]),
    )
    return row


@transaction.atomic
def _group_join_with_invitation_code(
    *, actor: User, organization: Organization, invitation: GroupInvitation
) -> GroupMembership:
    _require_owner(actor, organization)
    locked = BuyingGroup.objects.select_for_update(of=("self",)).select_related("lead").get(pk=invitation.group_id)
    inv = GroupInvitation.objects.select_for_update().get(pk=invitation.pk)
    if inv.is_expired():
        raise DomainError(EXPIRED_INVITATION)
    if inv.status != GroupInvitation.Status.PENDING:
        raise DomainError("This invitation is no longer open. Ask the group's lead for a new one.")
    _require_buyer(organization)
    _expire_overdue(group=locked)
    return _join_by_invitation(actor=actor, organization=organization, group=locked, invitation=inv)


def _join_by_invitation(
    *, actor: User, organization: Organization, group: BuyingGroup, invitation: GroupInvitation | None = None
) -> GroupMembership:
    """Make the organisation a member and settle its invitations; the caller holds the group's lock."""
    row = (
        GroupMembership.objects.select_for_update()
        .filter(group=group, organization=organization, status__in=GroupMembership.OPEN)
        .first()
    )
    # Already a member: accepting only closes the invitations, and the lead has no news to hear.
    joins = row is None or row.status != GroupMembership.Status.ACTIVE
    if row is None:
        now = timezone.now()
        row = GroupMembership.objects.create(
            group=group,
            organization=organization,
            status=GroupMembership.Status.ACTIVE,
            created_by=actor,
            decided_by=actor,
            decided_at=now,
            joined_at=now,
        )
        audit_record(
            actor=actor,
            action="group.accept_invitation",
            obj=row,
            organization=group.lead,
            after={"status": row.status},
        )
    elif row.status == GroupMembership.Status.REQUESTED:
        _activate(actor=actor, row=row, action="group.accept_invitation")
    settled = _settle_invitations(
        actor=actor, group=group, organization=organization, status=GroupInvitation.Status.ACCEPTED, also=invitation
    )
    if settled and joins:
        notify(
            recipients=_owners(group.lead),
            key=f"group-invite-answer:{settled[0].pk}",
            kind="group_invitation_answer",
            subject=f"{organization.display_name} joined {group.name}",
            body=f"{organization.display_name} accepted your invitation to {group.name}.",
            url=reverse("buyers:group_detail", args=[group.pk]),
        )
    return row


def _settle_invitations(
    *,
    actor: User,
    group: BuyingGroup,
    organization: Organization,
    status: str,
    also: GroupInvitation | None = None,
) -> list[GroupInvitation]:
    """Close the organisation's pending invitations to the group (and `also`, an invitation code it used)."""
    rows = list(_pending_invitations(group=group, organization=organization).select_for_update())
    if also is not None and also.pk not in {r.pk for r in rows}:
        rows.insert(0, also)
    now = timezone.now()
    for inv in rows:
        inv.organization = organization
        inv.status = status
        inv.decided_by = actor
        inv.decided_at = now
        inv.save(update_fields=["organization", "status", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action=f"group.invitation_{status}",
            obj=inv,
            organization=organization,
            before={"status": GroupInvitation.Status.PENDING},
            after={"status": status, "organization": organization.name},
        )
    return rows


def _activate(*, actor: User, row: GroupMembership, action: str) -> GroupMembership:
    row.status = GroupMembership.Status.ACTIVE
    row.decided_by = actor
    row.decided_at = row.joined_at = timezone.now()
    row.save(update_fields=["status", "decided_by", "decided_at", "joined_at"])
    audit_record(actor=actor, action=action, obj=row, organization=row.group.lead, after={"status": row.status})
    return row


def _utc(moment: datetime) -> str:
    return f"{dateformat.format(moment.astimezone(UTC), 'j F Y, H:i')} UTC"


def _locked_row(row: GroupMembership) -> GroupMembership:
    return (
        GroupMembership.objects.select_for_update()
        .select_related("group", "group__lead", "organization")
        .get(pk=row.pk)
    )


def _buyer_for_address(address: str) -> Organization | None:
    membership = (
        Membership.objects.select_related("organization")
        .filter(user__email__iexact=address, user__is_active=True, organization__kind=Organization.Kind.BUYER)
        .order_by("id")
        .first()
    )
    return membership.organization if membership is not None else None


@transaction.atomic
def group_invite(*, actor: User, group: BuyingGroup, email: str) -> GroupInvitation:
    """Invite an e-mail address to the group; nothing the lead sees tells whether it belongs to a buyer.

    A buyer organisation behind the address gets the invitation in its owners' inbox; any other address gets
    an e-mail with a single-use invitation code and the sign-up link. No account or organisation is created.
    """
    _require_owner(actor, group.lead)
    locked = BuyingGroup.objects.select_for_update(of=("self",)).select_related("lead").get(pk=group.pk)
    address = email.strip().lower()
    now = timezone.now()
    # An expired invitation must leave the one-pending-per-address constraint before a new one comes.
    _expire_overdue(group=locked, now=now)
    # A declined invitation blocks like a pending one until it expires: the lead sees both as pending, and a
    # new invitation accepted at once would tell them that a buyer stood behind the address and said no.
    if GroupInvitation.objects.filter(
        group=locked,
        email=address,
        status__in=[GroupInvitation.Status.PENDING, GroupInvitation.Status.DECLINED],
        created_at__gt=now - group_invitation_ttl(),
    ).exists():
        raise DomainError(DUPLICATE_INVITATION)
    since = now - timedelta(days=1)
    if GroupInvitation.objects.filter(group=locked, created_at__gte=since).count() >= GROUP_INVITES_PER_DAY:
        raise DomainError(
            f"{locked.name} has sent {GROUP_INVITES_PER_DAY} invitations in the last 24 hours, the most a group "
            "may send in a day. Try again tomorrow, or share the group's join code."
        )
    org = _buyer_for_address(address)
    invitation = GroupInvitation(group=locked, email=address, organization=org, created_by=actor, created_at=now)
    code = ""
    if org is None:
        code = _new_join_code(locked.reference)
        invitation.code_digest = _code_digest(code)
    # An organisation already in the group, or already holding an invitation to it, is not told again: the
    # invitation just waits like any other, where an error would tell the lead whose address this is.
    first_ask = (
        org is not None
        and not _pending_invitations(group=locked, organization=org).exists()
        and not GroupMembership.objects.filter(
            group=locked, organization=org, status=GroupMembership.Status.ACTIVE
        ).exists()
    )
    invitation.save()
    audit_record(
        actor=actor,
        action="group.invite",
        obj=invitation,
        organization=locked.lead,
        after={"email": address, "organization": org.name if org else "", "notified": first_ask},
    )
    if code:
        from buyers.tasks import group_invitation_email_task

        invitation_id = invitation.pk
        transaction.on_commit(lambda: group_invitation_email_task.delay(invitation_id=invitation_id, code=code))
    elif org is not None and first_ask:
        notify(
            recipients=_owners(org),
            key=f"group-invite:{invitation.pk}",
            kind="group_invitation",
            subject=f"{locked.lead.display_name} invites you to the buying group {locked.name}",
            body=f"{locked.lead.display_name} invites {org.display_name} to buy together in {locked.name}. "
            f"Accept or decline the invitation on your dashboard by {_utc(invitation.expires_at)}; "
            "after that it expires.",
            url=reverse("buyers:group_list"),
        )
    return invitation


def group_invitation_email(*, invitation_id: int, code: str) -> bool:
    """E-mail the invitation code to the invited address, once; say whether it was sent now."""
    with transaction.atomic():
        inv = (
            GroupInvitation.objects.select_for_update(of=("self",))
            .select_related("group", "group__lead")
            .filter(pk=invitation_id)
            .first()
        )
        # The row lock makes a second, concurrent run wait and then see emailed_at.
        if (
            inv is None
            or inv.status != GroupInvitation.Status.PENDING
            or inv.is_expired()
            or inv.emailed_at is not None
            or inv.code_digest != _code_digest(code)
        ):
            return False
        context = {
            "invitation": inv,
            "group": inv.group,
            "code": code,
            "expires": _utc(inv.expires_at),
            "signup_url": f"{settings.SITE_URL}{reverse('account_signup')}",
            "login_url": f"{settings.SITE_URL}{reverse('account_login')}",
            "groups_url": f"{settings.SITE_URL}{reverse('buyers:group_list')}",
        }
        message = EmailMultiAlternatives(
            subject=f"[Switchboard] {inv.group.lead.display_name} invites you to the buying group {inv.group.name}",
            body=render_to_string("buyers/email/group_invitation.txt", context),
            to=[inv.email],
        )
        message.attach_alternative(render_to_string("buyers/email/group_invitation.html", context), "text/html")
        message.send()
        inv.emailed_at = timezone.now()
        inv.save(update_fields=["emailed_at"])
    return True


def _locked_invitation(invitation: GroupInvitation) -> tuple[BuyingGroup, GroupInvitation]:
    # The group first, as every other group write does, so two writers never wait on each other in a circle.
    group = BuyingGroup.objects.select_for_update(of=("self",)).select_related("lead").get(pk=invitation.group_id)
    inv = GroupInvitation.objects.select_for_update(of=("self",)).select_related("organization").get(pk=invitation.pk)
    return group, inv


@transaction.atomic
def group_invitation_answer(*, actor: User, invitation: GroupInvitation, accept: bool) -> GroupInvitation:
    """Accept or decline an invitation addressed to the actor's organisation."""
    group, inv = _locked_invitation(invitation)
    org = inv.organization
    if org is None:
        raise DomainError("This invitation is no longer open.")
    _require_owner(actor, org)
    if inv.is_expired():
        raise DomainError(EXPIRED_INVITATION)
    if inv.status != GroupInvitation.Status.PENDING:
        raise DomainError("This invitation is no longer open.")
    # Older invitations of the organisation whose time ran out expire rather than being settled below.
    _expire_overdue(group=group)
    if accept:
        _require_buyer(org)
        _join_by_invitation(actor=actor, organization=org, group=group)
    else:
        # The lead is not told: only a registered buyer can decline, so a decline would say whose address it
        # was. The lead sees the invitation as pending until it expires, like one nobody answered.
        _settle_invitations(actor=actor, group=group, organization=org, status=GroupInvitation.Status.DECLINED)
    inv.refresh_from_db()
    return inv


@transaction.atomic
def group_invitation_cancel(*, actor: User, invitation: GroupInvitation) -> GroupInvitation:
    """Withdraw an invitation the lead sees as pending, as an owner of the lead; its code stops working at once.

    A declined invitation looks pending to the lead until it expires, so it can be withdrawn the same way.
    """
    group, inv = _locked_invitation(invitation)
    _require_owner(actor, group.lead)
    now = timezone.now()
    if inv.status in (GroupInvitation.Status.ACCEPTED, GroupInvitation.Status.CANCELLED):
        raise DomainError("This invitation is no longer pending.")
    if inv.status == GroupInvitation.Status.EXPIRED or inv.expires_at <= now:
        raise DomainError("This invitation has already expired.")
    was = inv.status
    inv.status = GroupInvitation.Status.CANCELLED
    inv.decided_by = actor
    inv.decided_at = now
    inv.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="group.cancel_invitation",
        obj=inv,
        organization=group.lead,
        before={"status": was},
        after={"status": inv.status},
    )
    return inv


@transaction.atomic
def group_request_decide(*, actor: User, request: GroupMembership, approve: bool) -> GroupMembership:
    """Approve or decline a join request, as an owner of the lead organisation."""
    row = _locked_row(request)
    _require_owner(actor, row.group.lead)
    if row.status != GroupMembership.Status.REQUESTED:
        raise DomainError("This request has already been decided.")
    if approve:
        _activate(actor=actor, row=row, action="group.approve")
    else:
        row.status = GroupMembership.Status.DECLINED
        row.decided_by = actor
        row.decided_at = timezone.now()
        row.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(actor=actor, action="group.decline", obj=row, organization=row.group.lead)
    notify(
        recipients=_owners(row.organization),
        key=f"group-decision:{row.pk}",
        kind="group_join_decision",
        subject=f"{row.group.name}: your request was {'approved' if approve else 'declined'}",
        body=(
            f"You are now a member of {row.group.name}."
            if approve
            else f"The lead of {row.group.name} declined your request to join."
        ),
        url=reverse("buyers:group_detail", args=[row.group_id]) if approve else reverse("buyers:group_list"),
    )
    return row


@transaction.atomic
def group_member_remove(*, actor: User, member: GroupMembership) -> GroupMembership:
    """Remove a member organisation, as an owner of the lead."""
    row = _locked_row(member)
    _require_owner(actor, row.group.lead)
    if row.organization_id == row.group.lead_id:
        raise DomainError("The lead organisation cannot be removed from its own group.")
    if row.status != GroupMembership.Status.ACTIVE:
        raise DomainError("This organisation is not a member of the group.")
    was = row.status
    row.status = GroupMembership.Status.REMOVED
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action="group.remove", obj=row, organization=row.group.lead, before={"status": was})
    notify(
        recipients=_owners(row.organization),
        key=f"group-removed:{row.pk}:{row.decided_at.isoformat()}",
        kind="group_removed",
        subject=f"You were removed from {row.group.name}",
        body=f"The lead of {row.group.name} removed {row.organization.display_name} from the group.",
        url=reverse("buyers:group_list"),
    )
    return row


@transaction.atomic
def group_leave(*, actor: User, member: GroupMembership) -> GroupMembership:
    """Leave a group, as an owner of a member organisation; the lead cannot leave."""
    row = _locked_row(member)
    _require_owner(actor, row.organization)
    if row.organization_id == row.group.lead_id:
        raise DomainError("The lead organisation cannot leave its own group.")
    if row.status != GroupMembership.Status.ACTIVE:
        raise DomainError("You are not a member of this group.")
    row.status = GroupMembership.Status.LEFT
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action="group.leave", obj=row, organization=row.organization)
    notify(
        recipients=_owners(row.group.lead),
        key=f"group-left:{row.pk}:{row.decided_at.isoformat()}",
        kind="group_left",
        subject=f"{row.organization.display_name} left {row.group.name}",
        body=f"{row.organization.display_name} is no longer a member of {row.group.name}.",
        url=reverse("buyers:group_detail", args=[row.group_id]),
    )
    return row


def open_membership_exists(*, group: BuyingGroup, organization: Organization) -> bool:
    """Say whether the organisation is waiting for or in the group."""
    return GroupMembership.objects.filter(
        Q(group=group, organization=organization) & Q(status__in=GroupMembership.OPEN)
    ).exists()
