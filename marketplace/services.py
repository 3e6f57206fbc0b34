"""Writes for the core: organisations, verification, notifications, terms."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from marketplace.audit import audit_record, update_audited
from marketplace.models import (
    Invitation,
    Membership,
    Notification,
    Organization,
    OrganizationDocument,
    TermsDocument,
    User,
)


class DomainError(Exception):
    """A business rule refused the change; the message is for the user."""


FOUNDER_ROLE = {
    Organization.Kind.BUYER: Membership.Role.OWNER,
    Organization.Kind.CARRIER: Membership.Role.ADMIN,
    Organization.Kind.BUREAU: Membership.Role.AGENT,
}

ORG_FIELDS = ("name", "trading_name", "street", "city", "region", "postcode", "country", "phone", "contact_email")


def _org_snapshot(org: Organization) -> dict[str, Any]:
    return {f: getattr(org, f) for f in (*ORG_FIELDS, "verification_status")}


@transaction.atomic
def organization_create(*, actor: User, kind: str, **fields: Any) -> Organization:
    """Create an organisation with actor as its founding member."""
    if Membership.objects.filter(user=actor).exists():
        raise DomainError("You already belong to an organisation.")
    if kind not in FOUNDER_ROLE:
        raise DomainError("Choose whether you buy or sell.")
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organisation fields: {sorted(unknown)}")
    org = Organization.objects.create(kind=kind, **fields)
    Membership.objects.create(user=actor, organization=org, role=FOUNDER_ROLE[Organization.Kind(kind)])
    actor.__dict__.pop("_membership_cache", None)
    audit_record(actor=actor, action="organization.create", obj=org, organization=org, after=_org_snapshot(org))
    return org


def _locked(org: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=org.pk)


ALLOWED_VERIFICATION_MOVES: dict[str, set[str]] = {
    Organization.Verification.UNVERIFIED: {Organization.Verification.PENDING, Organization.Verification.VERIFIED},
    Organization.Verification.PENDING: {Organization.Verification.VERIFIED, Organization.Verification.REJECTED},
    Organization.Verification.REJECTED: {Organization.Verification.PENDING},
    Organization.Verification.VERIFIED: {Organization.Verification.PENDING},
}


def _move(org: Organization, target: str) -> str:
    current = org.verification_status
    if target not in ALLOWED_VERIFICATION_MOVES[current]:
        raise DomainError(
            f"An organisation that is {org.get_verification_status_display().lower()} "
            f"cannot become {Organization.Verification(target).label.lower()}."
        )
    org.verification_status = target
    return current


@transaction.atomic
def organization_submit_for_review(*, actor: User, organization: Organization) -> Organization:
    """Put the organisation in the moderators' verification queue."""
    org = _locked(organization)
    before = _move(org, Organization.Verification.PENDING)
    org.submitted_at = timezone.now()
    org.save(update_fields=["verification_status", "submitted_at"])
    audit_record(
        actor=actor,
        action="organization.submit_for_review",
        obj=org,
        organization=org,
        before={"verification_status": before},
        after={"verification_status": org.verification_status},
    )
    return org


@transaction.atomic
def organization_verify(*, actor: User, organization: Organization) -> Organization:
    """Mark the organisation verified and tell its people."""
    if not actor.is_moderator:
        raise DomainError("Only moderators verify organisations.")
    org = _locked(organization)
    before = _move(org, Organization.Verification.VERIFIED)
    org.rejection_reason = ""
    org.verified_at = timezone.now()
    org.save(update_fields=["verification_status", "rejection_reason", "verified_at"])
    audit_record(
        actor=actor,
        action="organization.verify",
        obj=org,
        organization=org,
        before={"verification_status": before},
        after={"verification_status": org.verification_status},
    )
    from marketplace.signals import organization_verified

    org_id = org.pk
    transaction.on_commit(lambda: organization_verified.send(sender=Organization, organization_id=org_id))
    notify(
        recipients=_people(org),
        key=f"org-verified:{org.pk}:{org.verified_at.isoformat()}",
        kind="organization_verified",
        subject=f"{org.display_name} is verified",
        body="Your organisation has been verified. You can now use every part of Switchboard.",
        url="/home/",
    )
    return org


