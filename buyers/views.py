"""Buyer portal pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from marketplace import selectors
from marketplace.http import AuthedHttpRequest


def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    membership = selectors.buyer_membership_get(user=request.user)
    org = membership.organization
    return render(
        request,
        "buyers/dashboard.html",
        {
            "org": org,
            "is_owner": membership.role == "owner",
            "members": org.memberships.select_related("user"),
        },
    )
