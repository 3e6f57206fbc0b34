"""How a bid line's usage terms read on the pages that show its prices."""

from __future__ import annotations

from typing import Any

from django import template

from rfq.usage_terms import terms_phrases

register = template.Library()


@register.filter
def usage_terms(line: Any) -> list[str]:
    """The line's usage rate, increment, tiers and commitment as short phrases; empty without a usage rate."""
    return terms_phrases(line)
