"""Billing pages for moderators and billing agents."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from marketplace import selectors
from marketplace.http import AuthedHttpRequest


def home(request: AuthedHttpRequest) -> HttpResponse:
    selectors.billing_actor_get(user=request.user)
    return render(request, "billing/home.html", {})
