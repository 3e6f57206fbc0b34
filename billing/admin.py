"""Billing in the Django admin: moderators edit rate cards (lines, tiers, commitments, increments) and meters.

Everything that is money already issued (invoices, notes, payments, settlements, runs, usage) is read-only here:
it changes only through the services, which lock, audit and keep numbers gapless.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from billing.models import (
    BillRun,
    CommissionRate,
    Contract,
    Invoice,
    InvoiceLine,
    Meter,
    Note,
    Payment,
    RateLine,
    RateTier,
    Settlement,
    SettlementAdjustment,
    UsageImport,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RateLineInline(admin.TabularInline):
    model = RateLine
    extra = 0
    fields = [
        "description",
        "site",
        "service_type",
        "quantity",
        "monthly_charge",
        "one_time_charge",
        "usage_unit",
        "usage_rate",
        "increment",
        "minimum_commitment",
    ]
    raw_id_fields = ["site"]
    show_change_link = True


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "buyer", "carrier", "start_date", "end_date", "commission_percent", "currency"]
    list_filter = ["carrier", "currency"]
    search_fields = ["number", "buyer__name", "carrier__name", "rfq__reference"]
    readonly_fields = ["number", "award", "rfq", "buyer", "carrier", "created_at"]
    raw_id_fields = ["end_customer"]
    inlines = [RateLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # contracts come from awards

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RateTierInline(admin.TabularInline):
    model = RateTier
    extra = 1


class MeterInline(admin.TabularInline):
    model = Meter
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ["equipment_id", "url", "enabled", "last_polled_at", "last_error"]
    readonly_fields = ["last_polled_at", "last_error"]


@admin.register(RateLine)
class RateLineAdmin(admin.ModelAdmin):
    list_display = ["description", "contract", "usage_unit", "usage_rate", "increment", "minimum_commitment"]
    search_fields = ["description", "contract__number"]
    raw_id_fields = ["site"]
    readonly_fields = ["contract"]
    inlines = [RateTierInline, MeterInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CommissionRate)
class CommissionRateAdmin(ReadOnlyAdmin):
    list_display = ["carrier", "percent", "updated_at"]


@admin.register(UsageImport)
class UsageImportAdmin(ReadOnlyAdmin):
    list_display = ["filename", "carrier", "source", "status", "inserted", "duplicates", "adjustments", "created_at"]
    list_filter = ["status", "source"]
    exclude = ["file"]


@admin.register(BillRun)
class BillRunAdmin(ReadOnlyAdmin):
    list_display = ["period", "status", "invoice_count", "records_rated", "finished_at", "finalized_at"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ["description", "carrier", "kind", "quantity", "unit_price", "amount", "commission"]
    readonly_fields = ["description", "carrier", "kind", "quantity", "unit_price", "amount", "commission"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "buyer", "period", "status", "total", "amount_paid", "currency", "due_date"]
    list_filter = ["status", "period"]
    search_fields = ["number", "buyer__name"]
    exclude = ["pdf"]
    inlines = [InvoiceLineInline]


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "invoice", "amount", "created_at"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "buyer", "amount", "unallocated", "currency", "received_on"]
    search_fields = ["reference", "buyer__name"]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = [
        "carrier",
        "period",
        "gross",
        "commission",
        "adjustments",
        "adjustment_commission",
        "net",
        "currency",
        "status",
        "paid_reference",
    ]
    list_filter = ["status", "period"]
    exclude = ["statement_pdf"]


@admin.register(SettlementAdjustment)
class SettlementAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["note", "carrier", "amount", "commission", "currency", "settlement", "created_at"]
