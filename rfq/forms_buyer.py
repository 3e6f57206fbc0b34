"""Forms for the buyer's side of requests: they validate and convert, the views hand the results to services."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from buyers.models import BuyerProfile, BuyingGroup, Site
from marketplace.models import Organization, ServiceType
from rfq.models import Rfq

# Deadlines further out than this are typing mistakes (and year 9999 would overflow date arithmetic).
MAX_AHEAD = timedelta(days=730)


def user_zone(name: str | None) -> tzinfo:
    """The user's time zone, or UTC when it is unset or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def json_safe(values: dict[str, Any]) -> dict[str, Any]:
    """Feature values as JSON: decimals become strings, empty answers are left out."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        out[name] = str(value) if isinstance(value, Decimal) else value
    return out


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Every status"), *Rfq.Status.choices], required=False)


class RfqCreateForm(forms.Form):
    title = forms.CharField(max_length=120, help_text="A name you will recognise, e.g. Head office and depots 2027.")
    group = forms.ModelChoiceField(
        queryset=BuyingGroup.objects.none(),
        required=False,
        empty_label="No: a request for my organisation only",
        label="Group request",
        help_text="A qualified group you lead: its members add their sites and demand.",
    )

    def __init__(self, *args: Any, groups: QuerySet[BuyingGroup] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if groups is None:
            del self.fields["group"]
        else:
            self.fields["group"].queryset = groups  # type: ignore[attr-defined]

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise ValidationError("Give the request a title.")
        return title


class SitesStepForm(forms.Form):
    title = forms.CharField(max_length=120)
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one site."},
        label="Sites taking part",
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = sites  # type: ignore[attr-defined]
        self.fields["sites"].label_from_instance = (  # type: ignore[attr-defined]
            lambda s: f"{s.name} — {s.street}, {s.city} {s.postcode} ({s.organization.display_name})"
        )

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise ValidationError("Give the request a title.")
        return title


class LineRowForm(forms.Form):
    """One service at one site; its features come from the service type's own form."""

    rfq_site = forms.IntegerField(widget=forms.HiddenInput)
    service_type = forms.ModelChoiceField(queryset=ServiceType.objects.filter(is_active=True), widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=100000, initial=1)


class BillingStepForm(forms.Form):
    currency = forms.ChoiceField(choices=[("GBP", "GBP £"), ("EUR", "EUR €"), ("USD", "USD $")])
    invoice_grouping = forms.ChoiceField(choices=Rfq.InvoiceGrouping.choices, widget=forms.RadioSelect)
    carrier_grouping = forms.ChoiceField(
        choices=Rfq.CarrierGrouping.choices, widget=forms.RadioSelect, label="Invoices across carriers"
    )
    payment_terms_days = forms.IntegerField(min_value=0, max_value=120, label="Payment terms (days)")
    invoice_delivery = forms.ChoiceField(choices=Rfq.InvoiceDelivery.choices)
    po_number = forms.CharField(max_length=40, required=False, label="Purchase order number")


class UsageLineForm(forms.Form):
    current_carrier = forms.CharField(max_length=120, required=False)
    prior_monthly_spend = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal(0), required=False, label="Monthly spend today"
    )
    prior_volume = forms.CharField(max_length=120, required=False, label="Volumes", help_text="e.g. 12,000 minutes")


class PriorBillForm(forms.Form):
    file = forms.FileField(label="Past bill (PDF, PNG or JPEG)")


class VisibilityStepForm(forms.Form):
    visibility = forms.ChoiceField(choices=Rfq.Visibility.choices, widget=forms.RadioSelect, label="Who may see it")
    carriers = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Listed carriers",
        help_text="Verified carriers only. Needed unless the request is open.",
    )
    site_precision = forms.ChoiceField(
        choices=BuyerProfile.SitePrecision.choices,
        widget=forms.RadioSelect,
        required=False,
        label="How precisely carriers see your sites before award",
        help_text="The winner sees full addresses once you accept its bid.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carriers"].queryset = Organization.objects.filter(  # type: ignore[attr-defined]
            kind=Organization.Kind.CARRIER, verification_status=Organization.Verification.VERIFIED
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("visibility") and data["visibility"] != Rfq.Visibility.OPEN and not data.get("carriers"):
            self.add_error("carriers", "Pick at least one carrier, or make the request open.")
        return data


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class ScheduleStepForm(forms.Form):
    """Deadlines are typed in the user's own time zone and come out as aware datetimes."""

    bid_deadline = LocalDateTimeField(help_text="Bids are sealed until this moment.")
    decision_deadline = LocalDateTimeField(help_text="You choose the winner by then, or the request expires.")
    desired_start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    term_months = forms.IntegerField(min_value=1, max_value=120, label="Contract term (months)")

    def __init__(self, *args: Any, zone: tzinfo, **kwargs: Any) -> None:
        self.zone = zone
        super().__init__(*args, **kwargs)
        label = getattr(zone, "key", "UTC")
        for name in ("bid_deadline", "decision_deadline"):
            self.fields[name].help_text += f" Your time zone: {label}."

    def _aware(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=self.zone)

    def clean_bid_deadline(self) -> datetime | None:
        return self._aware(self.cleaned_data.get("bid_deadline"))

    def clean_decision_deadline(self) -> datetime | None:
        return self._aware(self.cleaned_data.get("decision_deadline"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        bid, decision = data.get("bid_deadline"), data.get("decision_deadline")
        horizon = timezone.now() + MAX_AHEAD
        if bid and bid > horizon:
            self.add_error("bid_deadline", "Choose a bid deadline within the next two years.")
        if decision and decision > horizon + MAX_AHEAD:
            self.add_error("decision_deadline", "Choose a decision deadline within two years of the bid deadline.")
        if bid and decision and decision <= bid:
            self.add_error("decision_deadline", "The decision deadline must come after the bid deadline.")
        return data


class AnswerForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class AddendumForm(forms.Form):
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label="What changes", strip=True
    )
    new_deadline = LocalDateTimeField(label="New bid deadline")

    def __init__(self, *args: Any, zone: tzinfo, **kwargs: Any) -> None:
        self.zone = zone
        super().__init__(*args, **kwargs)

    def clean_new_deadline(self) -> datetime | None:
        value = self.cleaned_data.get("new_deadline")
        if value is None:
            return None
        value = value.replace(tzinfo=self.zone)
        if value > timezone.now() + MAX_AHEAD:
            raise ValidationError("Choose a deadline within the next two years.")
        return value


class CancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Reason for cancelling")


class ConfirmSitesForm(forms.Form):
    sites = forms.ModelMultipleChoiceField(
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Keep at least one of your sites, or ask the lead to remove you."},
        label="Your sites taking part",
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = sites  # type: ignore[attr-defined]


class AcceptTermsForm(forms.Form):
    po_number = forms.CharField(
        label="Your purchase order number",
        max_length=40,
        required=False,
        help_text="Optional. Printed on your organisation's invoices for these lines.",
    )
    # Optional: left out, the request's choice applies (the page pre-selects it).
    invoice_delivery = forms.ChoiceField(
        label="How your organisation receives its invoices",
        choices=[("", "As the request says"), *Rfq.InvoiceDelivery.choices],
        required=False,
    )
    agree = forms.BooleanField(
        label="I accept these terms for my organisation's lines",
        error_messages={"required": "Tick the box to accept the terms."},
    )
    terms_version = forms.IntegerField(widget=forms.HiddenInput)

    def clean_po_number(self) -> str:
        return str(self.cleaned_data["po_number"]).strip()
