"""Friendly error pages that never fail themselves."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _render(request: HttpRequest, template: str, status: int, context: dict | None = None) -> HttpResponse:
    return HttpResponse(loader.render_to_string(template, context or {}, request), status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return _render(request, "403.html", 403, {"exception": message})


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse(loader.get_template("500.html").render(), status=500)
