"""Request type for views behind LoginRequiredMiddleware, where request.user is a real User."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from marketplace.models import User


class AuthedHttpRequest(HttpRequest):
    user: User  # type: ignore[assignment]
    htmx: HtmxDetails
