"""Every write to requests, invitations, questions, addenda, bids, selections and awards."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from buyers.models import BuyerProfile, BuyingGroup, Site
from marketplace.audit import audit_record
from marketplace.middleware import client_address
from marketplace.models import Membership, Organization, ServiceType, TermsDocument, User
from marketplace.services import DomainError, notify
from rfq import matching
from rfq.models import (
    Addendum,
    Award,
    AwardLine,
    Bid,
    BidAttachment,
    BidLine,
    BidRevision,
    PriorBill,
    Question,
    Rfq,
    RfqInvitation,
    RfqLine,
    RfqSite,
    Selection,
    SelectionLine,
)
from rfq.usage_terms import tiers_check, tiers_to_json

S = Rfq.Status
EDITABLE = (S.DRAFT,)
WIZARD_STEPS = ("sites", "services", "billing", "usage", "visibility", "schedule", "review")


# --- helpers ----------------------------------------------------------------------------------------


def _locked(rfq: Rfq) -> Rfq:
    return Rfq.objects.select_for_update().get(pk=rfq.pk)


def _move(rfq: Rfq, target: str, *, allowed_from: tuple[str, ...]) -> str:
    if rfq.status not in allowed_from:
        raise DomainError(
            f"A request that is {rfq.get_status_display().lower()} cannot become {S(target).label.lower()}."
        )
    before = rfq.status
    rfq.status = target
    return before


def _audit(actor: User | None, action: str, rfq: Rfq, **values: Any) -> None:
    audit_record(actor=actor, action=action, obj=rfq, organization=rfq.buyer, after=values)


def buyer_people(rfq: Rfq) -> list[User]:
    """Everyone at the buyer organisations taking part (for a group: every member organisation)."""
    org_ids = set(rfq.rfq_sites.values_list("organization_id", flat=True)) | {rfq.buyer_id}
    return list(User.objects.filter(membership__organization_id__in=org_ids, is_active=True))


def carrier_people(carrier_id: int) -> list[User]:
    """The carrier's admins and sales staff, who answer requests."""
    return list(
        User.objects.filter(
            membership__organization_id=carrier_id,
            membership__role__in=[Membership.Role.ADMIN, Membership.Role.SALES],
            is_active=True,
        )
    )


def _notify_carriers(rfq: Rfq, invitations: Any, *, key: str, kind: str, subject: str, body: str) -> None:
    """Tell the staff of each invited carrier, once per carrier (key + ":" + carrier id), linking to the request."""
    for invitation in invitations:
        notify(
            recipients=carrier_people(invitation.carrier_id),
            key=f"{key}:{invitation.carrier_id}",
            kind=kind,
            subject=subject,
            body=body,
            url=f"/rfq/seller/{rfq.pk}/",
        )


def buyer_alias(rfq: Rfq, *, buyer_count: int | None = None) -> str:
    """How carriers see the buyer before award: an alias, never a name.

    Lists pass `buyer_count` (annotated per row) so a group request costs no query of its own.
    """
    if rfq.group_id:
        orgs = buyer_count if buyer_count is not None else rfq.rfq_sites.values("organization_id").distinct().count()
        return f"Buyer group {rfq.group.reference} ({orgs} buyers, {rfq.site_count} sites)"  # type: ignore[union-attr]
    return f"Buyer {rfq.buyer.alias}"


def _new_reference() -> str:
    return "RFQ-" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def _require_buyer_member(actor: User, rfq: Rfq) -> None:
    if not Membership.objects.filter(user=actor, organization_id=rfq.buyer_id).exists():
        raise DomainError("Only people of the requesting organisation can change this request.")


def _require_editable(rfq: Rfq) -> None:
    if rfq.status not in EDITABLE:
        raise DomainError("Only a draft can be edited; change an open request with an addendum.")


# --- drafting (the wizard) ---------------------------------------------------------------------------


@transaction.atomic
def rfq_create_draft(*, actor: User, buyer: Organization, title: str, group: BuyingGroup | None = None) -> Rfq:
    """Start a draft request for the buyer (or for a group the buyer leads)."""
    if not Membership.objects.filter(user=actor, organization=buyer).exists():
        raise DomainError("You can only create requests for your own organisation.")
    if group is not None and group.lead_id != buyer.pk:
        raise DomainError("Only the group's lead organisation builds its requests.")
    profile = BuyerProfile.objects.filter(organization=buyer).first()
    rfq = Rfq.objects.create(
        buyer=buyer,
        group=group,
        created_by=actor,
        reference=_new_reference(),
        title=title.strip(),
        site_precision=profile.site_precision if profile else "postcode",
    )
    _audit(actor, "rfq.create", rfq, title=rfq.title, group=group.pk if group else None)
    return rfq


def _touch(rfq: Rfq, step: str) -> None:
    rfq.updated_at = timezone.now()
    current = WIZARD_STEPS.index(rfq.wizard_step) if rfq.wizard_step in WIZARD_STEPS else 0
    if WIZARD_STEPS.index(step) + 1 > current and step != "review":
        rfq.wizard_step = WIZARD_STEPS[min(WIZARD_STEPS.index(step) + 1, len(WIZARD_STEPS) - 1)]
    rfq.save()


