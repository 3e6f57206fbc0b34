"""Core models every app needs: users, organisations, audit, notifications, catalogue, terms."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with an e-mail address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    must_change_password = models.BooleanField(
        default=False, help_text="Set for accounts created with an initial password."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_moderator(self) -> bool:
        return self.is_active and self.is_staff


def guardian_anonymous_user(user_model: type[User]) -> User:
    """Give guardian's anonymous user an e-mail so the unique e-mail field holds."""
    return user_model(email="anonymous@guardian.invalid", is_active=False)


def _new_alias() -> str:
    """Six random characters no organisation has yet (32^6 of them): creating one never trips the unique key."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    for _ in range(20):
        alias = "".join(secrets.choice(alphabet) for _ in range(6))
        if not Organization.objects.filter(alias=alias).exists():
            break
    return alias


class Organization(models.Model):
    """A buyer, a carrier or a billing bureau; every user belongs to at most one."""

    class Kind(models.TextChoices):
        BUYER = "buyer", "Buyer"
        CARRIER = "carrier", "Carrier"
        BUREAU = "bureau", "Billing bureau"

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", "Unverified"
        PENDING = "pending", "Pending review"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField("legal name", max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    alias = models.CharField(
        max_length=8, unique=True, default=_new_alias, help_text="Anonymous name shown to carriers."
    )
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="GB", help_text="ISO 3166 two-letter code.")
    phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    verification_status = models.CharField(max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED)
    rejection_reason = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["buyer", "carrier", "bureau"]), name="organization_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(verification_status="rejected") | ~Q(rejection_reason=""),
                name="organization_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.trading_name or self.name

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


class Membership(models.Model):
    """A user's place in an organisation, with a role valid for its kind."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        ADMIN = "admin", "Admin"
        SALES = "sales", "Sales"
        BILLING = "billing", "Billing"
        AGENT = "agent", "Billing agent"

    ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
        Organization.Kind.BUYER: (Role.OWNER, Role.MEMBER),
        Organization.Kind.CARRIER: (Role.ADMIN, Role.SALES, Role.BILLING),
        Organization.Kind.BUREAU: (Role.AGENT,),
    }

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class AuditEvent(models.Model):
    """An append-only record of a state change, written by services."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="Who acted, kept if the user goes.")
    action = models.CharField(max_length=80, db_index=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: an existing row is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Audit events cannot be deleted.")


class Notification(models.Model):
    """One message to one user: an inbox entry and, once, an e-mail."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200, help_text="Idempotency key of the event that caused it.")
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"


class ServiceCategory(models.Model):
    """A family of services in the catalogue: voice, Internet, mobile, data, routes."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "service categories"

    def __str__(self) -> str:
        return self.name


class ServiceType(models.Model):
    """A service a buyer can request, with the features it declares."""

    category = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, related_name="service_types")
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    usage_unit = models.CharField(max_length=20, blank=True, help_text="Unit usage is measured in, e.g. minute, GB.")
    features = models.JSONField(
        default=list,
        blank=True,
        help_text="Feature schema: a list of {name, label, type, unit, choices, min, max, required}.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category__position", "position", "name"]

    def __str__(self) -> str:
        return f"{self.category.name}: {self.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from marketplace.catalogue import validate_feature_schema

        problems = validate_feature_schema(self.features)
        if problems:
            raise ValidationError({"features": problems})


class TermsDocument(models.Model):
    """A version of the marketplace's contract terms; published versions never change."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        state = "published" if self.published_at else "draft"
        return f"v{self.version} {self.title} ({state})"


def _document_path(instance: OrganizationDocument, filename: str) -> str:
    # Stored under a random name: the original name is kept in the row, never trusted as a path.
    return f"private/documents/{instance.organization_id}/{secrets.token_hex(16)}"


class OrganizationDocument(models.Model):
    """Evidence an organisation uploads for verification; served only through an access-checked view."""

    class Kind(models.TextChoices):
        REGISTRATION = "registration", "Company registration certificate"
        TAX = "tax", "Tax or VAT certificate"
        LICENCE = "licence", "Telecom licence or registration"
        BANK = "bank", "Bank letter"
        OTHER = "other", "Other supporting document"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    file = models.FileField(upload_to=_document_path, max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class Invitation(models.Model):
    """An account created for a colleague, with an initial password delivered by link or shown once."""

    class Delivery(models.TextChoices):
        LINK = "link", "E-mail a one-time link to set a password"
        PASSWORD = "password", "Generate an initial password to pass on"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} as {self.role}"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.accepted_at:
            return "accepted"
        if self.delivery == self.Delivery.LINK and self.expires_at <= timezone.now():
            return "expired"
        return "waiting"
