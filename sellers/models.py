"""Carriers: their profile, filtering criteria, coverage and standing offers.

Regions are stored the same way everywhere (criteria, coverage, offers): one row per
(country, region, postcode_prefix), where an empty region means the whole country and an empty
prefix the whole region. Prefixes are kept upper-case without spaces, so a request's site
matches a row with plain SQL:

    row.country = site.country
    AND (row.region = '' OR lower(row.region) = lower(site.region))
    AND (row.postcode_prefix = '' OR upper(replace(site.postcode, ' ', '')) LIKE row.postcode_prefix || '%')

and a request matches a criteria set when the set is active, shares a service type, has no region
rows or one that matches a site, every range holds (a NULL bound is open), the group and reseller
flags allow it, and the set lists no industries or the buyer's. "Carriers for a request" and
"requests for a carrier" are each one query with EXISTS over these child tables (rfq/matching.py).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from marketplace.models import Organization, ServiceCategory, ServiceType
from sellers.constants import INDUSTRY_CHOICES


def _logo_path(instance: CarrierProfile, filename: str) -> str:
    # A random name: the uploaded name is never used as a path.
    return f"private/logos/{instance.organization_id}/{secrets.token_hex(16)}"


class CarrierProfile(models.Model):
    """What a carrier tells the marketplace about itself beyond the core organisation fields."""

    class Regulator(models.TextChoices):
        NONE = "", "None or not applicable"
        OFCOM = "ofcom", "Ofcom (United Kingdom)"
        FCC = "fcc", "FCC (United States)"
        BNETZA = "bnetza", "BNetzA (Germany)"
        ARCEP = "arcep", "Arcep (France)"
        OTHER = "other", "Another regulator"

    class LogoType(models.TextChoices):
        PNG = "png", "PNG"
        SVG = "svg", "SVG"

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="carrier_profile")
    company_number = models.CharField("company registration number", max_length=40, blank=True)
    vat_number = models.CharField("VAT or tax number", max_length=40, blank=True)
    regulator = models.CharField(max_length=20, choices=Regulator.choices, blank=True)
    regulator_reference = models.CharField("registration with the regulator", max_length=60, blank=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    categories = models.ManyToManyField(ServiceCategory, blank=True, related_name="+")
    logo = models.FileField(upload_to=_logo_path, max_length=255, blank=True)
    logo_type = models.CharField(max_length=3, choices=LogoType.choices, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When the registration wizard finished.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(logo="", logo_type="") | (~Q(logo="") & Q(logo_type__in=["png", "svg"])),
                name="carrierprofile_logo_has_type",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.organization}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class RegionRow(models.Model):
    """A country, optionally narrowed to a region and a postcode prefix."""

    country = models.CharField(max_length=2, help_text="ISO 3166 two-letter code.")
    region = models.CharField(max_length=100, blank=True, help_text="Empty for the whole country.")
    postcode_prefix = models.CharField(max_length=10, blank=True, help_text="Upper case, no spaces; empty for all.")

    class Meta:
        abstract = True
        ordering = ["country", "region", "postcode_prefix"]

    def __str__(self) -> str:
        return " · ".join(p for p in (self.country, self.region, self.postcode_prefix) if p)


class CriteriaSet(models.Model):
    """A named filter saying which requests a carrier wants to receive."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="criteria_sets")
    name = models.CharField(max_length=100)
    is_paused = models.BooleanField(default=False)
    service_types = models.ManyToManyField(ServiceType, related_name="+")
    value_min = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_max = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="GBP")
    sites_min = models.PositiveIntegerField(null=True, blank=True)
    sites_max = models.PositiveIntegerField(null=True, blank=True)
    term_min_months = models.PositiveSmallIntegerField(null=True, blank=True)
    term_max_months = models.PositiveSmallIntegerField(null=True, blank=True)
    takes_group_requests = models.BooleanField(default=True)
    takes_reseller_buyers = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="criteriaset_unique_name"),
            models.CheckConstraint(
                condition=Q(value_min__isnull=True) | Q(value_max__isnull=True) | Q(value_min__lte=F("value_max")),
                name="criteriaset_value_range",
            ),
            models.CheckConstraint(
                condition=Q(sites_min__isnull=True) | Q(sites_max__isnull=True) | Q(sites_min__lte=F("sites_max")),
                name="criteriaset_sites_range",
            ),
            models.CheckConstraint(
                condition=Q(term_min_months__isnull=True)
                | Q(term_max_months__isnull=True)
                | Q(term_min_months__lte=F("term_max_months")),
                name="criteriaset_term_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CriteriaRegion(RegionRow):
    """Where a criteria set wants sites to be; a set without rows takes requests anywhere."""

    criteria = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="regions")

    class Meta(RegionRow.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["criteria", "country", "region", "postcode_prefix"], name="criteriaregion_unique"
            ),
        ]
        # Carriers for a request: the rows a site can match, looked up by its keys (rfq/matching.py).
        indexes = [
            models.Index(
                Upper("country"), Upper("region"), "postcode_prefix", "criteria", name="criteriaregion_place_idx"
            ),
        ]