@transaction.atomic
def organization_reject(*, actor: User, organization: Organization, reason: str) -> Organization:
    """Reject the organisation's verification with a reason it can act on."""
    if not actor.is_moderator:
        raise DomainError("Only moderators reject organisations.")
    reason = reason.strip()
    if not reason:
        raise DomainError("Give a reason the organisation can act on.")
    org = _locked(organization)
    before = _move(org, Organization.Verification.REJECTED)
    org.rejection_reason = reason
    org.save(update_fields=["verification_status", "rejection_reason"])
    audit_record(
        actor=actor,
        action="organization.reject",
        obj=org,
        organization=org,
        before={"verification_status": before},
        after={"verification_status": org.verification_status, "reason": reason},
    )
    notify(
        recipients=_people(org),
        key=f"org-rejected:{org.pk}:{timezone.now().isoformat()}",
        kind="organization_rejected",
        subject=f"{org.display_name} was not verified",
        body=f"The moderator could not verify your organisation: {reason}\n"
        "Correct the details and submit it for review again.",
        url="/home/",
    )
    return org


def _people(org: Organization) -> list[User]:
    return [m.user for m in org.memberships.select_related("user").filter(user__is_active=True)]


def notify(
    *,
    recipients: Iterable[User],
    key: str,
    kind: str,
    subject: str,
    body: str,
    url: str = "",
    email: bool = True,
) -> None:
    """Queue an inbox entry and (unless `email` is False) an e-mail per recipient, after the transaction commits."""
    from marketplace.tasks import notification_deliver_task

    for user in recipients:
        payload = {
            "recipient_id": user.pk,
            "key": key[:200],
            "kind": kind,
            "subject": subject[:200],
            "body": body,
            "url": url,
            "email": email,
        }
        transaction.on_commit(lambda p=payload: notification_deliver_task.delay(**p))  # type: ignore[misc]


