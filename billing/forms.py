"""Billing forms: they validate and convert; the views hand cleaned_data to billing.services."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from billing.models import Invoice, Note, Payment, UsageImport
from marketplace.models import Organization
from marketplace.services import DomainError

MAX_USAGE_BYTES = 200 * 1024 * 1024
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def parse_period(value: str) -> date:
    """'2026-10' as the first day of the month, or a ValidationError."""
    from billing.services import period_from_string

    try:
        return period_from_string(value or "")
    except DomainError as exc:
        raise forms.ValidationError(str(exc)) from exc


class PeriodField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", "Year and month, e.g. 2026-10.")
        super().__init__(**kwargs)
        self.widget.attrs.update({"placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"})

    def clean(self, value: Any) -> date | None:  # type: ignore[override]
        value = super().clean(value)
        if not value:
            return None
        return parse_period(value)


class PeriodForm(forms.Form):
    period = PeriodField(label="Billing period")


class PeriodFilterForm(forms.Form):
    period = PeriodField(label="Period", required=False)


class UsageUploadForm(forms.Form):
    """A carrier uploads its own usage: the source is the carrier."""

    file = forms.FileField(label="Usage file (CSV)", help_text="Columns as described in the format below.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_USAGE_BYTES:
            raise forms.ValidationError("The file is larger than 200 MB: split it by month.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class StaffUsageUploadForm(UsageUploadForm):
    """Billing staff choose whose usage it is and where it came from."""

    carrier = forms.ModelChoiceField(queryset=Organization.objects.none(), empty_label="Choose a carrier")
    source = forms.ChoiceField(choices=UsageImport.Source.choices, initial=UsageImport.Source.CARRIER)
    field_order = ["carrier", "source", "file"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Organization.objects.filter(kind=Organization.Kind.CARRIER).order_by("name")  # type: ignore[attr-defined]


class CommissionForm(forms.Form):
    percent = forms.DecimalField(
        label="Default commission (%)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )


class FinalizeForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have reviewed the drafts: issue the invoices with their numbers. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm: finalised invoices cannot change."},
    )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(choices=Note.Kind.choices)
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))], label="Amount"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, invoice: Invoice | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoice = invoice

    def clean(self) -> dict[str, Any]:
        from billing.services import invoice_creditable

        data = super().clean() or {}
        if self.invoice is not None and data.get("kind") == Note.Kind.CREDIT and data.get("amount"):
            creditable = invoice_creditable(self.invoice)
            if data["amount"] > creditable:
                self.add_error("amount", f"A credit note cannot exceed what is left to credit ({creditable}).")
        return data


def invoice_amount_due(invoice: Invoice) -> Decimal:
    from billing.services import invoice_amount_due as due

    return due(invoice)


def _currency(value: str) -> str:
    value = (value or "").strip().upper()
    if not CURRENCY_RE.match(value):
        raise forms.ValidationError("Give a three-letter currency code such as GBP.")
    return value


class PaymentForm(forms.Form):
    buyer = forms.ModelChoiceField(queryset=Organization.objects.none(), empty_label="Choose a buyer")
    amount = forms.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = forms.CharField(max_length=3, initial="GBP")
    received_on = forms.DateField(
        label="Received on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reference = forms.CharField(max_length=80, help_text="The bank's reference for the transfer.")
    invoice = forms.ModelChoiceField(
        queryset=Invoice.objects.none(),
        required=False,
        empty_label="Oldest open invoices first",
        help_text="Leave empty to allocate to the buyer's oldest open invoices.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = Organization.objects.filter(kind=Organization.Kind.BUYER).order_by("name")  # type: ignore[attr-defined]
        self.fields["invoice"].queryset = (  # type: ignore[attr-defined]
            Invoice.objects.filter(status=Invoice.Status.FINAL).select_related("buyer").order_by("number")
        )
        self.fields["invoice"].label_from_instance = lambda i: (  # type: ignore[attr-defined]
            f"{i.number} · {i.buyer.display_name} · {i.total} {i.currency}"
        )

    def clean_currency(self) -> str:
        return _currency(self.cleaned_data["currency"])

    def clean_reference(self) -> str:
        value = self.cleaned_data["reference"].strip()
        if not value:
            raise forms.ValidationError("Give the bank's reference.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        invoice, buyer = data.get("invoice"), data.get("buyer")
        if invoice is not None and buyer is not None and invoice.buyer_id != buyer.pk:
            self.add_error("invoice", "This invoice belongs to another buyer.")
        elif invoice is not None and data.get("currency") and invoice.currency != data["currency"]:
            self.add_error("currency", f"Invoice {invoice.number} is in {invoice.currency}.")
        return data


class AllocationForm(forms.Form):
    """Allocate a payment's unallocated remainder: to one open invoice of its buyer and currency, or oldest first."""

    invoice = forms.ModelChoiceField(
        queryset=Invoice.objects.none(),
        required=False,
        empty_label="Oldest due first",
        help_text="An open invoice of the same buyer and currency; leave empty for the oldest due first.",
    )
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Leave empty to allocate as much as is due, up to what is unallocated.",
    )

    def __init__(self, *args: Any, payment: Payment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payment = payment
        self.fields["invoice"].queryset = (  # type: ignore[attr-defined]
            Invoice.objects.filter(buyer_id=payment.buyer_id, currency=payment.currency, status=Invoice.Status.FINAL)
            .prefetch_related("notes")
            .order_by("due_date", "number")
        )
        self.fields["invoice"].label_from_instance = lambda i: (  # type: ignore[attr-defined]
            f"{i.number} · {i.period:%B %Y} · due {invoice_amount_due(i)} {i.currency}"
        )

    def clean_amount(self) -> Decimal | None:
        amount = self.cleaned_data.get("amount")
        if amount is not None and amount > self.payment.unallocated:
            raise forms.ValidationError(
                f"Only {self.payment.unallocated} {self.payment.currency} of this payment is unallocated."
            )
        return amount

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        invoice, amount = data.get("invoice"), data.get("amount")
        due = invoice_amount_due(invoice) if invoice is not None else None
        if invoice is not None and due is not None and amount is not None and amount > due:
            self.add_error("amount", f"Only {due} {invoice.currency} is due on {invoice.number}.")
        return data


class BankRowForm(forms.Form):
    """One row of a bank statement CSV: date, amount, currency, reference, invoice_number."""

    date = forms.DateField(input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    amount = forms.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = forms.CharField(max_length=3)
    reference = forms.CharField(max_length=80)
    invoice_number = forms.CharField(max_length=20)

    def clean_currency(self) -> str:
        return _currency(self.cleaned_data["currency"])

    def clean_invoice_number(self) -> Invoice:
        number = self.cleaned_data["invoice_number"].strip()
        invoice = Invoice.objects.select_related("buyer").filter(number=number).first()
        if invoice is None:
            raise forms.ValidationError(f"No issued invoice {number}.")
        return invoice

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        invoice, currency = data.get("invoice_number"), data.get("currency")
        if invoice is not None and currency and invoice.currency != currency:
            self.add_error("currency", f"Invoice {invoice.number} is in {invoice.currency}.")
        return data


class BankImportForm(forms.Form):
    file = forms.FileField(
        label="Bank statement (CSV)", help_text="Columns: date, amount, currency, reference, invoice_number."
    )


class SettlementPaidForm(forms.Form):
    reference = forms.CharField(max_length=80, label="Transfer reference")

    def clean_reference(self) -> str:
        value = self.cleaned_data["reference"].strip()
        if not value:
            raise forms.ValidationError("Give the reference of the transfer.")
        return value


class InvoiceFilterForm(forms.Form):
    period = PeriodField(label="Period", required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Invoice.Status.choices], required=False)
    q = forms.CharField(label="Buyer or number", max_length=100, required=False)
    to_post = forms.BooleanField(label="Paper copies still to post", required=False)

    def filters(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_valid() else {}


class SettlementFilterForm(forms.Form):
    period = PeriodField(label="Period", required=False)
    carrier = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False, empty_label="Every carrier")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Organization.objects.filter(kind=Organization.Kind.CARRIER).order_by("name")  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_valid() else {}
