"""Read-mostly admin for requests and bids: every change goes through rfq.services.

Bid contents (prices, terms, notes, the canonical JSON of revisions) stay hidden from moderators until the
request's bids open, exactly as in the moderator console.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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

SEALED_LINE_FIELDS = (
    "monthly_charge",
    "one_time_charge",
    "usage_rate",
    "usage_unit",
    "increment",
    "tiers",
    "minimum_commitment",
    "term_months",
    "install_days",
    "compliance",
    "notes",
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Look, never touch: state changes are services with audit events."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _sealed(rfq: Rfq | None) -> bool:
    return rfq is None or not rfq.bids_are_open


class RfqSiteInline(ReadOnlyInline):
    model = RfqSite
    fields = ("site", "organization", "confirmed_at")


class RfqLineInline(ReadOnlyInline):
    model = RfqLine
    fields = ("rfq_site", "service_type", "quantity", "features", "prior_monthly_spend")


class InvitationInline(ReadOnlyInline):
    model = RfqInvitation
    fields = ("carrier", "state", "viewed_at", "decline_reason")


@admin.register(Rfq)
class RfqAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "buyer", "status", "visibility", "bid_deadline", "created_at")
    list_filter = ("status", "visibility")
    search_fields = ("reference", "title", "buyer__name", "buyer__alias")
    list_select_related = ("buyer",)
    inlines = (RfqSiteInline, RfqLineInline, InvitationInline)


@admin.register(RfqInvitation)
class RfqInvitationAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "carrier", "state", "viewed_at")
    list_filter = ("state",)
    search_fields = ("rfq__reference", "carrier__name")
    list_select_related = ("rfq", "carrier")


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "asked_at", "answered_at")
    list_select_related = ("rfq",)


@admin.register(Addendum)
class AddendumAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "number", "previous_deadline", "new_deadline")
    list_select_related = ("rfq",)


@admin.register(PriorBill)
class PriorBillAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "original_name", "content_type", "size", "uploaded_at")
    exclude = ("file",)


class BidLineInline(ReadOnlyInline):
    model = BidLine
    fields = ("rfq_line", *SEALED_LINE_FIELDS)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and _sealed(obj.rfq):
            return ("rfq_line",)
        return super().get_fields(request, obj)


class BidRevisionInline(ReadOnlyInline):
    model = BidRevision
    fields = ("number", "digest", "submitted_by", "submitted_at")
    show_change_link = False


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "carrier", "status", "needs_reconfirmation", "submitted_at")
    list_filter = ("status", "needs_reconfirmation")
    search_fields = ("rfq__reference", "carrier__name")
    list_select_related = ("rfq", "carrier")
    inlines = (BidLineInline, BidRevisionInline)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None or _sealed(obj.rfq):
            fields = [f for f in fields if f != "notes"]
        return fields


@admin.register(BidLine)
class BidLineAdmin(ReadOnlyAdmin):
    # No prices in the list: the list mixes requests whose bids are open and sealed.
    list_display = ("bid", "rfq_line")
    list_select_related = ("bid__rfq", "bid__carrier", "rfq_line__service_type", "rfq_line__rfq_site__site")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None or _sealed(obj.bid.rfq):
            fields = [f for f in fields if f not in SEALED_LINE_FIELDS]
        return fields


@admin.register(BidRevision)
class BidRevisionAdmin(ReadOnlyAdmin):
    list_display = ("bid", "number", "digest", "submitted_at")
    list_select_related = ("bid__rfq", "bid__carrier")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None or _sealed(obj.bid.rfq):
            fields = [f for f in fields if f != "content"]
        return fields


@admin.register(BidAttachment)
class BidAttachmentAdmin(ReadOnlyAdmin):
    list_display = ("bid", "original_name", "content_type", "size", "uploaded_at")
    exclude = ("file",)
    list_select_related = ("bid__rfq", "bid__carrier")


class SelectionLineInline(ReadOnlyInline):
    model = SelectionLine
    fields = ("rfq_line", "bid_line")
    show_change_link = False


@admin.register(Selection)
class SelectionAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "mode", "selected_by", "selected_at")
    inlines = (SelectionLineInline,)


class AwardLineInline(ReadOnlyInline):
    model = AwardLine
    show_change_link = False


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ("rfq", "buyer", "carrier", "accepted_by", "accepted_at", "terms")
    list_select_related = ("rfq", "buyer", "carrier", "accepted_by", "terms")
    inlines = (AwardLineInline,)