def notification_deliver(
    *, recipient_id: int, key: str, kind: str, subject: str, body: str, url: str = "", email: bool = True
) -> Notification | None:
    """Create the inbox entry and send the e-mail once (when `email`), however often it is called."""
    recipient = User.objects.filter(pk=recipient_id, is_active=True).first()
    if recipient is None:
        return None
    with transaction.atomic():
        try:
            with transaction.atomic():
                Notification.objects.get_or_create(
                    recipient=recipient,
                    key=key,
                    defaults={"kind": kind, "subject": subject, "body": body, "url": url},
                )
        except IntegrityError:
            pass  # a concurrent delivery created it first
        # The row lock makes a second, concurrent delivery wait and then see emailed_at.
        notification = Notification.objects.select_for_update().get(recipient=recipient, key=key)
        if notification.emailed_at is not None or not email:
            return notification
        context = {
            "notification": notification,
            "recipient": recipient,
            "absolute_url": f"{settings.SITE_URL}{url}" if url else settings.SITE_URL,
        }
        message = EmailMultiAlternatives(
            subject=f"[Switchboard] {subject}",
            body=render_to_string("marketplace/email/notification.txt", context),
            to=[recipient.email],
        )
        message.attach_alternative(render_to_string("marketplace/email/notification.html", context), "text/html")
        message.send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return notification


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of actor's notifications read."""
    if notification.recipient_id != actor.pk:
        raise DomainError("Not your notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of actor read."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def terms_publish(*, actor: User, terms: TermsDocument) -> TermsDocument:
    """Publish a draft terms document; published versions are frozen."""
    doc = TermsDocument.objects.select_for_update().get(pk=terms.pk)
    if doc.published_at is not None:
        raise DomainError("This version is already published.")
    doc.published_at = timezone.now()
    doc.save(update_fields=["published_at"])
    audit_record(actor=actor, action="terms.publish", obj=doc, after={"version": doc.version})
    return doc


# --- Organisation profile -------------------------------------------------------------------------

IDENTITY_FIELDS = ("name", "street", "city", "region", "postcode", "country")


@transaction.atomic
def organization_update(*, actor: User, organization: Organization, **fields: Any) -> Organization:
    """Change the organisation's core details; changed identity facts send a verified one back to review."""
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise TypeError(f"Unknown organisation fields: {sorted(unknown)}")
    org = _locked(organization)
    changed = update_audited(actor=actor, obj=org, fields=fields, action="organization.update", organization=org)
    if not changed:
        return org
    identity = [name for name in changed if name in IDENTITY_FIELDS]
    if identity and org.verification_status == Organization.Verification.VERIFIED:
        organization_send_back_for_review(
            actor=actor, organization=org, reason=f"Verified details changed: {', '.join(identity)}."
        )
        org.refresh_from_db()
    return org


@transaction.atomic
def organization_send_back_for_review(*, actor: User, organization: Organization, reason: str) -> Organization:
    """Return a verified organisation to the moderators' queue because verified facts changed."""
    org = _locked(organization)
    if org.verification_status != Organization.Verification.VERIFIED:
        return org
    before = _move(org, Organization.Verification.PENDING)
    org.submitted_at = timezone.now()
    org.save(update_fields=["verification_status", "submitted_at"])
    audit_record(
        actor=actor,
        action="organization.back_to_review",
        obj=org,
        organization=org,
        before={"verification_status": before},
        after={"verification_status": org.verification_status, "reason": reason},
    )
    return org


# --- People: invitations with initial passwords, roles ---------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _manager_roles(kind: str) -> tuple[str, ...]:
    return {
        Organization.Kind.BUYER: (Membership.Role.OWNER,),
        Organization.Kind.CARRIER: (Membership.Role.ADMIN,),
        Organization.Kind.BUREAU: (Membership.Role.AGENT,),
    }[Organization.Kind(kind)]


def _require_manager(actor: User, organization: Organization) -> None:
    membership = Membership.objects.filter(user=actor, organization=organization).first()
    if membership is None or membership.role not in _manager_roles(organization.kind):
        raise DomainError("Only an owner or admin of the organisation can manage its people.")


def _issue_credentials(invitation: Invitation, user: User) -> tuple[str | None, str | None]:
    """Give the invited user a fresh one-time link or initial password; return (token, password)."""
    invitation.expires_at = timezone.now() + timedelta(hours=settings.INVITATION_LINK_HOURS)
    user.must_change_password = True
    if invitation.delivery == Invitation.Delivery.LINK:
        token = secrets.token_urlsafe(32)
        invitation.token_hash = _token_hash(token)
        user.set_unusable_password()
        user.save(update_fields=["password", "must_change_password"])
        invitation.save(update_fields=["token_hash", "expires_at"])
        return token, None
    password = "-".join(secrets.token_urlsafe(4) for _ in range(4))
    invitation.token_hash = ""
    user.set_password(password)
    user.save(update_fields=["password", "must_change_password"])
    invitation.save(update_fields=["token_hash", "expires_at"])
    return None, password


def _send_invitation_link(invitation: Invitation, token: str) -> None:
    from django.urls import reverse

    url = f"{settings.SITE_URL}{reverse('invitation_accept', args=[token])}"
    context = {"invitation": invitation, "url": url, "hours": settings.INVITATION_LINK_HOURS}
    subject = f"[Switchboard] {invitation.organization.display_name} invited you"
    text = render_to_string("marketplace/email/invitation.txt", context)
    html = render_to_string("marketplace/email/invitation.html", context)

    def send() -> None:
        message = EmailMultiAlternatives(subject=subject, body=text, to=[invitation.email])
        message.attach_alternative(html, "text/html")
        message.send()

    # The link must not leave before the account it opens exists.
    transaction.on_commit(send)


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    organization: Organization,
    email: str,
    role: str,
    delivery: str,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Invitation, str | None]:
    """Create a colleague's account with an initial password; return the password when it is to be shown once."""
    from allauth.account.models import EmailAddress

    _require_manager(actor, organization)
    email = email.strip().lower()
    if role not in Membership.ROLES_BY_KIND[organization.kind]:
        raise DomainError("That role does not exist for this kind of organisation.")
    if delivery not in Invitation.Delivery.values:
        raise DomainError("Choose how the initial password is delivered.")
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(
            "Someone already has an account with this e-mail address; a person belongs to one organisation."
        )
    user = User.objects.create_user(email=email, password=None, first_name=first_name, last_name=last_name)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Membership.objects.create(user=user, organization=organization, role=role)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        delivery=delivery,
        invited_by=actor,
        user=user,
        expires_at=timezone.now(),
    )
    token, password = _issue_credentials(invitation, user)
    if token:
        _send_invitation_link(invitation, token)
    audit_record(
        actor=actor,
        action="invitation.create",
        obj=invitation,
        organization=organization,
        after={"email": email, "role": role, "delivery": delivery},
    )
    return invitation, password


