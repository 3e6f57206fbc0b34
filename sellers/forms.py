"""Forms of the carriers app: they validate and convert; services save."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from marketplace.forms import clean_country, clean_phone
from marketplace.models import OrganizationDocument, ServiceCategory, ServiceType
from marketplace.uploads import validate_upload
from sellers.constants import CURRENCIES, INDUSTRY_CHOICES
from sellers.logos import Logo, logo_from_upload
from sellers.models import CarrierProfile, OfferVersion
from sellers.regions import Area, parse_areas

AREAS_HELP = (
    "One area per line: a country code, then optionally a region, then optionally postcode prefixes "
    "separated by spaces. For example: <code>GB</code>, <code>GB, Greater London, EC E N W</code>, "
    "<code>GB, , BS</code> (postcodes starting BS anywhere in GB)."
)


def _service_types() -> Any:
    return ServiceType.objects.filter(is_active=True).select_related("category")


class ServiceTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ServiceType) -> str:  # type: ignore[override]
        return f"{obj.category.name}: {obj.name}"


class ServiceTypeMultipleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ServiceType) -> str:  # type: ignore[override]
        return f"{obj.category.name}: {obj.name}"


class AreasField(forms.CharField):
    """A typed list of areas, cleaned to a sorted list of Area."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", AREAS_HELP)
        kwargs.setdefault("max_length", 10000)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[Area]:  # type: ignore[override]
        text = super().clean(value)
        areas = parse_areas(text)
        if self.required and not areas:
            raise ValidationError("List at least one area.")
        return areas


def _range_errors(form: forms.Form, low: str, high: str, what: str) -> None:
    lo, hi = form.cleaned_data.get(low), form.cleaned_data.get(high)
    if lo is not None and hi is not None and lo > hi:
        form.add_error(low, f"The minimum {what} is above the maximum.")
        form.add_error(high, f"The maximum {what} is below the minimum.")


# --- Registration wizard -----------------------------------------------------------------------------


class KeptFileInput(forms.FileInput):
    """A file input that names the upload the wizard already holds for it (a browser cannot refill one)."""

    template_name = "sellers/widgets/kept_file_input.html"
    kept_name = ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["kept_name"] = self.kept_name
        if self.kept_name and widget["attrs"].get("id"):
            described = widget["attrs"].get("aria-describedby", "")
            widget["attrs"]["aria-describedby"] = f"{described} {widget['attrs']['id']}_kept".strip()
        return context


def keep_uploads(form: forms.Form, kept: dict[str, str]) -> None:
    """Let each file field that already holds an upload be left empty, and say which file it holds."""
    for name, field in form.fields.items():
        kept_name = kept.get(form.add_prefix(name))
        if kept_name and isinstance(field, forms.FileField):
            field.required = False
            if isinstance(field.widget, KeptFileInput):
                field.widget.kept_name = kept_name


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=200, label="Legal name", help_text="As registered, e.g. Northwind Telecom Ltd.")
    trading_name = forms.CharField(max_length=200, label="Brand name", help_text="The name buyers know you by.")
    company_number = forms.CharField(max_length=40, required=False, label="Company registration number")
    vat_number = forms.CharField(max_length=40, required=False, label="VAT or tax number")
    website = forms.URLField(required=False, assume_scheme="https")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False, label="What you offer, in brief"
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 2:
            raise ValidationError("Enter the carrier's full legal name.")
        return name


class ContactForm(forms.Form):
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, label="Region, state or county")
    postcode = forms.CharField(max_length=20)
    country = forms.CharField(max_length=2, label="Country code", help_text="Two letters, e.g. GB.")
    phone = forms.CharField(max_length=40)
    contact_email = forms.EmailField(label="Contact e-mail")

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_country(self) -> str:
        return clean_country(self.cleaned_data["country"])


