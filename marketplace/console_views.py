"""Moderator console: overview and the verification queue shared by buyers and carriers."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplace import selectors, services
from marketplace.forms import RejectForm
from marketplace.http import AuthedHttpRequest
from marketplace.models import Organization


def _organization_for_moderator(*, user, pk: int) -> Organization:  # type: ignore[no-untyped-def]
    selectors.moderator_get(user=user)
    org = Organization.objects.filter(pk=pk).prefetch_related("memberships__user").first()
    if org is None:
        raise Http404("No such organisation.")
    return org


def console_home(request: AuthedHttpRequest) -> HttpResponse:
    selectors.moderator_get(user=request.user)
    counts = Organization.objects.aggregate(
        pending=Count("id", filter=Q(verification_status=Organization.Verification.PENDING)),
        buyers=Count("id", filter=Q(kind=Organization.Kind.BUYER)),
        carriers=Count("id", filter=Q(kind=Organization.Kind.CARRIER)),
    )
    return render(
        request,
        "marketplace/console/home.html",
        {"counts": counts, "events": selectors.audit_events_recent(limit=15)},
    )


def verification_queue(request: AuthedHttpRequest) -> HttpResponse:
    selectors.moderator_get(user=request.user)
    kind = request.GET.get("kind", "")
    queryset = selectors.organizations_awaiting_review()
    if kind in Organization.Kind.values:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    return render(request, "marketplace/console/verification_queue.html", {"page": page, "kind": kind})


def organization_review(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    org = _organization_for_moderator(user=request.user, pk=pk)
    return render(
        request,
        "marketplace/console/organization_review.html",
        {
            "org": org,
            "documents": selectors.documents_for_organization(organization=org),
            "reject_form": RejectForm(),
            "can_decide": org.verification_status == "pending",
        },
    )


@require_POST
def organization_verify(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    org = _organization_for_moderator(user=request.user, pk=pk)
    try:
        services.organization_verify(actor=request.user, organization=org)
    except services.DomainError as exc:
        messages.error(request, str(exc))
        return redirect("console:organization_review", pk=org.pk)
    messages.success(request, f"{org.display_name} is verified.")
    return redirect("console:verification_queue")


@require_POST
def organization_reject(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    org = _organization_for_moderator(user=request.user, pk=pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.organization_reject(actor=request.user, organization=org, reason=form.cleaned_data["reason"])
        except services.DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{org.display_name} was rejected; they have been told why.")
            return redirect("console:verification_queue")
    return render(
        request,
        "marketplace/console/organization_review.html",
        {
            "org": org,
            "documents": selectors.documents_for_organization(organization=org),
            "reject_form": form,
            "can_decide": org.verification_status == "pending",
        },
        status=400,
    )