def _locked_invitation(invitation: Invitation) -> Invitation:
    # Lock only the invitation: PostgreSQL refuses FOR UPDATE on the nullable side of the join to user.
    return (
        Invitation.objects.select_for_update(of=("self",)).select_related("organization", "user").get(pk=invitation.pk)
    )


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> tuple[Invitation, str | None]:
    """Issue a new link or password for a waiting or expired invitation; the old one stops working."""
    inv = _locked_invitation(invitation)
    _require_manager(actor, inv.organization)
    if inv.state in ("accepted", "revoked") or inv.user is None:
        raise DomainError(f"This invitation is {inv.state}; it cannot be sent again.")
    token, password = _issue_credentials(inv, inv.user)
    if token:
        _send_invitation_link(inv, token)
    audit_record(actor=actor, action="invitation.resend", obj=inv, organization=inv.organization)
    return inv, password


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """Withdraw a waiting invitation: the account it created is closed."""
    inv = _locked_invitation(invitation)
    _require_manager(actor, inv.organization)
    if inv.state in ("accepted", "revoked"):
        raise DomainError(f"This invitation is {inv.state}; there is nothing to revoke.")
    inv.revoked_at = timezone.now()
    inv.token_hash = ""
    inv.save(update_fields=["revoked_at", "token_hash"])
    if inv.user is not None:
        Membership.objects.filter(user=inv.user, organization=inv.organization).delete()
        inv.user.is_active = False
        inv.user.set_unusable_password()
        inv.user.save(update_fields=["is_active", "password"])
    audit_record(actor=actor, action="invitation.revoke", obj=inv, organization=inv.organization)
    return inv


