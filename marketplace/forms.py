"""Core forms: onboarding, verification decisions, the service availability check."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from marketplace.models import Invitation, Membership, Organization, OrganizationDocument, ServiceType

PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
POSTCODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9 \-]{0,11}$")


def clean_phone(value: str) -> str:
    value = value.strip()
    if value and not PHONE_RE.match(value):
        raise forms.ValidationError("Enter a phone number of digits, spaces and + ( ) - only, e.g. +44 20 7946 0000.")
    return value


def clean_country(value: str) -> str:
    value = value.strip().upper()
    if not COUNTRY_RE.match(value):
        raise forms.ValidationError("Enter the two-letter country code, e.g. GB, US, DE.")
    return value


class OnboardingForm(forms.Form):
    """Who you are: a buyer or a carrier, and the organisation's name and contact details."""

    KIND_CHOICES = [
        (Organization.Kind.BUYER, "We buy telecom services"),
        (Organization.Kind.CARRIER, "We sell telecom services (carrier)"),
    ]
    kind = forms.ChoiceField(choices=KIND_CHOICES, widget=forms.RadioSelect, label="What does your organisation do?")
    name = forms.CharField(max_length=200, label="Organisation's legal name")
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, label="Region, state or county")
    postcode = forms.CharField(max_length=20, label="Postcode")
    country = forms.CharField(max_length=60, initial="GB", label="Country code", help_text="Two letters, e.g. GB.")
    phone = forms.CharField(max_length=40, label="Phone")
    contact_email = forms.EmailField(label="Contact e-mail for the organisation")

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_country(self) -> str:
        return clean_country(self.cleaned_data["country"])

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 2:
            raise forms.ValidationError("Enter the organisation's full legal name.")
        return name

    def organization_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("kind")
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label="Reason",
        help_text="The organisation sees this and can correct its details.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("Say what the organisation needs to fix.")
        return reason


class InviteForm(forms.Form):
    email = forms.EmailField(label="Colleague's e-mail")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=())
    delivery = forms.ChoiceField(
        choices=Invitation.Delivery.choices,
        widget=forms.RadioSelect,
        initial=Invitation.Delivery.LINK,
        label="Initial password",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = Membership.ROLES_BY_KIND[organization.kind]
        self.fields["role"].choices = [(r, Membership.Role(r).label) for r in roles]  # type: ignore[attr-defined]
        self.fields["role"].initial = roles[-1]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=())

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = Membership.ROLES_BY_KIND[organization.kind]
        self.fields["role"].choices = [(r, Membership.Role(r).label) for r in roles]  # type: ignore[attr-defined]


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=OrganizationDocument.Kind.choices, label="What is it?")
    file = forms.FileField(label="File (PDF, PNG or JPEG, up to 10 MB)")

    def clean_file(self) -> Any:
        from marketplace.uploads import validate_upload

        file = self.cleaned_data["file"]
        validate_upload(file)
        return file


class ServiceTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.category.name}: {obj.name}"


class AvailabilityForm(forms.Form):
    """Where to check: a country, a postcode and optionally a region and one service type."""

    # Longer than two so that "Britain" gets the helpful message from clean_country, not a length error.
    country = forms.CharField(max_length=60, initial="GB", label="Country code", help_text="Two letters, e.g. GB.")
    postcode = forms.CharField(max_length=12, label="Postcode")
    region = forms.CharField(
        max_length=100,
        required=False,
        label="Region, state or county",
        help_text="Optional. Some carriers cover only named regions, e.g. Greater London.",
        widget=forms.TextInput(attrs={"list": "availability-regions", "autocomplete": "off"}),
    )
    service_type = ServiceTypeChoiceField(
        queryset=ServiceType.objects.filter(is_active=True).select_related("category"),
        required=False,
        empty_label="Any service",
        label="Service",
    )

    def clean_country(self) -> str:
        return clean_country(self.cleaned_data["country"])

    def clean_postcode(self) -> str:
        postcode = " ".join(self.cleaned_data["postcode"].split()).upper()
        if not POSTCODE_RE.match(postcode):
            raise forms.ValidationError("Enter a postcode of letters and digits, e.g. EC1A 1BB or 10115.")
        return postcode

    def clean_region(self) -> str:
        return " ".join(self.cleaned_data["region"].split())

    def place(self) -> str:
        """Name the checked address the way the results heading shows it."""
        data = self.cleaned_data
        return ", ".join(p for p in (data["postcode"], data["region"], data["country"]) if p)
