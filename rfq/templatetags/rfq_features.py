"""Template filters for request lines (used by the carrier-facing PDF summary)."""

from __future__ import annotations

from typing import Any

from django import template

from rfq.forms_seller import feature_rows

register = template.Library()


@register.filter
def features(line: Any) -> list[dict[str, Any]]:
    """The features a line asks for, with the catalogue's labels and units."""
    return feature_rows(line)