def invitation_for_token(token: str) -> Invitation | None:
    """Return the invitation a one-time link opens, whatever its state, or None."""
    if not token or len(token) > 100:
        return None
    return Invitation.objects.select_related("organization").filter(token_hash=_token_hash(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Set the invited user's own password through the one-time link; the link then stops working."""
    found = invitation_for_token(token)
    if found is None:
        raise DomainError("This link is not valid. It may have been used already or replaced by a newer one.")
    inv = _locked_invitation(found)
    if inv.token_hash != _token_hash(token) or inv.state != "waiting" or inv.user is None:
        states = {"expired": "This link has expired.", "revoked": "This invitation was withdrawn."}
        raise DomainError(states.get(inv.state, "This link has already been used."))
    user = inv.user
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    inv.accepted_at = timezone.now()
    inv.token_hash = ""
    inv.save(update_fields=["accepted_at", "token_hash"])
    audit_record(actor=user, action="invitation.accept", obj=inv, organization=inv.organization)
    return user


@transaction.atomic
def user_choose_password(*, user: User, password: str) -> User:
    """Replace an initial password with the user's own."""
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    Invitation.objects.filter(user=user, accepted_at__isnull=True, revoked_at__isnull=True).update(
        accepted_at=timezone.now(), token_hash=""
    )
    audit_record(actor=user, action="user.choose_password", obj=user)
    return user


def _locked_membership(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",)).select_related("organization", "user").get(pk=membership.pk)
    )


def _managers_left(org: Organization, excluding: Membership) -> int:
    return (
        Membership.objects.select_for_update()
        .filter(organization=org, role__in=_manager_roles(org.kind), user__is_active=True)
        .exclude(pk=excluding.pk)
        .count()
    )


@transaction.atomic
def membership_change_role(*, actor: User, membership: Membership, role: str) -> Membership:
    """Give a member another role of the organisation's kind; the last owner or admin keeps theirs."""
    m = _locked_membership(membership)
    _require_manager(actor, m.organization)
    if role not in Membership.ROLES_BY_KIND[m.organization.kind]:
        raise DomainError("That role does not exist for this kind of organisation.")
    if m.role == role:
        return m
    if m.role in _manager_roles(m.organization.kind) and _managers_left(m.organization, m) == 0:
        raise DomainError("The organisation needs at least one owner or admin; make someone else one first.")
    before = m.role
    m.role = role
    m.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="membership.change_role",
        obj=m,
        organization=m.organization,
        before={"role": before},
        after={"role": role},
    )
    return m


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership) -> None:
    """Remove someone from the organisation (or leave it); the last owner or admin cannot go."""
    m = _locked_membership(membership)
    if actor.pk != m.user_id:
        _require_manager(actor, m.organization)
    if m.role in _manager_roles(m.organization.kind) and _managers_left(m.organization, m) == 0:
        raise DomainError("The last owner or admin cannot leave or be removed.")
    user = m.user
    audit_record(
        actor=actor,
        action="membership.remove",
        obj=user,
        organization=m.organization,
        before={"email": user.email, "role": m.role},
    )
    m.delete()
    # One person, one organisation: an account without one is closed rather than left floating.
    user.is_active = False
    user.save(update_fields=["is_active"])


# --- Documents -------------------------------------------------------------------------------------

# Verification evidence is a handful of certificates: the cap keeps the list short enough to show whole.
MAX_ORGANIZATION_DOCUMENTS = 20


@transaction.atomic
def document_add(*, actor: User, organization: Organization, file: UploadedFile, kind: str) -> OrganizationDocument:
    """Store a checked supporting document for the organisation."""
    from marketplace.uploads import file_sha256, safe_filename, validate_upload

    if kind not in OrganizationDocument.Kind.values:
        raise DomainError("Choose what kind of document this is.")
    Organization.objects.select_for_update().filter(pk=organization.pk).first()  # one upload at a time counts
    if OrganizationDocument.objects.filter(organization=organization).count() >= MAX_ORGANIZATION_DOCUMENTS:
        raise DomainError(
            f"An organisation keeps at most {MAX_ORGANIZATION_DOCUMENTS} supporting documents; "
            "the moderator has what you sent. Write to them if a document needs replacing."
        )
    content_type = validate_upload(file)
    document = OrganizationDocument(
        organization=organization,
        kind=kind,
        original_name=safe_filename(file.name or ""),
        content_type=content_type,
        size=file.size or 0,
        sha256=file_sha256(file),
        uploaded_by=actor,
    )
    document.file.save("upload", file, save=False)
    document.save()
    audit_record(
        actor=actor,
        action="document.add",
        obj=document,
        organization=organization,
        after={"kind": kind, "name": document.original_name, "sha256": document.sha256},
    )
    return document
