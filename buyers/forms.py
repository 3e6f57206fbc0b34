"""Forms of the buyers app: they validate and convert; services save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from buyers.models import BuyerProfile, EndCustomer
from marketplace.forms import clean_country, clean_phone
from marketplace.models import OrganizationDocument
from marketplace.uploads import validate_upload


def _squash(value: str) -> str:
    return " ".join(value.split())


# --- Registration steps ------------------------------------------------------------------------------


class NamesStepForm(forms.Form):
    name = forms.CharField(max_length=200, label="Legal name", help_text="As registered, e.g. Acme Logistics Ltd.")
    trading_name = forms.CharField(
        max_length=200, required=False, label="Trading name", help_text="If you trade under another name."
    )

    def clean_name(self) -> str:
        name = _squash(self.cleaned_data["name"])
        if len(name) < 2:
            raise ValidationError("Enter the organisation's full legal name.")
        return name

    def clean_trading_name(self) -> str:
        return _squash(self.cleaned_data["trading_name"])


class ContactStepForm(forms.Form):
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, label="Region, state or county")
    postcode = forms.CharField(max_length=20)
    country = forms.CharField(max_length=60, label="Country code", help_text="Two letters, e.g. GB.")
    phone = forms.CharField(max_length=40)
    contact_email = forms.EmailField(label="Billing contact e-mail", help_text="Where invoices and billing news go.")

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_country(self) -> str:
        return clean_country(self.cleaned_data["country"])

    def clean_postcode(self) -> str:
        return _squash(self.cleaned_data["postcode"]).upper()


def _with_blank(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "Choose…"), *choices]


class BusinessStepForm(forms.Form):
    industry = forms.ChoiceField(choices=_with_blank(BuyerProfile.Industry.choices), label="Industry")
    employee_band = forms.ChoiceField(choices=_with_blank(BuyerProfile.EmployeeBand.choices), label="Employees")
    revenue_band = forms.ChoiceField(choices=_with_blank(BuyerProfile.RevenueBand.choices), label="Annual revenue")
    site_count = forms.IntegerField(min_value=1, max_value=100000, label="Number of sites")
    telecom_spend_band = forms.ChoiceField(
        choices=_with_blank(BuyerProfile.SpendBand.choices), label="Annual telecom spend"
    )


class IdentityStepForm(forms.Form):
    registration_number = forms.CharField(
        max_length=40, required=False, label="Company registration number", help_text="E.g. 01234567."
    )
    tax_number = forms.CharField(
        max_length=40, required=False, label="VAT or tax number", help_text="E.g. GB123456789."
    )
    is_reseller = forms.BooleanField(
        required=False,
        label="We resell telecom services to our own customers",
        help_text="Resellers manage end customers and can attribute sites, usage and bills to them.",
    )
    site_precision = forms.ChoiceField(
        choices=BuyerProfile.SitePrecision.choices,
        widget=forms.RadioSelect,
        initial=BuyerProfile.SitePrecision.POSTCODE,
        label="Before an award, carriers see our site locations by",
    )

    def clean_registration_number(self) -> str:
        return _squash(self.cleaned_data["registration_number"]).upper()

    def clean_tax_number(self) -> str:
        return _squash(self.cleaned_data["tax_number"]).upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("registration_number") and not data.get("tax_number") and not self.errors:
            raise ValidationError("Enter a registration number, a tax number, or both.")
        return data


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=OrganizationDocument.Kind.choices, label="What is it?")
    file = forms.FileField(label="Document", help_text="PDF, PNG or JPEG, up to 10 MB.")

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        validate_upload(file)
        return file


class ProfileForm(NamesStepForm, ContactStepForm, BusinessStepForm, IdentityStepForm):
    """Every registration fact on one page, for editing later."""

    field_order = [
        *NamesStepForm.base_fields,
        *ContactStepForm.base_fields,
        *BusinessStepForm.base_fields,
        *IdentityStepForm.base_fields,
    ]


ORG_FIELDS = ("name", "trading_name", "street", "city", "region", "postcode", "country", "phone", "contact_email")


def split_fields(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split cleaned data into organisation fields and profile fields."""
    org = {k: v for k, v in data.items() if k in ORG_FIELDS}
    profile = {k: v for k, v in data.items() if k not in ORG_FIELDS}
    return org, profile


# --- Sites ------------------------------------------------------------------------------------------


class SiteForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How you call this site, e.g. Leeds depot.")
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, label="Region, state or county")
    postcode = forms.CharField(max_length=20)
    country = forms.CharField(max_length=60, initial="GB", label="Country code", help_text="Two letters, e.g. GB.")
    contact_name = forms.CharField(max_length=120, required=False, label="On-site contact")
    contact_phone = forms.CharField(max_length=40, required=False, label="On-site contact phone")
    contact_email = forms.EmailField(required=False, label="On-site contact e-mail")
    notes = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Access, opening hours."
    )

    def clean_name(self) -> str:
        name = _squash(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the site a name.")
        return name

    def clean_country(self) -> str:
        return clean_country(self.cleaned_data["country"])

    def clean_contact_phone(self) -> str:
        return clean_phone(self.cleaned_data["contact_phone"])

    def clean_postcode(self) -> str:
        return _squash(self.cleaned_data["postcode"]).upper()


class SiteWithCustomerForm(SiteForm):
    """A site form for resellers, who may attribute the site to one of their end customers."""

    end_customer = forms.ModelChoiceField(
        queryset=EndCustomer.objects.none(), required=False, label="End customer", empty_label="Our own site"
    )

    def __init__(self, *args: Any, customers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["end_customer"].queryset = customers  # type: ignore[attr-defined]


class SiteCsvRowForm(SiteForm):
    """One row of a site import file; the header names these fields."""


class SiteImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Use the template: one site per row, UTF-8.")

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        if file.size and file.size > 5 * 1024 * 1024:
            raise ValidationError("The file is larger than 5 MB; split it into smaller files.")
        return file


class SearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Search")


# --- End customers ----------------------------------------------------------------------------------


class EndCustomerForm(forms.Form):
    name = forms.CharField(max_length=200)
    reference = forms.CharField(max_length=40, label="Your reference", help_text="Unique among your end customers.")
    contact_email = forms.EmailField(required=False, label="Contact e-mail")
    notes = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_name(self) -> str:
        return _squash(self.cleaned_data["name"])

    def clean_reference(self) -> str:
        reference = _squash(self.cleaned_data["reference"])
        if not reference:
            raise ValidationError("Enter your reference for this customer.")
        return reference


# --- Buying groups ----------------------------------------------------------------------------------


class GroupForm(forms.Form):
    name = forms.CharField(max_length=120, label="Group name")
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Who the group is for."
    )
    region = forms.CharField(max_length=100, help_text="Where the members are, e.g. North West England.")
    contact_name = forms.CharField(max_length=120, label="Contact name")
    contact_email = forms.EmailField(label="Contact e-mail")
    contact_phone = forms.CharField(max_length=40, required=False, label="Contact phone")

    def clean_name(self) -> str:
        name = _squash(self.cleaned_data["name"])
        if len(name) < 3:
            raise ValidationError("Give the group a name of at least 3 characters.")
        return name

    def clean_contact_phone(self) -> str:
        return clean_phone(self.cleaned_data["contact_phone"])


class JoinCodeForm(forms.Form):
    code = forms.CharField(
        max_length=40,
        label="Join code",
        help_text="The group's lead gives you this code, or sends it in an invitation e-mail, e.g. ABCDE-FGHJ-…",
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


class GroupInviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address to invite",
        help_text="We send the invitation to this address. It waits under Invitations until the buyer joins.",
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
