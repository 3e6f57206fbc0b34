"""Forms of the carrier's request pages and the moderator console: they validate and convert, never save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from marketplace.models import ServiceType
from marketplace.uploads import validate_upload
from rfq.models import Rfq, RfqLine
from rfq.usage_terms import EXAMPLE, MAX_TIERS, Tier, plain, tiers_parse, tiers_text

STATE_CHOICES = [
    ("", "Any state"),
    ("open", "Open for bids"),
    ("closed", "Closed"),
    ("intends", "I intend to bid"),
    ("declined", "I declined"),
]
DEADLINE_CHOICES = [("", "Any deadline"), ("week", "Closing within a week")]


class InboxFilterForm(forms.Form):
    """The GET filters of the carrier's inbox; anything unknown is ignored rather than an error."""

    service_type = forms.ChoiceField(label="Service", required=False)
    region = forms.CharField(label="Region", required=False, max_length=100)
    deadline = forms.ChoiceField(label="Deadline", choices=DEADLINE_CHOICES, required=False)
    state = forms.ChoiceField(label="State", choices=STATE_CHOICES, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = [("", "Any service")] + [  # type: ignore[attr-defined]
            (code, name) for code, name in ServiceType.objects.order_by("name").values_list("code", "name")
        ]

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {k: (v or "").strip() for k, v in self.cleaned_data.items()}


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why do you decline?",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="The buyer sees the reason, never your name.",
    )


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Your question",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="The answer is published to every invited carrier without naming who asked.",
    )


def feature_rows(line: RfqLine) -> list[dict[str, Any]]:
    """The features a line asks for, as label and value, in the order the service type defines them."""
    labels = {f["name"]: (f.get("label") or f["name"], f.get("unit", "")) for f in line.service_type.features}
    rows = []
    for name, value in (line.features or {}).items():
        label, unit = labels.get(name, (name.replace("_", " "), ""))
        if isinstance(value, bool):
            shown = "Yes" if value else "No"
        else:
            shown = f"{value} {unit}".strip()
        rows.append({"name": name, "label": label, "value": shown})
    return rows


