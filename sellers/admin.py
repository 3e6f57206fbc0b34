"""Admin for the carriers app: read-only views for moderators; changes go through the portal's audited services."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from sellers.models import (
    CarrierProfile,
    CoverageArea,
    CriteriaIndustry,
    CriteriaRegion,
    CriteriaSet,
    OfferRate,
    OfferRegion,
    OfferVersion,
    StandingOffer,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Moderators look here; offer versions in particular must never change once written."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CarrierProfile)
class CarrierProfileAdmin(ReadOnlyAdmin):
    list_display = ["organization", "company_number", "vat_number", "regulator", "regulator_reference", "completed_at"]
    list_filter = ["regulator"]
    search_fields = ["organization__name", "company_number", "vat_number", "regulator_reference"]
    list_select_related = ["organization"]
    exclude = ["logo"]


class CriteriaRegionInline(ReadOnlyInline):
    model = CriteriaRegion


class CriteriaIndustryInline(ReadOnlyInline):
    model = CriteriaIndustry


@admin.register(CriteriaSet)
class CriteriaSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "is_paused", "currency", "value_min", "value_max", "updated_at"]
    list_filter = ["is_paused", "takes_group_requests", "takes_reseller_buyers"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    inlines = [CriteriaRegionInline, CriteriaIndustryInline]


@admin.register(CoverageArea)
class CoverageAreaAdmin(ReadOnlyAdmin):
    list_display = ["organization", "service_type", "country", "region", "postcode_prefix"]
    list_filter = ["country", "service_type__category"]
    search_fields = ["organization__name", "region", "postcode_prefix"]
    list_select_related = ["organization", "service_type"]


class OfferVersionInline(ReadOnlyInline):
    model = OfferVersion
    fields = ["number", "title", "monthly_charge", "one_time_charge", "currency", "valid_from", "valid_until"]
    show_change_link = True


@admin.register(StandingOffer)
class StandingOfferAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "organization", "service_type", "status", "created_at"]
    list_filter = ["status", "service_type__category"]
    search_fields = ["organization__name", "current_version__title"]
    list_select_related = ["organization", "service_type", "current_version"]
    inlines = [OfferVersionInline]


class OfferRateInline(ReadOnlyInline):
    model = OfferRate


class OfferRegionInline(ReadOnlyInline):
    model = OfferRegion


@admin.register(OfferVersion)
class OfferVersionAdmin(ReadOnlyAdmin):
    list_display = ["title", "offer", "number", "monthly_charge", "currency", "valid_from", "valid_until"]
    search_fields = ["title", "offer__organization__name"]
    list_select_related = ["offer__organization", "offer__current_version"]
    inlines = [OfferRateInline, OfferRegionInline]