@transaction.atomic
def rfq_set_sites(*, actor: User, rfq: Rfq, sites: list[Site], title: str | None = None) -> Rfq:
    """Choose the sites the request covers; lines of sites dropped go with them."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    if not sites:
        raise DomainError("Choose at least one site.")
    allowed_orgs = {rfq.buyer_id}
    if rfq.group_id:
        from buyers.models import GroupMembership

        allowed_orgs |= set(
            GroupMembership.objects.filter(group_id=rfq.group_id, status="active").values_list(
                "organization_id", flat=True
            )
        )
    for site in sites:
        if site.organization_id not in allowed_orgs or site.archived_at is not None:
            raise DomainError(f"{site.name} cannot be part of this request.")
    wanted = {s.pk for s in sites}
    rfq.rfq_sites.exclude(site_id__in=wanted).delete()
    existing = set(rfq.rfq_sites.values_list("site_id", flat=True))
    now = timezone.now()
    RfqSite.objects.bulk_create(
        [
            RfqSite(
                rfq=rfq,
                site=s,
                organization_id=s.organization_id,
                # The buyer's own sites are confirmed by choosing them; group members confirm theirs.
                confirmed_at=now if s.organization_id == rfq.buyer_id else None,
                confirmed_by=actor if s.organization_id == rfq.buyer_id else None,
            )
            for s in sites
            if s.pk not in existing
        ]
    )
    if title:
        rfq.title = title.strip()
    _touch(rfq, "sites")
    _audit(actor, "rfq.set_sites", rfq, sites=sorted(wanted))
    return rfq


@transaction.atomic
def rfq_set_lines(*, actor: User, rfq: Rfq, lines: list[dict[str, Any]]) -> Rfq:
    """Replace the request's lines: each {rfq_site, service_type, quantity, features}."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    if not lines:
        raise DomainError("Add at least one service to a site.")
    site_ids = set(rfq.rfq_sites.values_list("pk", flat=True))
    previous = {(line.rfq_site_id, line.service_type_id): line for line in rfq.lines.all()}
    rfq.lines.all().delete()
    created = []
    for position, data in enumerate(lines):
        rfq_site: RfqSite = data["rfq_site"]
        service_type: ServiceType = data["service_type"]
        if rfq_site.pk not in site_ids:
            raise DomainError("A service was added to a site that is not part of the request.")
        old = previous.get((rfq_site.pk, service_type.pk))
        created.append(
            RfqLine(
                rfq=rfq,
                rfq_site=rfq_site,
                service_type=service_type,
                quantity=data.get("quantity") or 1,
                features=data.get("features") or {},
                position=position,
                # Prior usage entered later survives a change of features.
                current_carrier=old.current_carrier if old else "",
                prior_monthly_spend=old.prior_monthly_spend if old else None,
                prior_volume=old.prior_volume if old else "",
            )
        )
    RfqLine.objects.bulk_create(created)
    _touch(rfq, "services")
    _audit(actor, "rfq.set_lines", rfq, lines=len(created))
    return rfq


BILLING_FIELDS = (
    "currency",
    "invoice_grouping",
    "carrier_grouping",
    "payment_terms_days",
    "invoice_delivery",
    "po_number",
)


@transaction.atomic
def rfq_set_billing(*, actor: User, rfq: Rfq, **fields: Any) -> Rfq:
    """Record how the buyer wants to be invoiced."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    for name in BILLING_FIELDS:
        if name in fields:
            setattr(rfq, name, fields[name])
    _touch(rfq, "billing")
    _audit(actor, "rfq.set_billing", rfq, **{k: fields.get(k) for k in BILLING_FIELDS})
    return rfq


@transaction.atomic
def rfq_set_usage(*, actor: User, rfq: Rfq, usage: dict[int, dict[str, Any]]) -> Rfq:
    """Record prior usage per line: {line_id: {current_carrier, prior_monthly_spend, prior_volume}}."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    for line in rfq.lines.all():
        data = usage.get(line.pk)
        if data is None:
            continue
        line.current_carrier = data.get("current_carrier", "")
        line.prior_monthly_spend = data.get("prior_monthly_spend")
        line.prior_volume = data.get("prior_volume", "")
        line.save(update_fields=["current_carrier", "prior_monthly_spend", "prior_volume"])
    _touch(rfq, "usage")
    _audit(actor, "rfq.set_usage", rfq, lines=len(usage))
    return rfq


@transaction.atomic
def prior_bill_add(*, actor: User, rfq: Rfq, file: UploadedFile) -> PriorBill:
    """Attach a past bill (PDF, PNG or JPEG) to a draft."""
    from marketplace.uploads import safe_filename, validate_upload

    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    content_type = validate_upload(file)
    bill = PriorBill(
        rfq=rfq,
        original_name=safe_filename(file.name or "", default="bill"),
        content_type=content_type,
        size=file.size or 0,
    )
    bill.file.save("upload", file, save=False)
    bill.save()
    _audit(actor, "rfq.prior_bill_add", rfq, name=bill.original_name)
    return bill


@transaction.atomic
def rfq_set_visibility(
    *, actor: User, rfq: Rfq, visibility: str, carriers: list[Organization], site_precision: str | None = None
) -> Rfq:
    """Choose who may see the request, and how precisely carriers see its sites before award."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    if visibility not in Rfq.Visibility.values:
        raise DomainError("Choose who may see the request.")
    if visibility != Rfq.Visibility.OPEN and not carriers:
        raise DomainError("Pick at least one carrier, or make the request open.")
    if any(c.kind != Organization.Kind.CARRIER or not c.is_verified for c in carriers):
        raise DomainError("Only verified carriers can be listed.")
    if site_precision is not None:
        if site_precision not in BuyerProfile.SitePrecision.values:
            raise DomainError("Choose street address, postcode or city.")
        rfq.site_precision = site_precision
    rfq.visibility = visibility
    rfq.listed_carriers.set(carriers if visibility != Rfq.Visibility.OPEN else [])
    _touch(rfq, "visibility")
    _audit(actor, "rfq.set_visibility", rfq, visibility=visibility, carriers=[c.pk for c in carriers])
    return rfq


def _check_schedule(bid_deadline: datetime, decision_deadline: datetime, now: datetime) -> None:
    window = timedelta(hours=settings.RFQ_MIN_BID_WINDOW_HOURS)
    if bid_deadline < now + window:
        raise DomainError(f"Give carriers at least {settings.RFQ_MIN_BID_WINDOW_HOURS} hours: move the bid deadline.")
    if decision_deadline <= bid_deadline:
        raise DomainError("The decision deadline must come after the bid deadline.")


@transaction.atomic
def rfq_set_schedule(
    *,
    actor: User,
    rfq: Rfq,
    bid_deadline: datetime,
    decision_deadline: datetime,
    desired_start: date | None,
    term_months: int,
) -> Rfq:
    """Set the deadlines, desired start date and contract term."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    _check_schedule(bid_deadline, decision_deadline, timezone.now())
    rfq.bid_deadline = bid_deadline
    rfq.decision_deadline = decision_deadline
    rfq.desired_start = desired_start
    rfq.term_months = term_months
    _touch(rfq, "schedule")
    _audit(
        actor,
        "rfq.set_schedule",
        rfq,
        bid_deadline=bid_deadline,
        decision_deadline=decision_deadline,
        term_months=term_months,
    )
    return rfq


