"""Build forms from a service type's declared feature schema."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from marketplace.models import ServiceType

FEATURE_TYPES = {"int", "decimal", "choice", "bool", "text"}


def _field_for(feature: dict[str, Any]) -> forms.Field:
    kind = feature.get("type")
    label = feature.get("label") or feature["name"]
    if feature.get("unit"):
        label = f"{label} ({feature['unit']})"
    required = bool(feature.get("required")) and kind != "bool"
    common: dict[str, Any] = {"label": label, "required": required}
    if kind == "int":
        return forms.IntegerField(min_value=feature.get("min"), max_value=feature.get("max"), **common)
    if kind == "decimal":
        lo, hi = feature.get("min"), feature.get("max")
        return forms.DecimalField(
            min_value=Decimal(str(lo)) if lo is not None else None,
            max_value=Decimal(str(hi)) if hi is not None else None,
            max_digits=12,
            decimal_places=4,
            **common,
        )
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—")] + [(c, c) for c in feature.get("choices", [])], **common)
    if kind == "bool":
        return forms.BooleanField(**common)
    if kind == "text":
        return forms.CharField(max_length=feature.get("max_length", 100), **common)
    raise ValueError(f"Unknown feature type {kind!r} in {feature.get('name')!r}")


def feature_form_class(service_type: ServiceType) -> type[forms.Form]:
    """Return a form class with one field per feature the service type declares."""
    fields = {feature["name"]: _field_for(feature) for feature in service_type.features}
    return type(f"{service_type.code.title().replace('-', '')}FeaturesForm", (forms.Form,), fields)


def validate_feature_schema(features: Any) -> list[str]:
    """Return the problems of a feature schema, empty when it is well formed."""
    problems: list[str] = []
    if not isinstance(features, list):
        return ["The feature schema must be a list."]
    names = set()
    for i, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not feature.get("name"):
            problems.append(f"Feature {i} needs a name.")
            continue
        if feature["name"] in names:
            problems.append(f"Feature {feature['name']!r} is declared twice.")
        names.add(feature["name"])
        if feature.get("type") not in FEATURE_TYPES:
            problems.append(f"Feature {feature['name']!r} has an unknown type {feature.get('type')!r}.")
        if feature.get("type") == "choice" and not feature.get("choices"):
            problems.append(f"Feature {feature['name']!r} is a choice with no choices.")
    return problems
