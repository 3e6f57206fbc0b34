"""Requests for quote, their invitations, questions, addenda, sealed bids and awards."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.models import Organization, ServiceType, TermsDocument
from rfq.usage_terms import Tier, tiers_from_json, validate_tiers_json


# Random names only: the uploaded name is kept in a column and never used as a path.
def prior_bill_path(instance: models.Model, filename: str) -> str:
    return f"private/prior-bills/{secrets.token_hex(16)}"


def bid_attachment_path(instance: models.Model, filename: str) -> str:
    return f"private/bid-attachments/{secrets.token_hex(16)}"


class Rfq(models.Model):
    """A buyer's (or buying group's) request for quote."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_VERIFICATION = "awaiting_verification", "Awaiting verification"
        OPEN = "open", "Open for bids"
        CLOSED = "closed", "Bids opened, awaiting decision"
        AWARDED = "awarded", "Awarded"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        SUSPENDED = "suspended", "Suspended by the moderator"

    class Visibility(models.TextChoices):
        OPEN = "open", "Open: every verified carrier whose criteria match"
        LISTED_ACCESS = "listed_access", "Listed: only the carriers I pick may open it in their portal"
        LISTED_SENT = "listed_sent", "Listed and sent: only the carriers I pick, e-mailed with a PDF summary"

    class InvoiceGrouping(models.TextChoices):
        CONSOLIDATED = "consolidated", "One consolidated invoice"
        PER_SITE = "per_site", "One invoice per site"

    class CarrierGrouping(models.TextChoices):
        COMBINED = "combined", "Combined across carriers"
        PER_CARRIER = "per_carrier", "One per carrier"

    class InvoiceDelivery(models.TextChoices):
        EMAIL = "email", "E-mail with PDF"
        PORTAL = "portal", "Portal only"
        POST = "post", "Paper by post"

    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="rfqs")
    group = models.ForeignKey(
        "buyers.BuyingGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="rfqs"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reference = models.CharField(max_length=12, unique=True)
    title = models.CharField(max_length=120)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    wizard_step = models.CharField(max_length=20, default="sites")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.OPEN)
    listed_carriers = models.ManyToManyField(Organization, blank=True, related_name="listed_rfqs")
    site_precision = models.CharField(max_length=10, default="postcode")
    # Billing preferences.
    currency = models.CharField(max_length=3, default="GBP")
    invoice_grouping = models.CharField(
        max_length=16, choices=InvoiceGrouping.choices, default=InvoiceGrouping.CONSOLIDATED
    )
    carrier_grouping = models.CharField(
        max_length=16, choices=CarrierGrouping.choices, default=CarrierGrouping.COMBINED
    )
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    invoice_delivery = models.CharField(max_length=10, choices=InvoiceDelivery.choices, default=InvoiceDelivery.EMAIL)
    po_number = models.CharField("purchase order number", max_length=40, blank=True)
    # Schedule.
    bid_deadline = models.DateTimeField(null=True, blank=True)
    decision_deadline = models.DateTimeField(null=True, blank=True)
    desired_start = models.DateField(null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # Facts carriers match on, fixed at publication.
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    site_count = models.PositiveIntegerField(default=0)
    buyer_is_reseller = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    distributed_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision_deadline__isnull=True)
                | Q(bid_deadline__isnull=True)
                | Q(decision_deadline__gt=models.F("bid_deadline")),
                name="rfq_decision_after_bid_deadline",
            ),
            models.CheckConstraint(
                condition=Q(term_months__isnull=True) | Q(term_months__gte=1, term_months__lte=120),
                name="rfq_term_in_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "awaiting_verification",
                        "open",
                        "closed",
                        "awarded",
                        "cancelled",
                        "expired",
                        "suspended",
                    ]
                ),
                name="rfq_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "bid_deadline"], name="rfq_status_deadline_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_group(self) -> bool:
        return self.group_id is not None

    @property
    def bids_are_open(self) -> bool:
        """Bids unseal the moment the deadline passes, whether or not the closing task has run."""
        return (
            self.bid_deadline is not None
            and timezone.now() >= self.bid_deadline
            and self.status in (self.Status.OPEN, self.Status.CLOSED, self.Status.AWARDED, self.Status.EXPIRED)
        )