def rfq_missing(rfq: Rfq) -> list[str]:
    """What a draft still needs before it can be published, in the words of the wizard."""
    missing = []
    if not rfq.rfq_sites.exists():
        missing.append("Choose at least one site.")
    if not rfq.lines.exists():
        missing.append("Add at least one service.")
    elif rfq.rfq_sites.filter(lines__isnull=True).exists():
        missing.append("Every site needs at least one service (or remove the site).")
    if not rfq.bid_deadline or not rfq.decision_deadline or not rfq.term_months:
        missing.append("Set the bid deadline, decision deadline and contract term.")
    if rfq.visibility != Rfq.Visibility.OPEN and not rfq.listed_carriers.exists():
        missing.append("Pick the carriers who may see the request.")
    if rfq.group_id and rfq.rfq_sites.filter(confirmed_at__isnull=True).exists():
        missing.append("Every member organisation must confirm its sites.")
    return missing


@transaction.atomic
def rfq_confirm_sites(*, actor: User, rfq: Rfq, organization: Organization, site_ids: list[int]) -> Rfq:
    """A group member confirms which of its sites take part; the others leave the request."""
    rfq = _locked(rfq)
    _require_editable(rfq)
    if not Membership.objects.filter(user=actor, organization=organization).exists():
        raise DomainError("Only people of the member organisation confirm its sites.")
    mine = rfq.rfq_sites.filter(organization=organization)
    if not mine.exists():
        raise DomainError("None of your sites are part of this request.")
    mine.exclude(site_id__in=site_ids).delete()
    mine.filter(site_id__in=site_ids).update(confirmed_at=timezone.now(), confirmed_by=actor)
    _audit(actor, "rfq.confirm_sites", rfq, organization=organization.pk, sites=sorted(site_ids))
    return rfq


# --- publication and distribution -------------------------------------------------------------------


def _fix_facts(rfq: Rfq) -> None:
    rfq.site_count = rfq.rfq_sites.count()
    org_ids = set(rfq.rfq_sites.values_list("organization_id", flat=True))
    rfq.buyer_is_reseller = BuyerProfile.objects.filter(organization_id__in=org_ids, is_reseller=True).exists()
    spend = sum((line.prior_monthly_spend or Decimal(0)) for line in rfq.lines.all())
    rfq.estimated_value = (spend * rfq.term_months) if spend and rfq.term_months else None


@transaction.atomic
def rfq_publish(*, actor: User, rfq: Rfq) -> Rfq:
    """Publish a complete draft: distribute it now, or hold it until the buyer is verified."""
    from buyers.selectors import group_is_qualified

    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_editable(rfq)
    missing = rfq_missing(rfq)
    if missing:
        raise DomainError(" ".join(missing))
    _check_schedule(rfq.bid_deadline, rfq.decision_deadline, timezone.now())  # type: ignore[arg-type]
    if rfq.group_id and not group_is_qualified(rfq.group):  # type: ignore[arg-type]
        raise DomainError("The group is not qualified yet: the moderator must verify at least one member.")
    _fix_facts(rfq)
    rfq.published_at = timezone.now()
    buyer = Organization.objects.get(pk=rfq.buyer_id)
    # Published requests wait here; a verified buyer's moves on to open at once, below.
    before = _move(rfq, S.AWAITING_VERIFICATION, allowed_from=EDITABLE)
    rfq.save()
    audit_record(
        actor=actor,
        action="rfq.publish",
        obj=rfq,
        organization=rfq.buyer,
        before={"status": before},
        after={"status": rfq.status},
    )
    if buyer.is_verified:
        _distribute(rfq, actor=actor)
    return rfq


def _distribute(rfq: Rfq, *, actor: User | None) -> int:
    """Invite the carriers the request reaches; it becomes open. Returns how many were invited."""
    if rfq.visibility == Rfq.Visibility.OPEN:
        carrier_ids = matching.carriers_for_rfq(rfq.pk)
    else:
        carrier_ids = set(
            rfq.listed_carriers.filter(verification_status=Organization.Verification.VERIFIED).values_list(
                "pk", flat=True
            )
        )
    RfqInvitation.objects.bulk_create(
        [RfqInvitation(rfq=rfq, carrier_id=c) for c in sorted(carrier_ids)], ignore_conflicts=True
    )
    before = _move(rfq, S.OPEN, allowed_from=(S.AWAITING_VERIFICATION,))
    rfq.distributed_at = timezone.now()
    rfq.save(
        update_fields=["status", "distributed_at", "site_count", "buyer_is_reseller", "estimated_value", "published_at"]
    )
    audit_record(
        actor=actor,
        action="rfq.distribute",
        obj=rfq,
        organization=rfq.buyer,
        before={"status": before},
        after={"status": rfq.status, "carriers": sorted(carrier_ids)},
    )
    alias = buyer_alias(rfq)
    for carrier_id in carrier_ids:
        notify(
            recipients=carrier_people(carrier_id),
            key=f"rfq-invited:{rfq.pk}:{carrier_id}",
            kind="rfq_invited",
            subject=f"New request {rfq.reference}: {rfq.title}",
            body=f"{alias} invites you to bid. Bids close {rfq.bid_deadline:%d %b %Y %H:%M} UTC.",
            url=f"/rfq/seller/{rfq.pk}/",
        )
    if rfq.visibility == Rfq.Visibility.LISTED_SENT:
        from rfq.tasks import rfq_send_summary_task

        for carrier_id in carrier_ids:
            transaction.on_commit(lambda c=carrier_id: rfq_send_summary_task.delay(rfq.pk, c))  # type: ignore[misc]
    notify(
        recipients=buyer_people(rfq),
        key=f"rfq-distributed:{rfq.pk}",
        kind="rfq_distributed",
        subject=f"{rfq.reference} is out to carriers",
        body=f"Your request reached {len(carrier_ids)} carrier(s). Bids close {rfq.bid_deadline:%d %b %Y %H:%M} UTC.",
        url=f"/rfq/{rfq.pk}/",
    )
    return len(carrier_ids)


@transaction.atomic
def rfqs_distribute_for_verified_buyer(*, organization_id: int) -> int:
    """Send out every request the buyer published while it waited for verification."""
    count = 0
    for rfq in Rfq.objects.select_for_update().filter(buyer_id=organization_id, status=S.AWAITING_VERIFICATION):
        if rfq.bid_deadline and rfq.bid_deadline <= timezone.now():
            continue  # too late to bid: the buyer must re-schedule it
        _distribute(rfq, actor=None)
        count += 1
    return count