class BidLineForm(forms.Form):
    """One request line's prices; a row left blank means the line is not priced."""

    PRICE_FIELDS = (
        "monthly_charge",
        "one_time_charge",
        "usage_rate",
        "usage_unit",
        "increment",
        "tiers",
        "minimum_commitment",
        "term_months",
        "install_days",
    )
    # Terms of the usage rate: refused on a line without one.
    USAGE_TERMS = {
        "increment": "A billing increment needs",
        "tiers": "Volume tiers need",
        "minimum_commitment": "A minimum commitment needs",
    }

    monthly_charge = forms.DecimalField(
        label="Monthly charge", required=False, min_value=Decimal(0), max_digits=14, decimal_places=2
    )
    one_time_charge = forms.DecimalField(
        label="One-time charge", required=False, min_value=Decimal(0), max_digits=14, decimal_places=2
    )
    usage_rate = forms.DecimalField(
        label="Usage rate", required=False, min_value=Decimal(0), max_digits=14, decimal_places=6
    )
    usage_unit = forms.CharField(label="per unit", required=False, max_length=20)
    increment = forms.DecimalField(
        label="Billing increment",
        required=False,
        max_digits=12,
        decimal_places=4,
        help_text="Each record rounds up to a multiple of this (1 = whole units). Blank: none.",
    )
    tiers = forms.CharField(
        label="Volume tiers",
        required=False,
        max_length=400,
        help_text=f"Up to {MAX_TIERS} as threshold:rate, e.g. {EXAMPLE}. A month's usage above a threshold is "
        "charged at its rate.",
    )
    minimum_commitment = forms.DecimalField(
        label="Minimum usage a month",
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        help_text="A month's usage charges below this are topped up to it.",
    )
    term_months = forms.IntegerField(label="Term (months)", required=False, min_value=1, max_value=120)
    install_days = forms.IntegerField(label="Install (days)", required=False, min_value=0, max_value=3650)
    notes = forms.CharField(label="Notes", required=False, max_length=2000)

    def __init__(self, *args: Any, line: RfqLine, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"line-{line.pk}")
        super().__init__(*args, **kwargs)
        self.line = line
        self.features = feature_rows(line)
        for feature in self.features:
            self.fields[f"comply_{feature['name']}"] = forms.BooleanField(
                label=f"Meets {feature['label']}: {feature['value']}", required=False
            )

    @property
    def compliance_fields(self) -> list[forms.BoundField]:
        return [self[f"comply_{f['name']}"] for f in self.features]

    def clean_increment(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("increment")
        if value is not None and value <= 0:
            raise ValidationError("Enter an increment above 0, or leave it blank to bill usage as measured.")
        return value

    def clean_tiers(self) -> list[Tier]:
        return tiers_parse(self.cleaned_data.get("tiers") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        filled = [name for name in self.PRICE_FIELDS if data.get(name) not in (None, "", [])]
        if not filled:
            return data  # not priced
        if data.get("monthly_charge") is None:
            self.add_error("monthly_charge", "Enter the monthly charge, or leave the whole row blank.")
        if data.get("term_months") is None:
            self.add_error("term_months", "Enter the term for a priced line.")
        if data.get("install_days") is None:
            self.add_error("install_days", "Enter the install interval for a priced line.")
        if data.get("usage_rate") is not None and not data.get("usage_unit"):
            self.add_error("usage_unit", "Say what unit the usage rate is per (e.g. minute, GB).")
        if data.get("usage_rate") is None:
            for name, what in self.USAGE_TERMS.items():
                if data.get(name) not in (None, []):
                    self.add_error(name, f"{what} a usage rate and unit on this line: enter them, or clear this.")
        return data

    def priced_line(self) -> dict[str, Any] | None:
        """The line for bid_save_draft, or None when the row was left blank."""
        data = self.cleaned_data
        if data.get("monthly_charge") is None:
            return None
        return {
            "rfq_line": self.line,
            "monthly_charge": data["monthly_charge"],
            "one_time_charge": data.get("one_time_charge") or Decimal(0),
            "usage_rate": data.get("usage_rate"),
            "usage_unit": data.get("usage_unit", ""),
            "increment": data.get("increment"),
            "tiers": data.get("tiers") or [],
            "minimum_commitment": data.get("minimum_commitment"),
            "term_months": data["term_months"],
            "install_days": data["install_days"],
            "compliance": {f["name"]: bool(data.get(f"comply_{f['name']}")) for f in self.features},
            "notes": data.get("notes", ""),
        }


def bid_line_initial(bid_line: Any) -> dict[str, Any]:
    """Fill a row from a saved bid line."""
    initial = {
        "monthly_charge": bid_line.monthly_charge,
        "one_time_charge": bid_line.one_time_charge,
        "usage_rate": bid_line.usage_rate.normalize() if bid_line.usage_rate is not None else None,
        "usage_unit": bid_line.usage_unit,
        "increment": plain(bid_line.increment) if bid_line.increment is not None else None,
        "tiers": tiers_text(bid_line.usage_tiers),
        "minimum_commitment": bid_line.minimum_commitment,
        "term_months": bid_line.term_months,
        "install_days": bid_line.install_days,
        "notes": bid_line.notes,
    }
    for name, complies in (bid_line.compliance or {}).items():
        initial[f"comply_{name}"] = bool(complies)
    return initial


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class BidForm(forms.Form):
    """The bid-level part of the form: notes and new attachments."""

    notes = forms.CharField(
        label="Notes for the whole bid", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=8000
    )
    attachments = MultipleFileField(
        label="Add attachments", required=False, help_text="PDF, PNG or JPEG; the content is checked, not the name."
    )

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        errors = []
        for f in files:
            try:
                validate_upload(f)
            except ValidationError as exc:
                errors.append(f"{f.name}: {' '.join(exc.messages)}")
        if errors:
            raise ValidationError(errors)
        return files


# --- moderator console ---------------------------------------------------------------------------------


class ConsoleFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=[("", "Any status"), *Rfq.Status.choices], required=False)
    q = forms.CharField(label="Reference, title or buyer", required=False, max_length=100)

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {k: (v or "").strip() for k, v in self.cleaned_data.items()}


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label="Reason for suspending",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="Every participant is told this reason.",
    )
