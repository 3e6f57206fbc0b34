"""Admin for the buyers app: read-mostly views for moderators; changes go through the portal's services."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from buyers.models import BuyerProfile, BuyingGroup, EndCustomer, GroupMembership, Site


class ReadOnlyAdmin(admin.ModelAdmin):
    """Moderators look here; writes belong to services that audit them, so the admin does not edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(BuyerProfile)
class BuyerProfileAdmin(ReadOnlyAdmin):
    list_display = ["organization", "industry", "employee_band", "registration_number", "tax_number", "is_reseller"]
    list_filter = ["industry", "employee_band", "is_reseller", "site_precision"]
    search_fields = ["organization__name", "registration_number", "tax_number"]


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "city", "postcode", "region", "archived_at"]
    list_filter = ["region", "country"]
    search_fields = ["name", "organization__name", "city", "postcode"]
    list_select_related = ["organization"]


@admin.register(EndCustomer)
class EndCustomerAdmin(ReadOnlyAdmin):
    list_display = ["name", "reference", "reseller"]
    search_fields = ["name", "reference", "reseller__name"]
    list_select_related = ["reseller"]


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    fields = ["organization", "status", "created_at", "decided_at"]
    readonly_fields = ["organization", "status", "created_at", "decided_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(BuyingGroup)
class BuyingGroupAdmin(ReadOnlyAdmin):
    list_display = ["name", "reference", "lead", "region", "created_at"]
    search_fields = ["name", "reference", "lead__name"]
    exclude = ["join_code_hash"]
    inlines = [GroupMembershipInline]
