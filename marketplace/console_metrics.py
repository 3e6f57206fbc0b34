"""Moderator console: how the marketplace is doing, month by month (seed 004 claim 30).

The core imports no app at module level; this page reads the apps' own selectors, as the availability page does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from marketplace import selectors
from marketplace.http import AuthedHttpRequest

MONTHS = 12


def _months_back(today: date, count: int) -> list[date]:
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return months


def metrics(request: AuthedHttpRequest) -> HttpResponse:
    from billing.selectors import billed_by_month
    from rfq.selectors import procurement_by_month, procurement_summary

    selectors.moderator_get(user=request.user)
    months = _months_back(timezone.now().astimezone(UTC).date(), MONTHS)
    since = months[-1]
    activity = procurement_by_month(since=datetime(since.year, since.month, 1, tzinfo=UTC))
    billed = billed_by_month(since=since)
    empty = {"published": 0, "bids": 0, "awarded": 0}
    rows = [{"month": m, **activity.get(m, empty), "billed": billed.get(m, [])} for m in months]
    peak = max([1, *(activity.get(m, empty)["published"] for m in months)])
    return render(
        request,
        "marketplace/console/metrics.html",
        {"rows": rows, "peak": peak, "summary": procurement_summary(), "has_activity": any(activity) or any(billed)},
    )
