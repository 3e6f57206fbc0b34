"""Writes for the core: organisations, verification, notifications, terms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from marketplace.audit import audit_record
from marketplace.models import Membership, Notification, Organization, TermsDocument, User


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
) -> None:
    """Queue an inbox entry and an e-mail per recipient, after the transaction commits."""
    from marketplace.tasks import notification_deliver_task

    for user in recipients:
        payload = {
            "recipient_id": user.pk,
            "key": key[:200],
            "kind": kind,
            "subject": subject[:200],
            "body": body,
            "url": url,
        }
        transaction.on_commit(lambda p=payload: notification_deliver_task.delay(**p))  # type: ignore[misc]


def notification_deliver(
    *, recipient_id: int, key: str, kind: str, subject: str, body: str, url: str = ""
) -> Notification | None:
    """Create the inbox entry and send the e-mail once, however often it is called."""
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
        if notification.emailed_at is not None:
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
