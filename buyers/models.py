"""Models of the buyers app: buyer profiles, sites, resellers' end customers and buying groups."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from marketplace.models import Organization


class BuyerProfile(models.Model):
    """The buyer-only facts of an organisation: demographics, identifiers, reseller flag, site precision."""

    class Industry(models.TextChoices):
        AGRICULTURE = "agriculture", "Agriculture, forestry and fishing"
        CONSTRUCTION = "construction", "Construction"
        EDUCATION = "education", "Education"
        ENERGY = "energy", "Energy and utilities"
        FINANCE = "finance", "Financial services and insurance"
        HEALTHCARE = "healthcare", "Healthcare and dental"
        HOSPITALITY = "hospitality", "Hospitality and leisure"
        IT = "it", "Information technology"
        LEGAL = "legal", "Legal and professional services"
        LOGISTICS = "logistics", "Transport and logistics"
        MANUFACTURING = "manufacturing", "Manufacturing"
        MEDIA = "media", "Media and entertainment"
        NONPROFIT = "nonprofit", "Charity and non-profit"
        PUBLIC = "public", "Public sector"
        REAL_ESTATE = "real_estate", "Real estate"
        RETAIL = "retail", "Retail and wholesale"
        TELECOM = "telecom", "Telecommunications"
        OTHER = "other", "Other"

    class EmployeeBand(models.TextChoices):
        MICRO = "1-9", "1–9 employees"
        SMALL = "10-49", "10–49 employees"
        MEDIUM = "50-249", "50–249 employees"
        LARGE = "250-999", "250–999 employees"
        ENTERPRISE = "1000+", "1,000 or more employees"

    class RevenueBand(models.TextChoices):
        UNDER_1M = "<1m", "Under £1 million"
        FROM_1M = "1m-10m", "£1–10 million"
        FROM_10M = "10m-50m", "£10–50 million"
        FROM_50M = "50m-250m", "£50–250 million"
        OVER_250M = "250m+", "Over £250 million"

    class SpendBand(models.TextChoices):
        UNDER_10K = "<10k", "Under £10,000 a year"
        FROM_10K = "10k-50k", "£10,000–50,000 a year"
        FROM_50K = "50k-250k", "£50,000–250,000 a year"
        FROM_250K = "250k-1m", "£250,000–1 million a year"
        OVER_1M = "1m+", "Over £1 million a year"

    class SitePrecision(models.TextChoices):
        STREET = "street", "Street address"
        POSTCODE = "postcode", "Postcode"
        CITY = "city", "City only"

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="buyer_profile")
    industry = models.CharField(max_length=20, choices=Industry.choices, blank=True)
    employee_band = models.CharField(max_length=10, choices=EmployeeBand.choices, blank=True)
    revenue_band = models.CharField(max_length=10, choices=RevenueBand.choices, blank=True)
    site_count = models.PositiveIntegerField(null=True, blank=True, help_text="Number of business sites.")
    telecom_spend_band = models.CharField(max_length=10, choices=SpendBand.choices, blank=True)
    registration_number = models.CharField(max_length=40, blank=True, help_text="Company registration number.")
    tax_number = models.CharField(max_length=40, blank=True, help_text="VAT or tax identification number.")
    is_reseller = models.BooleanField(default=False, help_text="Resells telecom services to end customers.")
    site_precision = models.CharField(
        max_length=10,
        choices=SitePrecision.choices,
        default=SitePrecision.POSTCODE,
        help_text="How precisely carriers see site locations before award.",
    )
    registration_completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(site_precision__in=["street", "postcode", "city"]), name="buyerprofile_site_precision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Buyer profile of {self.organization}"

    @property
    def is_complete(self) -> bool:
        return self.registration_completed_at is not None


class EndCustomer(models.Model):
    """A customer of a reseller buyer; usage and bills will later be attributed to it."""

    reseller = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="end_customers")
    name = models.CharField(max_length=200)
    reference = models.CharField(max_length=40, help_text="The reseller's own reference for this customer.")
    contact_email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reseller", "reference"], name="endcustomer_reference_unique_per_reseller"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference})"


class Site(models.Model):
    """A business site that will receive services.

    Sites are archived, never deleted: the RFQ issue will point request lines at sites with
    on_delete=PROTECT, so a site used by a request can never disappear under it.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    end_customer = models.ForeignKey(EndCustomer, null=True, blank=True, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=120)
    street = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="GB")
    contact_name = models.CharField("on-site contact", max_length=120, blank=True)
    contact_phone = models.CharField("on-site contact phone", max_length=40, blank=True)
    contact_email = models.EmailField("on-site contact e-mail", blank=True)
    notes = models.TextField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(archived_at__isnull=True),
                name="site_active_name_unique_per_org",
            ),
        ]
        indexes = [models.Index(fields=["organization", "archived_at"], name="site_org_archived_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def new_group_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))


class BuyingGroup(models.Model):
    """Buyers who buy together; the lead organisation runs it.

    The join code is the group's initial password: shown once to the lead, kept only as a hash.
    It reads "<reference>-<secret>", so the reference finds the group and the secret proves the right to ask.
    """

    name = models.CharField(max_length=120, unique=True)
    reference = models.CharField(max_length=8, unique=True, default=new_group_reference)
    description = models.TextField(blank=True)
    region = models.CharField(max_length=100)
    contact_name = models.CharField(max_length=120)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    lead = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="led_groups")
    join_code_hash = models.CharField(max_length=128)
    code_rotated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    """An organisation's place in a buying group, from join request to leaving.

    Invitations are GroupInvitation rows until an organisation accepts one: the lead must not learn from a
    membership row which organisation an invited address belongs to.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Asked to join"
        ACTIVE = "active", "Member"
        DECLINED = "declined", "Declined"
        LEFT = "left", "Left"
        REMOVED = "removed", "Removed"

    OPEN = (Status.REQUESTED, Status.ACTIVE)

    group = models.ForeignKey(BuyingGroup, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="group_memberships")
    status = models.CharField(max_length=12, choices=Status.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "organization"],
                condition=Q(status__in=["requested", "active"]),
                name="groupmembership_one_open_per_org",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "active", "declined", "left", "removed"]),
                name="groupmembership_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.group} ({self.get_status_display()})"


def group_invitation_ttl() -> timedelta:
    """Return how long an invitation stays open after it was sent (GROUP_INVITATION_TTL_DAYS)."""
    return timedelta(days=settings.GROUP_INVITATION_TTL_DAYS)


class GroupInvitationQuerySet(models.QuerySet["GroupInvitation"]):
    """Invitations by where they stand at a moment: expiry is counted from created_at, not stored."""

    def live(self, now: datetime | None = None) -> GroupInvitationQuerySet:
        """Pending and still inside their time to live."""
        cutoff = (now or timezone.now()) - group_invitation_ttl()
        return self.filter(status=GroupInvitation.Status.PENDING, created_at__gt=cutoff)

    def overdue(self, now: datetime | None = None) -> GroupInvitationQuerySet:
        """Still marked pending although their time to live is over."""
        cutoff = (now or timezone.now()) - group_invitation_ttl()
        return self.filter(status=GroupInvitation.Status.PENDING, created_at__lte=cutoff)


class GroupInvitation(models.Model):
    """An invitation to a buying group, sent to an e-mail address; the lead sees only the address.

    When the address belongs to someone at a buyer organisation, `organization` is that organisation and its
    owners answer in their inbox. Otherwise the address gets a single-use invitation code for the join form,
    kept only as a SHA-256 digest (it is random and long, so a slow hash buys nothing), and `organization`
    is filled in by whoever uses the code. Either way the lead learns the organisation only on acceptance.

    An invitation expires GROUP_INVITATION_TTL_DAYS after it was sent. Pages and services read expiry from
    created_at, so it holds to the second; the status turns EXPIRED later (when the group is next written,
    or by the hourly task) because the one-pending-per-address constraint needs it before a new invitation.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    group = models.ForeignKey(BuyingGroup, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(help_text="Stored in lower case, so one address has one pending invitation.")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="group_invitations"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    code_digest = models.CharField(max_length=64, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = GroupInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "email"],
                condition=Q(status="pending"),
                name="groupinvitation_one_pending_per_address",
            ),
            models.UniqueConstraint(
                fields=["code_digest"],
                condition=~Q(code_digest=""),
                name="groupinvitation_code_digest_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "declined", "cancelled", "expired"]),
                name="groupinvitation_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["accepted", "declined"]) | Q(organization__isnull=False),
                name="groupinvitation_answered_by_organization",
            ),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="groupinvitation_email_lower_case"),
        ]
        indexes = [models.Index(fields=["group", "created_at"], name="groupinvitation_group_day_idx")]

    def __str__(self) -> str:
        return f"{self.email} to {self.group} ({self.get_status_display()})"

    @property
    def expires_at(self) -> datetime:
        return self.created_at + group_invitation_ttl()

    def is_expired(self, now: datetime | None = None) -> bool:
        """Say whether the invitation can no longer be answered because its time ran out."""
        if self.status == self.Status.EXPIRED:
            return True
        return self.status == self.Status.PENDING and self.expires_at <= (now or timezone.now())