class RfqSite(models.Model):
    """A site taking part in a request; in a group request its owner confirms it."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="rfq_sites")
    site = models.ForeignKey("buyers.Site", on_delete=models.PROTECT, related_name="rfq_sites")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organization_id", "site__name"]
        constraints = [models.UniqueConstraint(fields=["rfq", "site"], name="rfqsite_unique_site")]

    def __str__(self) -> str:
        return f"{self.rfq.reference}: {self.site}"


class RfqLine(models.Model):
    """One service at one site, with the features asked for and the prior usage."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="lines")
    rfq_site = models.ForeignKey(RfqSite, on_delete=models.CASCADE, related_name="lines")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    features = models.JSONField(default=dict, blank=True)
    current_carrier = models.CharField(max_length=120, blank=True)
    prior_monthly_spend = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    prior_volume = models.CharField(max_length=120, blank=True, help_text="e.g. 12,000 minutes a month")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rfq_site_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="rfqline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(prior_monthly_spend__isnull=True) | Q(prior_monthly_spend__gte=0),
                name="rfqline_prior_spend_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type.name} at {self.rfq_site.site.name}"


class PriorBill(models.Model):
    """A past bill the buyer uploaded: seen by the buyer, moderators and, after award, the winner only."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="prior_bills")
    file = models.FileField(upload_to=prior_bill_path, max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class RfqInvitation(models.Model):
    """The only way a carrier reaches a request."""

    class State(models.TextChoices):
        INVITED = "invited", "Invited"
        VIEWED = "viewed", "Viewed"
        INTENDS = "intends", "Intends to bid"
        DECLINED = "declined", "Declined"

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="invitations")
    carrier = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rfq_invitations")
    state = models.CharField(max_length=10, choices=State.choices, default=State.INVITED)
    decline_reason = models.TextField(blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    summary_sent_at = models.DateTimeField(null=True, blank=True)
    outcome_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rfq", "carrier"], name="rfqinvitation_once_per_carrier")]

    def __str__(self) -> str:
        return f"{self.carrier} on {self.rfq.reference}"


class Question(models.Model):
    """A carrier's clarifying question; its answer is published to every invited carrier, asker unnamed."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(RfqInvitation, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField()
    answer = models.TextField(blank=True)
    asked_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Addendum(models.Model):
    """A change to an open request; it moves the deadline out and asks bidders to re-confirm."""

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="addenda")
    number = models.PositiveSmallIntegerField()
    description = models.TextField()
    previous_deadline = models.DateTimeField()
    new_deadline = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["rfq", "number"], name="addendum_unique_number"),
            models.CheckConstraint(
                condition=Q(new_deadline__gt=models.F("previous_deadline")), name="addendum_moves_deadline_out"
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.number} to {self.rfq.reference}"


