from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from marketplace import services
from marketplace.models import (
    AuditEvent,
    Membership,
    Notification,
    Organization,
    ServiceCategory,
    ServiceType,
    TermsDocument,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "timezone")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "must_change_password")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "verification_status", "country", "created_at"]
    list_filter = ["kind", "verification_status", "country"]
    search_fields = ["name", "trading_name", "alias", "contact_email"]
    readonly_fields = ["verification_status", "verified_at", "submitted_at", "rejection_reason", "alias"]
    inlines = [MembershipInline]
    actions = ["verify_selected"]

    @admin.action(description="Verify the selected organisations")
    def verify_selected(self, request: HttpRequest, queryset: Any) -> None:
        done = 0
        for org in queryset:
            try:
                services.organization_verify(actor=request.user, organization=org)  # type: ignore[arg-type]
                done += 1
            except services.DomainError as exc:
                self.message_user(request, f"{org}: {exc}", messages.WARNING)
        self.message_user(request, f"Verified {done} organisation(s).")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log: filterable, never editable."""

    list_display = ["created_at", "actor_label", "action", "object_repr", "organization", "ip_address"]
    list_filter = ["action", "content_type", "created_at"]
    search_fields = ["actor_label", "action", "object_repr", "object_id"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "subject", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__email", "subject", "key"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ServiceTypeInline(admin.TabularInline):
    model = ServiceType
    extra = 0
    fields = ["code", "name", "usage_unit", "position", "is_active"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position"]
    inlines = [ServiceTypeInline]


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "code", "usage_unit", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["name", "code"]


@admin.register(TermsDocument)
class TermsDocumentAdmin(admin.ModelAdmin):
    """Moderators draft terms here; publishing freezes a version."""

    list_display = ["version", "title", "published_at"]
    actions = ["publish_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.published_at is not None:
            return ["version", "title", "body", "published_at"]
        return ["published_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.published_at is None

    @admin.action(description="Publish the selected drafts")
    def publish_selected(self, request: HttpRequest, queryset: Any) -> None:
        for doc in queryset:
            try:
                services.terms_publish(actor=request.user, terms=doc)  # type: ignore[arg-type]
            except services.DomainError as exc:
                self.message_user(request, f"v{doc.version}: {exc}", messages.WARNING)