@transaction.atomic
def rfq_send_summary(*, rfq_id: int, carrier_id: int) -> bool:
    """E-mail the anonymous PDF summary to a listed carrier once; returns whether it was sent now."""
    from django.core.mail import EmailMessage

    from rfq.pdf import rfq_summary_pdf

    invitation = (
        RfqInvitation.objects.select_for_update(of=("self",))
        .select_related("rfq")
        .get(rfq_id=rfq_id, carrier_id=carrier_id)
    )
    if invitation.summary_sent_at is not None:
        return False
    rfq = invitation.rfq
    pdf = rfq_summary_pdf(rfq)
    for user in carrier_people(carrier_id):
        message = EmailMessage(
            subject=f"[Switchboard] Request {rfq.reference} for your bid",
            body=(
                f"{buyer_alias(rfq)} listed your company for request {rfq.reference} ({rfq.title}).\n"
                f"The summary is attached. Bid in your portal: {settings.SITE_URL}/rfq/seller/{rfq.pk}/\n"
                f"Bids close {rfq.bid_deadline:%d %b %Y %H:%M} UTC."
            ),
            to=[user.email],
        )
        message.attach(f"{rfq.reference}.pdf", pdf, "application/pdf")
        message.send()
    invitation.summary_sent_at = timezone.now()
    invitation.save(update_fields=["summary_sent_at"])
    return True


# --- carriers: invitations, questions ----------------------------------------------------------------


def _require_carrier_staff(actor: User, carrier_id: int, *, write: bool = True) -> None:
    roles = [Membership.Role.ADMIN, Membership.Role.SALES] if write else list(Membership.Role.values)
    if not Membership.objects.filter(user=actor, organization_id=carrier_id, role__in=roles).exists():
        raise DomainError("Only the carrier's admins and sales staff can do this.")


def _require_before_deadline(rfq: Rfq) -> None:
    # The clock decides, not the status: a bid a second late is refused even before the closing task runs.
    if rfq.status != S.OPEN or rfq.bid_deadline is None or timezone.now() >= rfq.bid_deadline:
        raise DomainError("Bidding on this request has closed.")


@transaction.atomic
def invitation_mark_viewed(*, actor: User, invitation: RfqInvitation) -> RfqInvitation:
    """Record the carrier's first look at the request."""
    if invitation.viewed_at is None:
        updated = RfqInvitation.objects.filter(pk=invitation.pk, viewed_at__isnull=True).update(
            viewed_at=timezone.now(),
            state=RfqInvitation.State.VIEWED if invitation.state == RfqInvitation.State.INVITED else invitation.state,
        )
        if updated:
            audit_record(actor=actor, action="rfq.invitation_viewed", obj=invitation, organization=invitation.carrier)
        invitation.refresh_from_db()
    return invitation


@transaction.atomic
def invitation_respond(*, actor: User, invitation: RfqInvitation, intends: bool, reason: str = "") -> RfqInvitation:
    """Say the carrier intends to bid, or decline with a reason."""
    inv = RfqInvitation.objects.select_for_update(of=("self",)).select_related("rfq").get(pk=invitation.pk)
    _require_carrier_staff(actor, inv.carrier_id)
    _require_before_deadline(inv.rfq)
    if not intends and not reason.strip():
        raise DomainError("Say why you decline; the buyer never sees your name.")
    before = inv.state
    inv.state = RfqInvitation.State.INTENDS if intends else RfqInvitation.State.DECLINED
    inv.decline_reason = "" if intends else reason.strip()
    inv.viewed_at = inv.viewed_at or timezone.now()
    inv.save(update_fields=["state", "decline_reason", "viewed_at"])
    audit_record(
        actor=actor,
        action="rfq.invitation_respond",
        obj=inv,
        organization=inv.carrier,
        before={"state": before},
        after={"state": inv.state},
    )
    return inv


@transaction.atomic
def question_ask(*, actor: User, invitation: RfqInvitation, text: str) -> Question:
    """A carrier asks the buyer a clarifying question."""
    _require_carrier_staff(actor, invitation.carrier_id)
    rfq = invitation.rfq
    _require_before_deadline(rfq)
    if not text.strip():
        raise DomainError("Write your question.")
    question = Question.objects.create(rfq=rfq, asked_by=invitation, text=text.strip())
    audit_record(actor=actor, action="rfq.question_ask", obj=question, organization=invitation.carrier)
    notify(
        recipients=buyer_people(rfq),
        key=f"rfq-question:{question.pk}",
        kind="rfq_question",
        subject=f"A carrier asked a question on {rfq.reference}",
        body=question.text,
        url=f"/rfq/{rfq.pk}/",
    )
    return question


@transaction.atomic
def question_answer(*, actor: User, question: Question, answer: str) -> Question:
    """Answer a question; the answer goes to every invited carrier without naming who asked."""
    q = Question.objects.select_for_update(of=("self",)).select_related("rfq").get(pk=question.pk)
    _require_buyer_member(actor, q.rfq)
    if q.rfq.status not in (S.OPEN,):
        raise DomainError("Questions can only be answered while the request is open.")
    if not answer.strip():
        raise DomainError("Write the answer.")
    if q.answered_at:
        raise DomainError("This question is already answered.")
    q.answer = answer.strip()
    q.answered_at = timezone.now()
    q.save(update_fields=["answer", "answered_at"])
    _audit(actor, "rfq.question_answer", q.rfq, question=q.pk)
    _notify_carriers(
        q.rfq,
        q.rfq.invitations.all(),
        key=f"rfq-answer:{q.pk}",
        kind="rfq_answer",
        subject=f"Clarification published on {q.rfq.reference}",
        body=f"Q: {q.text}\nA: {q.answer}",
    )
    return q


# --- addenda ------------------------------------------------------------------------------------------


