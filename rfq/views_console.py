"""Moderator console for requests: every request, its participants and audit trail, and suspension.

Before the deadline the moderator sees bid metadata only (bid_metadata_for_moderator), never prices.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplace.http import AuthedHttpRequest
from marketplace.models import AuditEvent
from marketplace.selectors import moderator_get
from marketplace.services import DomainError
from rfq import selectors, services
from rfq.forms_seller import ConsoleFilterForm, SuspendForm, feature_rows
from rfq.models import Bid, Question, Rfq, RfqInvitation

S = Rfq.Status
PAGE_SIZE = 25
AUDIT_LIMIT = 200


def console_list(request: AuthedHttpRequest) -> HttpResponse:
    moderator_get(user=request.user)
    form = ConsoleFilterForm(request.GET or None)
    filters = form.filters()
    queryset = selectors.rfq_list_for_moderator()
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("q"):
        q = filters["q"]
        queryset = queryset.filter(
            Q(reference__icontains=q)
            | Q(title__icontains=q)
            | Q(buyer__name__icontains=q)
            | Q(buyer__trading_name__icontains=q)
            | Q(buyer__alias__iexact=q)
        )
    page = Paginator(queryset.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "rfq/console/list.html", {"form": form, "page": page, "filtered": any(filters.values())})


def _audit_trail(rfq: Rfq) -> list[AuditEvent]:
    """Events on the request and on its invitations, questions and bids, newest first."""
    types = ContentType.objects.get_for_models(Rfq, RfqInvitation, Question, Bid)
    ids = {
        Rfq: [str(rfq.pk)],
        RfqInvitation: [str(pk) for pk in rfq.invitations.values_list("pk", flat=True)],
        Question: [str(pk) for pk in rfq.questions.values_list("pk", flat=True)],
        Bid: [str(pk) for pk in rfq.bids.values_list("pk", flat=True)],
    }
    condition = Q()
    for model, object_ids in ids.items():
        if object_ids:
            condition |= Q(content_type=types[model], object_id__in=object_ids)
    return list(AuditEvent.objects.filter(condition).order_by("-created_at", "-id")[:AUDIT_LIMIT])


def _detail_context(rfq: Rfq, suspend_form: SuspendForm | None = None) -> dict[str, Any]:
    lines = list(
        rfq.lines.select_related("service_type", "rfq_site__site", "rfq_site__organization").order_by(
            "rfq_site__organization_id", "rfq_site__site__name", "position"
        )
    )
    bids_open = rfq.bids_are_open
    return {
        "rfq": rfq,
        "lines": [{"line": line, "features": feature_rows(line)} for line in lines],
        "invitations": list(rfq.invitations.select_related("carrier").order_by("carrier__name")),
        "questions": list(rfq.questions.select_related("asked_by__carrier")),
        "addenda": list(rfq.addenda.all()),
        "bids_open": bids_open,
        # The moderator sees prices only once bids are open, like the buyer.
        "comparison": selectors.comparison_for_rfq(rfq) if bids_open else None,
        "bid_metadata": None if bids_open else selectors.bid_metadata_for_moderator(rfq),
        "digests": selectors.digests_for_rfq(rfq),
        "audit": _audit_trail(rfq),
        "can_suspend": rfq.status in services.SUSPENDABLE,
        "suspend_form": suspend_form or SuspendForm(),
    }


def console_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_moderator(user=request.user, pk=pk)
    return render(request, "rfq/console/detail.html", _detail_context(rfq))


@require_POST
def console_suspend(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rfq = selectors.rfq_get_for_moderator(user=request.user, pk=pk)
    if rfq.status not in services.SUSPENDABLE:
        # Suspended, awarded or ended meanwhile: the form is gone from the page, so say why on top.
        messages.error(request, f"{rfq.reference} is {rfq.get_status_display().lower()}; it cannot be suspended.")
        return redirect("rfq:console_detail", pk=rfq.pk)
    form = SuspendForm(request.POST)
    if form.is_valid():
        try:
            services.rfq_suspend(actor=request.user, rfq=rfq, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            # The request may have moved on (already suspended, awarded): say so above the page.
            messages.error(request, str(exc))
            return redirect("rfq:console_detail", pk=rfq.pk)
        else:
            messages.success(request, f"{rfq.reference} is suspended; every participant has been told why.")
            return redirect("rfq:console_detail", pk=rfq.pk)
    return render(request, "rfq/console/detail.html", _detail_context(rfq, form), status=400)
