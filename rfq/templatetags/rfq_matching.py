"""What a carrier's criteria sets would receive today; used by the sellers' criteria page.

A template tag keeps the dependency pointing the right way: rfq knows sellers, sellers' Python never imports rfq.
"""

from __future__ import annotations

from typing import Any

from django import template

from rfq.matching import open_request_counts_by_criteria

register = template.Library()


@register.simple_tag(takes_context=True)
def open_requests_matching(context: Any, criteria: Any) -> int:
    """How many open requests the criteria set matches now (one query per page, whatever the rows)."""
    # Included row templates each get a fresh render context, so the counts are kept on the request.
    holder = context.get("request") or context.render_context
    cache: dict[int, dict[int, int]] = getattr(holder, "_rfq_open_counts", None) or {}
    if criteria.organization_id not in cache:
        cache[criteria.organization_id] = open_request_counts_by_criteria(criteria.organization_id)
        holder._rfq_open_counts = cache
    return cache[criteria.organization_id].get(criteria.pk, 0)