@transaction.atomic
def addendum_create(*, actor: User, rfq: Rfq, description: str, new_deadline: datetime) -> Addendum:
    """Change an open request: the deadline moves out and submitted bids must be re-confirmed."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    _require_before_deadline(rfq)
    if not description.strip():
        raise DomainError("Describe what changes.")
    previous_deadline: datetime = rfq.bid_deadline  # type: ignore[assignment]  # checked just above
    minimum = previous_deadline + timedelta(hours=settings.RFQ_ADDENDUM_MIN_EXTENSION_HOURS)
    if new_deadline < minimum:
        raise DomainError(
            f"An addendum must move the deadline out by at least {settings.RFQ_ADDENDUM_MIN_EXTENSION_HOURS} hours, "
            f"to {minimum:%d %b %Y %H:%M} UTC or later."
        )
    number = (rfq.addenda.aggregate(n=Max("number"))["n"] or 0) + 1
    addendum = Addendum.objects.create(
        rfq=rfq,
        number=number,
        description=description.strip(),
        previous_deadline=previous_deadline,
        new_deadline=new_deadline,
        created_by=actor,
    )
    shift = new_deadline - previous_deadline
    rfq.bid_deadline = new_deadline
    if rfq.decision_deadline and rfq.decision_deadline <= new_deadline:
        rfq.decision_deadline = rfq.decision_deadline + shift
    rfq.reminder_sent_at = None
    rfq.save(update_fields=["bid_deadline", "decision_deadline", "reminder_sent_at"])
    flagged = rfq.bids.filter(status=Bid.Status.SUBMITTED).update(needs_reconfirmation=True)
    _audit(actor, "rfq.addendum", rfq, number=number, new_deadline=new_deadline, bids_to_reconfirm=flagged)
    _notify_carriers(
        rfq,
        rfq.invitations.all(),
        key=f"rfq-addendum:{addendum.pk}",
        kind="rfq_addendum",
        subject=f"Addendum {number} to {rfq.reference}",
        body=f"{addendum.description}\nBids now close {new_deadline:%d %b %Y %H:%M} UTC. "
        "Submitted bids must be re-confirmed.",
    )
    return addendum


# --- bids ---------------------------------------------------------------------------------------------


def bid_canonical(bid: Bid, number: int) -> dict[str, Any]:
    """The content a bid's digest covers, in a fixed order with fixed number formats."""

    def money(value: Decimal | None, places: str = "0.01") -> str | None:
        return None if value is None else str(Decimal(value).quantize(Decimal(places)))

    return {
        "rfq": bid.rfq.reference,
        "carrier": bid.carrier_id,
        "revision": number,
        "notes": bid.notes,
        "attachments": [
            {"name": a.original_name, "sha256": a.sha256} for a in bid.attachments.order_by("uploaded_at", "id")
        ],
        "lines": [
            {
                "line": line.rfq_line_id,
                "monthly": money(line.monthly_charge),
                "one_time": money(line.one_time_charge),
                "usage_rate": money(line.usage_rate, "0.000001"),
                "usage_unit": line.usage_unit,
                "increment": money(line.increment, "0.0001"),
                "tiers": [
                    {"threshold": money(threshold, "0.000001"), "rate": money(rate, "0.000001")}
                    for threshold, rate in line.usage_tiers
                ],
                "minimum_commitment": money(line.minimum_commitment),
                "term_months": line.term_months,
                "install_days": line.install_days,
                "compliance": {k: bool(v) for k, v in sorted(line.compliance.items())},
                "notes": line.notes,
            }
            for line in bid.lines.order_by("rfq_line_id")
        ],
    }


def digest_of(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: sorted keys, no spaces, UTF-8."""
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()


def _usage_terms(data: dict[str, Any]) -> dict[str, Any]:
    """A line's billing increment, volume tiers and minimum commitment as BidLine keeps them; each needs a rate."""
    increment, commitment = data.get("increment"), data.get("minimum_commitment")
    try:
        tiers = tiers_check(list(data.get("tiers") or []))
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages)) from None
    if data.get("usage_rate") is None and (tiers or increment is not None or commitment is not None):
        raise DomainError("Volume tiers, a billing increment and a minimum commitment need a usage rate on the line.")
    if increment is not None and increment <= 0:
        raise DomainError("A billing increment is above 0; leave it out to bill usage as measured.")
    if commitment is not None and commitment < 0:
        raise DomainError("A minimum commitment cannot be negative.")
    return {"increment": increment, "minimum_commitment": commitment, "tiers": tiers_to_json(tiers)}


@transaction.atomic
def bid_save_draft(*, actor: User, invitation: RfqInvitation, lines: list[dict[str, Any]], notes: str = "") -> Bid:
    """Save the carrier's prices as a draft: [{rfq_line, monthly_charge, one_time_charge, ...}].

    Usage terms are optional: increment, tiers [(threshold, rate), ...] and minimum_commitment.
    """
    inv = RfqInvitation.objects.select_for_update(of=("self",)).select_related("rfq").get(pk=invitation.pk)
    _require_carrier_staff(actor, inv.carrier_id)
    _require_before_deadline(inv.rfq)
    bid, _ = Bid.objects.get_or_create(
        invitation=inv, defaults={"rfq": inv.rfq, "carrier_id": inv.carrier_id, "created_by": actor}
    )
    bid = Bid.objects.select_for_update().get(pk=bid.pk)
    if bid.status == Bid.Status.WITHDRAWN:
        bid.status = Bid.Status.DRAFT
    valid_lines = set(inv.rfq.lines.values_list("pk", flat=True))
    bid.lines.all().delete()
    BidLine.objects.bulk_create(
        [
            BidLine(
                bid=bid,
                rfq_line=data["rfq_line"],
                monthly_charge=data["monthly_charge"],
                one_time_charge=data.get("one_time_charge") or Decimal(0),
                usage_rate=data.get("usage_rate"),
                usage_unit=data.get("usage_unit", ""),
                **_usage_terms(data),
                term_months=data["term_months"],
                install_days=data["install_days"],
                compliance=data.get("compliance") or {},
                notes=data.get("notes", ""),
            )
            for data in lines
            if data["rfq_line"].pk in valid_lines
        ]
    )
    bid.notes = notes
    bid.updated_at = timezone.now()
    if inv.state in (RfqInvitation.State.INVITED, RfqInvitation.State.VIEWED):
        inv.state = RfqInvitation.State.INTENDS
        inv.save(update_fields=["state"])
    bid.save()
    audit_record(actor=actor, action="bid.save_draft", obj=bid, organization=bid.carrier, after={"lines": len(lines)})
    return bid


