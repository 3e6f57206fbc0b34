"""The public service availability check.

It sits beside the root URLconf rather than in views.py because it reads carriers' coverage: the core
app's own pages import no other app, and this is the one public page that composes the catalogue with
the sellers app.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from marketplace import selectors
from marketplace.forms import AvailabilityForm
from sellers import selectors as sellers_selectors


@login_not_required
def availability(request: HttpRequest) -> HttpResponse:
    form = AvailabilityForm(request.GET or None)
    results = sellers_selectors.availability_at(**form.cleaned_data) if form.is_valid() else None
    if not request.user.is_authenticated:
        next_step = {"url": reverse("account_signup"), "label": "Create a free account"}
    elif selectors.portal_for_user(request.user) == "buyer":
        next_step = {"url": reverse("rfq:create"), "label": "Start a request for quote"}
    else:
        next_step = None  # carriers, moderators and billing agents do not post requests
    context = {
        "form": form,
        "results": results,
        "place": form.place() if results is not None else "",
        "regions": sellers_selectors.coverage_region_names(),
        "next_step": next_step,
    }
    return render(request, "marketplace/availability.html", context, status=400 if form.errors else 200)