class CriteriaIndustry(models.Model):
    """A buyer industry a criteria set takes; a set without rows takes every industry."""

    criteria = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="industries")
    industry = models.CharField(max_length=40, choices=INDUSTRY_CHOICES)

    class Meta:
        ordering = ["industry"]
        constraints = [
            models.UniqueConstraint(fields=["criteria", "industry"], name="criteriaindustry_unique"),
        ]

    def __str__(self) -> str:
        return self.get_industry_display()


class CoverageArea(RegionRow):
    """Where a carrier can deliver one service type."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="coverage_areas")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = [
            "service_type__category__position",
            "service_type__position",
            "country",
            "region",
            "postcode_prefix",
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_type", "country", "region", "postcode_prefix"],
                name="coveragearea_unique",
            ),
        ]


class StandingOffer(models.Model):
    """The stable identity of an offer; its terms live in immutable versions."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="standing_offers")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Denormalised pointer to the newest version so lists need no subquery; set only by services.
    current_version = models.ForeignKey(
        "OfferVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["active", "retired"]), name="standingoffer_status_valid"),
            models.CheckConstraint(
                condition=Q(status="active", retired_at__isnull=True) | Q(status="retired", retired_at__isnull=False),
                name="standingoffer_retired_has_date",
            ),
        ]

    def __str__(self) -> str:
        title = self.current_version.title if self.current_version_id and self.current_version else ""
        return title or f"Offer #{self.pk}"


class OfferVersion(models.Model):
    """One version of a standing offer's terms; never changed once written."""

    class Unit(models.TextChoices):
        MBPS = "Mbps", "Mbps"
        GBPS = "Gbps", "Gbps"
        LINES = "lines", "lines"
        CHANNELS = "channels", "channels"
        NUMBERS = "numbers", "numbers"
        USERS = "users", "users"
        MINUTES = "minutes", "minutes per month"
        GB = "GB", "GB per month"

    offer = models.ForeignKey(StandingOffer, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    capacity_min = models.DecimalField(max_digits=12, decimal_places=2)
    capacity_max = models.DecimalField(max_digits=12, decimal_places=2)
    capacity_unit = models.CharField(max_length=10, choices=Unit.choices)
    term_months = models.PositiveSmallIntegerField()
    monthly_charge = models.DecimalField(max_digits=14, decimal_places=2)
    one_time_charge = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="GBP")
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offer", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "number"], name="offerversion_unique_number"),
            models.CheckConstraint(
                condition=Q(capacity_min__lte=F("capacity_max")), name="offerversion_capacity_range"
            ),
            models.CheckConstraint(
                condition=Q(monthly_charge__gte=0) & Q(one_time_charge__gte=0), name="offerversion_prices_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="offerversion_validity_order",
            ),
            models.CheckConstraint(condition=Q(term_months__gte=1), name="offerversion_term_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"


class OfferRate(models.Model):
    """A usage rate of an offer version: a price per unit used."""

    version = models.ForeignKey(OfferVersion, on_delete=models.CASCADE, related_name="rates")
    unit = models.CharField(max_length=20)
    rate = models.DecimalField(max_digits=14, decimal_places=5)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "unit"], name="offerrate_unique_unit"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="offerrate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.rate} per {self.unit}"


class OfferRegion(RegionRow):
    """Where an offer version can be delivered."""

    version = models.ForeignKey(OfferVersion, on_delete=models.CASCADE, related_name="regions")

    class Meta(RegionRow.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["version", "country", "region", "postcode_prefix"], name="offerregion_unique"
            ),
        ]