class Bid(models.Model):
    """A carrier's sealed bid; the working draft lives in BidLine, each submission in a BidRevision."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        WITHDRAWN = "withdrawn", "Withdrawn"

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="bids")
    invitation = models.OneToOneField(RfqInvitation, on_delete=models.CASCADE, related_name="bid")
    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="bids")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    needs_reconfirmation = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    digest = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rfq", "carrier"], name="bid_once_per_carrier"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "withdrawn"]), name="bid_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Bid by {self.carrier} on {self.rfq.reference}"


class UsageTerms(models.Model):
    """Usage terms of a priced line, as billing.RateLine and RateTier keep them; only with a usage rate."""

    minimum_commitment = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Minimum usage charge a month."
    )
    increment = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Each usage record is rounded up to a multiple of this, in the usage unit.",
    )
    tiers = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_tiers_json],
        help_text='Graduated volume tiers: [{"threshold": "1000", "rate": "0.015"}], thresholds increasing.',
    )

    class Meta:
        abstract = True


class BidLine(UsageTerms):
    """The carrier's price for one request line."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="lines")
    rfq_line = models.ForeignKey(RfqLine, on_delete=models.CASCADE, related_name="bid_lines")
    monthly_charge = models.DecimalField(max_digits=14, decimal_places=2)
    one_time_charge = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    usage_rate = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    usage_unit = models.CharField(max_length=20, blank=True)
    term_months = models.PositiveSmallIntegerField()
    install_days = models.PositiveSmallIntegerField()
    compliance = models.JSONField(default=dict, blank=True, help_text="Feature name -> complies (bool).")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["rfq_line_id"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "rfq_line"], name="bidline_once_per_line"),
            models.CheckConstraint(
                condition=Q(monthly_charge__gte=0) & Q(one_time_charge__gte=0), name="bidline_charges_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(usage_rate__isnull=True) | Q(usage_rate__gte=0), name="bidline_usage_rate_not_negative"
            ),
            models.CheckConstraint(condition=Q(term_months__gte=1), name="bidline_term_positive"),
            models.CheckConstraint(
                condition=Q(minimum_commitment__isnull=True) | Q(minimum_commitment__gte=0),
                name="bidline_commitment_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(increment__isnull=True) | Q(increment__gt=0), name="bidline_increment_positive"
            ),
            models.CheckConstraint(
                condition=Q(usage_rate__isnull=False)
                | Q(minimum_commitment__isnull=True, increment__isnull=True, tiers=[]),
                name="bidline_usage_terms_need_rate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bid} line {self.rfq_line_id}"

    @property
    def usage_tiers(self) -> list[Tier]:
        return tiers_from_json(self.tiers)


class BidRevision(models.Model):
    """A submitted version of a bid, kept forever, with the SHA-256 of its canonical content."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    digest = models.CharField(max_length=64)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bid_id", "number"]
        constraints = [models.UniqueConstraint(fields=["bid", "number"], name="bidrevision_unique_number")]

    def __str__(self) -> str:
        return f"{self.bid} r{self.number}"


class BidAttachment(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=bid_attachment_path, max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, blank=True, help_text="Part of the bid's digest.")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Selection(models.Model):
    """The buyer's (or group lead's) choice of winners: made once per request."""

    class Mode(models.TextChoices):
        WHOLE = "whole", "One bid for the whole request"
        SPLIT = "split", "Split by line"

    rfq = models.OneToOneField(Rfq, on_delete=models.PROTECT, related_name="selection")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    selected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    selected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-selected_at"]

    def __str__(self) -> str:
        return f"Selection on {self.rfq.reference}"


class SelectionLine(models.Model):
    selection = models.ForeignKey(Selection, on_delete=models.CASCADE, related_name="lines")
    rfq_line = models.OneToOneField(RfqLine, on_delete=models.PROTECT, related_name="selection_line")
    bid_line = models.ForeignKey(BidLine, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["rfq_line_id"]

    def __str__(self) -> str:
        return f"{self.rfq_line} -> {self.bid_line.bid.carrier}"


class Award(models.Model):
    """A final award: one buyer organisation accepted the terms for its lines won by one carrier.

    Everything billing needs is kept here and in AwardLine, copied from the bid at acceptance.
    """

    rfq = models.ForeignKey(Rfq, on_delete=models.PROTECT, related_name="awards")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="awards_won_from")
    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="awards")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="awards")
    bid_revision = models.ForeignKey(BidRevision, on_delete=models.PROTECT, related_name="+")
    terms = models.ForeignKey(TermsDocument, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    term_months = models.PositiveSmallIntegerField()
    start_date = models.DateField(null=True, blank=True)
    # Each organisation of a group request bills to its own accounts: its PO number and how it wants invoices.
    po_number = models.CharField("purchase order number", max_length=40, blank=True)
    invoice_delivery = models.CharField(
        max_length=10, choices=Rfq.InvoiceDelivery.choices, blank=True, help_text="Blank: as the request says."
    )

    class Meta:
        ordering = ["-accepted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rfq", "buyer", "carrier"], name="award_once_per_buyer_carrier"),
        ]

    def __str__(self) -> str:
        return f"{self.rfq.reference}: {self.buyer} -> {self.carrier}"


class AwardLine(UsageTerms):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="lines")
    rfq_line = models.OneToOneField(RfqLine, on_delete=models.PROTECT, related_name="award_line")
    site = models.ForeignKey("buyers.Site", on_delete=models.PROTECT, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    monthly_charge = models.DecimalField(max_digits=14, decimal_places=2)
    one_time_charge = models.DecimalField(max_digits=14, decimal_places=2)
    usage_rate = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    usage_unit = models.CharField(max_length=20, blank=True)
    term_months = models.PositiveSmallIntegerField()
    install_days = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["award_id", "rfq_line_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_commitment__isnull=True) | Q(minimum_commitment__gte=0),
                name="awardline_commitment_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(increment__isnull=True) | Q(increment__gt=0), name="awardline_increment_positive"
            ),
            models.CheckConstraint(
                condition=Q(usage_rate__isnull=False)
                | Q(minimum_commitment__isnull=True, increment__isnull=True, tiers=[]),
                name="awardline_usage_terms_need_rate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.award} {self.service_type.name}"

    @property
    def usage_tiers(self) -> list[Tier]:
        return tiers_from_json(self.tiers)