@transaction.atomic
def bid_submit(*, actor: User, bid: Bid) -> BidRevision:
    """Submit (or re-confirm) the bid; a new revision is kept with its SHA-256 receipt."""
    bid = Bid.objects.select_for_update(of=("self",)).select_related("rfq").get(pk=bid.pk)
    _require_carrier_staff(actor, bid.carrier_id)
    _require_before_deadline(bid.rfq)
    if not bid.lines.exists():
        raise DomainError("Price at least one line before submitting.")
    number = (bid.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    content = bid_canonical(bid, number)
    revision = BidRevision.objects.create(
        bid=bid, number=number, content=content, digest=digest_of(content), submitted_by=actor
    )
    before = bid.status
    bid.status = Bid.Status.SUBMITTED
    bid.needs_reconfirmation = False
    bid.submitted_at = revision.submitted_at
    bid.digest = revision.digest
    bid.save(update_fields=["status", "needs_reconfirmation", "submitted_at", "digest"])
    audit_record(
        actor=actor,
        action="bid.submit",
        obj=bid,
        organization=bid.carrier,
        before={"status": before},
        after={"status": bid.status, "revision": number, "digest": revision.digest},
    )
    notify(
        recipients=carrier_people(bid.carrier_id),
        key=f"bid-receipt:{revision.pk}",
        kind="bid_receipt",
        subject=f"Receipt for your bid on {bid.rfq.reference} (revision {number})",
        body=f"Received {revision.submitted_at:%d %b %Y %H:%M:%S} UTC.\nSHA-256: {revision.digest}",
        url=f"/rfq/seller/{bid.rfq_id}/",
    )
    return revision


@transaction.atomic
def bid_withdraw(*, actor: User, bid: Bid) -> Bid:
    """Withdraw a bid before the deadline; its revisions stay on record."""
    bid = Bid.objects.select_for_update(of=("self",)).select_related("rfq").get(pk=bid.pk)
    _require_carrier_staff(actor, bid.carrier_id)
    _require_before_deadline(bid.rfq)
    if bid.status == Bid.Status.WITHDRAWN:
        raise DomainError("This bid is already withdrawn.")
    before = bid.status
    bid.status = Bid.Status.WITHDRAWN
    bid.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="bid.withdraw",
        obj=bid,
        organization=bid.carrier,
        before={"status": before},
        after={"status": bid.status},
    )
    return bid


# --- deadline, opening, reminders, expiry ---------------------------------------------------------------


@transaction.atomic
def rfq_open_bids(*, rfq_id: int) -> bool:
    """At the deadline, close bidding and publish the digests to every participant. Idempotent."""
    rfq = Rfq.objects.select_for_update().get(pk=rfq_id)
    if rfq.status != S.OPEN or rfq.bid_deadline is None or rfq.bid_deadline > timezone.now():
        return False
    before = _move(rfq, S.CLOSED, allowed_from=(S.OPEN,))
    rfq.opened_at = timezone.now()
    rfq.save(update_fields=["status", "opened_at"])
    submitted = rfq.bids.filter(status=Bid.Status.SUBMITTED).count()
    audit_record(
        actor=None,
        action="rfq.open_bids",
        obj=rfq,
        organization=rfq.buyer,
        before={"status": before},
        after={"status": rfq.status, "bids": submitted},
    )
    notify(
        recipients=buyer_people(rfq),
        key=f"rfq-opened:{rfq.pk}",
        kind="rfq_opened",
        subject=f"Bids are open on {rfq.reference}",
        body=f"{submitted} bid(s) arrived. Compare them and choose by {rfq.decision_deadline:%d %b %Y}.",
        url=f"/rfq/{rfq.pk}/compare/",
    )
    _notify_carriers(
        rfq,
        rfq.invitations.all(),
        key=f"rfq-opened:{rfq.pk}",
        kind="rfq_opened",
        subject=f"Bidding closed on {rfq.reference}",
        body="Bids are open. The digests of every bid are published on the request page so you can check yours.",
    )
    return True


def rfqs_due_for_opening() -> list[int]:
    return list(Rfq.objects.filter(status=S.OPEN, bid_deadline__lte=timezone.now()).values_list("pk", flat=True))


@transaction.atomic
def rfq_send_reminder(*, rfq_id: int) -> bool:
    """A day before the deadline, remind the carriers who have not submitted, and the buyer. Once."""
    rfq = Rfq.objects.select_for_update().get(pk=rfq_id)
    now = timezone.now()
    if rfq.status != S.OPEN or rfq.reminder_sent_at or not rfq.bid_deadline:
        return False
    if not (now < rfq.bid_deadline <= now + timedelta(days=1)):
        return False
    rfq.reminder_sent_at = now
    rfq.save(update_fields=["reminder_sent_at"])
    _notify_carriers(
        rfq,
        rfq.invitations.exclude(state=RfqInvitation.State.DECLINED),
        key=f"rfq-reminder:{rfq.pk}:{rfq.bid_deadline.isoformat()}",
        kind="rfq_reminder",
        subject=f"Bids on {rfq.reference} close within a day",
        body=f"Bids close {rfq.bid_deadline:%d %b %Y %H:%M} UTC.",
    )
    notify(
        recipients=buyer_people(rfq),
        key=f"rfq-reminder:{rfq.pk}:{rfq.bid_deadline.isoformat()}",
        kind="rfq_reminder",
        subject=f"Bids on {rfq.reference} close within a day",
        body=f"Bids close {rfq.bid_deadline:%d %b %Y %H:%M} UTC.",
        url=f"/rfq/{rfq.pk}/",
    )
    return True