class RegulatoryForm(forms.Form):
    regulator = forms.ChoiceField(choices=CarrierProfile.Regulator.choices, required=False)
    regulator_reference = forms.CharField(
        max_length=60,
        required=False,
        label="Registration or licence reference",
        help_text="Optional: e.g. your Ofcom general authorisation reference or FCC Registration Number (FRN).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("regulator_reference") and not data.get("regulator"):
            self.add_error("regulator", "Say which regulator issued this reference.")
        if data.get("regulator") and not data.get("regulator_reference"):
            self.add_error("regulator_reference", "Enter the reference the regulator gave you.")
        return data


class ServicesForm(forms.Form):
    categories = forms.ModelMultipleChoiceField(
        queryset=ServiceCategory.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Service categories you sell",
    )


class LogoForm(forms.Form):
    logo = forms.FileField(
        required=False,
        widget=KeptFileInput,
        help_text="Optional. PNG or SVG, up to 512 KB. Scripts and external links are refused.",
    )

    def clean_logo(self) -> Logo | None:
        file = self.cleaned_data.get("logo")
        return logo_from_upload(file) if file else None


class DocumentForm(forms.Form):
    document = forms.FileField(
        required=False,
        widget=KeptFileInput,
        label="Supporting document",
        help_text="Optional here: a PDF, PNG or JPEG up to 10 MB, e.g. your certificate of incorporation. "
        "You can add more on the Documents page.",
    )
    kind = forms.ChoiceField(choices=OrganizationDocument.Kind.choices, initial=OrganizationDocument.Kind.REGISTRATION)

    def clean_document(self) -> Any:
        file = self.cleaned_data.get("document")
        if file:
            validate_upload(file)
        return file


class ReviewForm(forms.Form):
    submit_for_review = forms.BooleanField(
        required=False,
        initial=True,
        label="Submit for review by the moderator now",
        help_text="The moderator checks your details and documents before buyers' requests reach you.",
    )


# --- Criteria ----------------------------------------------------------------------------------------


class CriteriaSetForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="For you, e.g. “Northern SMEs” or “Large WAN tenders”.")
    service_types = ServiceTypeMultipleField(
        queryset=_service_types(), widget=forms.CheckboxSelectMultiple, label="Service types"
    )
    areas = AreasField(
        required=False,
        label="Regions",
        help_text=AREAS_HELP + " Leave empty to take requests from anywhere.",
    )
    value_min = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), required=False, label="Contract value from"
    )
    value_max = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), required=False, label="Contract value up to"
    )
    currency = forms.ChoiceField(choices=CURRENCIES, initial="GBP")
    sites_min = forms.IntegerField(min_value=1, max_value=100000, required=False, label="Sites from")
    sites_max = forms.IntegerField(min_value=1, max_value=100000, required=False, label="Sites up to")
    term_min_months = forms.IntegerField(min_value=1, max_value=240, required=False, label="Term from (months)")
    term_max_months = forms.IntegerField(min_value=1, max_value=240, required=False, label="Term up to (months)")
    takes_group_requests = forms.BooleanField(required=False, initial=True, label="Take requests from buying groups")
    takes_reseller_buyers = forms.BooleanField(required=False, initial=True, label="Take requests from resellers")
    industries = forms.MultipleChoiceField(
        choices=INDUSTRY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Buyer industries",
        help_text="Leave all unticked to take every industry.",
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _range_errors(self, "value_min", "value_max", "contract value")
        _range_errors(self, "sites_min", "sites_max", "number of sites")
        _range_errors(self, "term_min_months", "term_max_months", "term")
        return data


# --- Coverage ----------------------------------------------------------------------------------------


class CoverageForm(forms.Form):
    service_type = ServiceTypeChoiceField(queryset=_service_types(), label="Service type")
    areas = AreasField(label="Areas where you deliver it")


# --- Standing offers ---------------------------------------------------------------------------------

RATE_RE = re.compile(r"^(?P<rate>\d+(?:\.\d{1,5})?)\s*(?:per|/)\s*(?P<unit>[A-Za-z][A-Za-z ]{0,19})$")


def parse_rates(text: str) -> list[tuple[Decimal, str]]:
    """Turn '0.012 per minute; 1.50 per GB' into [(Decimal('0.012'), 'minute'), ...]."""
    rates: dict[str, Decimal] = {}
    errors = []
    for item in re.split(r"[\n;]", text or ""):
        item = item.strip()
        if not item:
            continue
        match = RATE_RE.match(item)
        if not match:
            errors.append(f"“{item}” is not a rate: write it as 0.012 per minute (no negative rates).")
            continue
        unit = " ".join(match["unit"].split())
        if unit in rates:
            errors.append(f"The unit {unit} is priced twice.")
        rates[unit] = Decimal(match["rate"])
    if errors:
        raise ValidationError(errors)
    return list((rate, unit) for unit, rate in rates.items())


class OfferForm(forms.Form):
    """The terms of one version of a standing offer; also the row format of the CSV import."""

    service_type = ServiceTypeChoiceField(queryset=_service_types(), to_field_name="code", label="Service type")
    title = forms.CharField(max_length=120, help_text="What buyers see, e.g. “Fibre leased line, 36 months”.")
    capacity_min = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0), label="Capacity from")
    capacity_max = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0), label="Capacity up to")
    capacity_unit = forms.ChoiceField(choices=OfferVersion.Unit.choices, label="Capacity unit")
    term_months = forms.IntegerField(min_value=1, max_value=240, label="Contract term (months)")
    monthly_charge = forms.DecimalField(max_digits=14, decimal_places=2, label="Monthly charge")
    one_time_charge = forms.DecimalField(max_digits=14, decimal_places=2, label="One-time charge")
    currency = forms.ChoiceField(choices=CURRENCIES, initial="GBP")
    usage_rates = forms.CharField(
        max_length=500,
        required=False,
        label="Usage rates",
        help_text="Optional, one per line or separated by ;, e.g. <code>0.012 per minute</code>.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    areas = AreasField(label="Coverage")
    valid_from = forms.DateField(label="Valid from", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    valid_until = forms.DateField(
        required=False,
        label="Valid until",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Optional.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)

    def clean_monthly_charge(self) -> Decimal:
        return self._not_negative("monthly_charge")

    def clean_one_time_charge(self) -> Decimal:
        return self._not_negative("one_time_charge")

    def _not_negative(self, name: str) -> Decimal:
        value: Decimal = self.cleaned_data[name]
        if value < 0:
            raise ValidationError("A price cannot be negative.")
        return value

    def clean_usage_rates(self) -> list[tuple[Decimal, str]]:
        return parse_rates(self.cleaned_data.get("usage_rates", ""))

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _range_errors(self, "capacity_min", "capacity_max", "capacity")
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", "The offer cannot stop being valid before it starts.")
        return data


class OfferImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Use the template: one offer per row, header names as given.")


class OfferFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("active", "Active"), ("retired", "Retired"), ("all", "All")], required=False, initial="active"
    )
