"""Number formats for invoices: unit prices keep the digits they have, and at least cents."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
CENT = Decimal("0.01")


@register.filter
def unit_price(value: object) -> str:
    """0.020000 -> 0.02, 0.012500 -> 0.0125, 1200.000000 -> 1200.00."""
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return ""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        number = number.quantize(CENT)
    return f"{number:f}"