def rfqs_due_for_reminder() -> list[int]:
    now = timezone.now()
    return list(
        Rfq.objects.filter(
            status=S.OPEN,
            reminder_sent_at__isnull=True,
            bid_deadline__gt=now,
            bid_deadline__lte=now + timedelta(days=1),
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def rfq_expire(*, rfq_id: int) -> bool:
    """A request with no award by its decision deadline expires. Idempotent."""
    rfq = Rfq.objects.select_for_update().get(pk=rfq_id)
    if rfq.status != S.CLOSED or not rfq.decision_deadline or rfq.decision_deadline > timezone.now():
        return False
    if Award.objects.filter(rfq=rfq).exists():
        return False
    before = _move(rfq, S.EXPIRED, allowed_from=(S.CLOSED,))
    rfq.save(update_fields=["status"])
    audit_record(
        actor=None,
        action="rfq.expire",
        obj=rfq,
        organization=rfq.buyer,
        before={"status": before},
        after={"status": rfq.status},
    )
    _notify_everyone(
        rfq,
        kind="rfq_expired",
        subject=f"{rfq.reference} expired without an award",
        body="The decision deadline passed without an award.",
    )
    return True


def rfqs_due_for_expiry() -> list[int]:
    return list(
        Rfq.objects.filter(status=S.CLOSED, decision_deadline__lte=timezone.now(), awards__isnull=True).values_list(
            "pk", flat=True
        )
    )


def _notify_everyone(rfq: Rfq, *, kind: str, subject: str, body: str) -> None:
    notify(
        recipients=buyer_people(rfq),
        key=f"{kind}:{rfq.pk}",
        kind=kind,
        subject=subject,
        body=body,
        url=f"/rfq/{rfq.pk}/",
    )
    _notify_carriers(
        rfq,
        rfq.invitations.all(),
        key=f"{kind}:{rfq.pk}",
        kind=kind,
        subject=subject,
        body=body,
    )


@transaction.atomic
def rfq_cancel(*, actor: User, rfq: Rfq, reason: str) -> Rfq:
    """The buyer cancels before award, with a reason every participant hears."""
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    if not reason.strip():
        raise DomainError("Give a reason for cancelling.")
    if Award.objects.filter(rfq=rfq).exists() or Selection.objects.filter(rfq=rfq).exists():
        raise DomainError("A request with a selected winner can no longer be cancelled.")
    before = _move(rfq, S.CANCELLED, allowed_from=(S.DRAFT, S.AWAITING_VERIFICATION, S.OPEN, S.CLOSED))
    rfq.closed_reason = reason.strip()
    rfq.save(update_fields=["status", "closed_reason"])
    audit_record(
        actor=actor,
        action="rfq.cancel",
        obj=rfq,
        organization=rfq.buyer,
        before={"status": before},
        after={"status": rfq.status, "reason": rfq.closed_reason},
    )
    if before != S.DRAFT:
        _notify_everyone(
            rfq,
            kind="rfq_cancelled",
            subject=f"{rfq.reference} was cancelled",
            body=f"The buyer cancelled the request: {rfq.closed_reason}",
        )
    return rfq


# States a moderator may suspend a request from.
SUSPENDABLE = (S.AWAITING_VERIFICATION, S.OPEN, S.CLOSED)


@transaction.atomic
def rfq_suspend(*, actor: User, rfq: Rfq, reason: str) -> Rfq:
    """The moderator suspends a request that breaks the rules; participants are told why."""
    if not actor.is_moderator:
        raise DomainError("Only moderators suspend requests.")
    rfq = _locked(rfq)
    if not reason.strip():
        raise DomainError("Give a reason for suspending.")
    before = _move(rfq, S.SUSPENDED, allowed_from=SUSPENDABLE)
    rfq.closed_reason = reason.strip()
    rfq.save(update_fields=["status", "closed_reason"])
    audit_record(
        actor=actor,
        action="rfq.suspend",
        obj=rfq,
        organization=rfq.buyer,
        before={"status": before},
        after={"status": rfq.status, "reason": rfq.closed_reason},
    )
    _notify_everyone(
        rfq,
        kind="rfq_suspended",
        subject=f"{rfq.reference} was suspended by the moderator",
        body=f"Reason: {rfq.closed_reason}",
    )
    return rfq


# --- selection and award -----------------------------------------------------------------------------


@transaction.atomic
def rfq_select(*, actor: User, rfq: Rfq, choices: dict[int, int]) -> Selection:
    """Choose the winning bid line for each request line ({rfq_line_id: bid_line_id}); exactly once.

    A lock on the request row serialises concurrent clicks and the one-to-one selection row refuses a
    second choice even if the lock were bypassed.
    """
    rfq = _locked(rfq)
    _require_buyer_member(actor, rfq)
    if rfq.status != S.CLOSED:
        raise DomainError("Winners can be chosen once bids are open and before the decision deadline.")
    if Selection.objects.filter(rfq=rfq).exists():
        raise DomainError("A winner has already been chosen for this request.")
    lines = {line.pk: line for line in rfq.lines.all()}
    if set(choices) != set(lines):
        raise DomainError("Choose a bid for every line.")
    bid_lines = {
        bl.pk: bl
        for bl in BidLine.objects.select_related("bid").filter(
            pk__in=choices.values(), bid__rfq=rfq, bid__status=Bid.Status.SUBMITTED, bid__needs_reconfirmation=False
        )
    }
    for line_id, bid_line_id in choices.items():
        bl = bid_lines.get(bid_line_id)
        if bl is None or bl.rfq_line_id != line_id:
            raise DomainError("Each line can only go to a valid, submitted bid that priced it.")
    carriers = {bl.bid.carrier_id for bl in bid_lines.values()}
    try:
        with transaction.atomic():
            selection = Selection.objects.create(
                rfq=rfq, mode=Selection.Mode.WHOLE if len(carriers) == 1 else Selection.Mode.SPLIT, selected_by=actor
            )
    except IntegrityError as exc:
        raise DomainError("A winner has already been chosen for this request.") from exc
    SelectionLine.objects.bulk_create(
        [SelectionLine(selection=selection, rfq_line_id=line_id, bid_line_id=b) for line_id, b in choices.items()]
    )
    _audit(actor, "rfq.select", rfq, mode=selection.mode, carriers=sorted(carriers))
    return selection


@transaction.atomic
def award_accept_terms(
    *,
    actor: User,
    rfq: Rfq,
    organization: Organization,
    terms: TermsDocument,
    po_number: str = "",
    invoice_delivery: str = "",
) -> list[Award]:
    """The buyer organisation accepts the terms for its lines, with its own PO number and invoice delivery.

    The award becomes final for those lines.
    """
    if invoice_delivery and invoice_delivery not in Rfq.InvoiceDelivery.values:
        raise DomainError("Choose how invoices are delivered: e-mail, portal only or post.")
    if len(po_number.strip()) > 40:
        raise DomainError("A purchase order number has at most 40 characters.")
    rfq = _locked(rfq)
    if not Membership.objects.filter(user=actor, organization=organization).exists():
        raise DomainError("Only people of the buyer organisation accept its terms.")
    if rfq.status != S.CLOSED:
        raise DomainError("This request is not waiting for terms to be accepted.")
    selection = Selection.objects.filter(rfq=rfq).first()
    if selection is None:
        raise DomainError("Choose the winning bid first.")
    if terms.published_at is None:
        raise DomainError("These terms are not published.")
    if Award.objects.filter(rfq=rfq, buyer=organization).exists():
        raise DomainError("Your organisation has already accepted the terms.")
    sel_lines = list(
        selection.lines.select_related("rfq_line__rfq_site", "bid_line__bid").filter(
            rfq_line__rfq_site__organization=organization
        )
    )
    if not sel_lines:
        raise DomainError("None of the request's lines are yours.")
    by_carrier: dict[int, list[SelectionLine]] = {}
    for sl in sel_lines:
        by_carrier.setdefault(sl.bid_line.bid.carrier_id, []).append(sl)
    awards = []
    for carrier_id, items in sorted(by_carrier.items()):
        bid = items[0].bid_line.bid
        award = Award.objects.create(
            rfq=rfq,
            buyer=organization,
            carrier_id=carrier_id,
            bid=bid,
            bid_revision=bid.revisions.order_by("-number").first(),  # type: ignore[misc]
            terms=terms,
            accepted_by=actor,
            accepted_ip=client_address.get(),
            currency=rfq.currency,
            term_months=rfq.term_months or items[0].bid_line.term_months,
            start_date=rfq.desired_start,
            po_number=po_number.strip(),
            invoice_delivery=invoice_delivery,
        )
        AwardLine.objects.bulk_create(
            [
                AwardLine(
                    award=award,
                    rfq_line=sl.rfq_line,
                    site_id=sl.rfq_line.rfq_site.site_id,
                    service_type_id=sl.rfq_line.service_type_id,
                    quantity=sl.rfq_line.quantity,
                    monthly_charge=sl.bid_line.monthly_charge,
                    one_time_charge=sl.bid_line.one_time_charge,
                    usage_rate=sl.bid_line.usage_rate,
                    usage_unit=sl.bid_line.usage_unit,
                    increment=sl.bid_line.increment,
                    tiers=sl.bid_line.tiers,
                    minimum_commitment=sl.bid_line.minimum_commitment,
                    term_months=sl.bid_line.term_months,
                    install_days=sl.bid_line.install_days,
                )
                for sl in items
            ]
        )
        audit_record(
            actor=actor,
            action="award.accept_terms",
            obj=award,
            organization=organization,
            after={
                "carrier": carrier_id,
                "terms_version": terms.version,
                "ip": award.accepted_ip,
                "po_number": award.po_number,
                "invoice_delivery": award.invoice_delivery,
            },
        )
        awards.append(award)
        _notify_winner(award)
    from rfq.signals import award_made

    award_ids = [a.pk for a in awards]
    transaction.on_commit(lambda: award_made.send(sender=Award, award_ids=award_ids))
    all_orgs = set(rfq.rfq_sites.values_list("organization_id", flat=True))
    accepted = set(Award.objects.filter(rfq=rfq).values_list("buyer_id", flat=True))
    if all_orgs <= accepted:
        before = _move(rfq, S.AWARDED, allowed_from=(S.CLOSED,))
        rfq.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="rfq.awarded",
            obj=rfq,
            organization=rfq.buyer,
            before={"status": before},
            after={"status": rfq.status},
        )
        _notify_losers(rfq)
    return awards


def _notify_winner(award: Award) -> None:
    buyer = award.buyer
    contacts = ", ".join(
        f"{u.get_full_name() or u.email} <{u.email}>"
        for u in User.objects.filter(membership__organization=buyer, membership__role=Membership.Role.OWNER)
    )
    notify(
        recipients=carrier_people(award.carrier_id),
        key=f"award-won:{award.pk}",
        kind="award_won",
        subject=f"You won {award.rfq.reference}: {buyer.display_name}",
        body=(
            f"{buyer.name} accepted your bid on {award.rfq.reference}.\n"
            f"Address: {buyer.street}, {buyer.city} {buyer.postcode}, {buyer.country}\n"
            f"Phone: {buyer.phone}  E-mail: {buyer.contact_email}\nContacts: {contacts}"
        ),
        url=f"/rfq/seller/{award.rfq_id}/",
    )


def _notify_losers(rfq: Rfq) -> None:
    winners = set(Award.objects.filter(rfq=rfq).values_list("carrier_id", flat=True))
    _notify_carriers(
        rfq,
        rfq.invitations.exclude(carrier_id__in=winners).filter(bid__status=Bid.Status.SUBMITTED),
        key=f"award-lost:{rfq.pk}",
        kind="award_lost",
        subject=f"{rfq.reference}: not selected",
        body="Thank you for your bid. The buyer selected another offer.",
    )


# --- bid attachments ------------------------------------------------------------------------------------


@transaction.atomic
def bid_attachment_add(*, actor: User, bid: Bid, file: UploadedFile) -> BidAttachment:
    """Attach a PDF, PNG or JPEG to the carrier's bid before the deadline (checked by content)."""
    from marketplace.uploads import file_sha256, safe_filename, validate_upload

    bid = Bid.objects.select_for_update(of=("self",)).select_related("rfq").get(pk=bid.pk)
    _require_carrier_staff(actor, bid.carrier_id)
    _require_before_deadline(bid.rfq)
    content_type = validate_upload(file)
    attachment = BidAttachment(
        bid=bid,
        original_name=safe_filename(file.name or "", default="attachment"),
        content_type=content_type,
        size=file.size or 0,
        sha256=file_sha256(file),
    )
    attachment.file.save("upload", file, save=False)
    attachment.save()
    if bid.status == Bid.Status.SUBMITTED:
        # The submitted digest does not cover the new file: the bid must be submitted again to include it.
        bid.needs_reconfirmation = True
        bid.save(update_fields=["needs_reconfirmation"])
    audit_record(
        actor=actor,
        action="bid.attachment_add",
        obj=bid,
        organization=bid.carrier,
        after={"name": attachment.original_name},
    )
    return attachment
