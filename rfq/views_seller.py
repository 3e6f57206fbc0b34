"""Carrier pages for requests: the inbox, the anonymous request page, the sealed bid and its receipts.

A carrier reaches a request only through its invitation (invitation_get_for_seller raises 404 otherwise),
and everything it sees of the buyer comes from rfq_seller_view: the alias until it has won.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from marketplace.http import AuthedHttpRequest
from marketplace.services import DomainError
from rfq import selectors, services
from rfq.forms_seller import (
    BidForm,
    BidLineForm,
    DeclineForm,
    InboxFilterForm,
    QuestionForm,
    bid_line_initial,
    feature_rows,
)
from rfq.models import Bid, BidRevision, Rfq, RfqInvitation, RfqLine

S = Rfq.Status
PAGE_SIZE = 20


# --- access ---------------------------------------------------------------------------------------------


def _invitation(request: AuthedHttpRequest, pk: int) -> RfqInvitation:
    return selectors.invitation_get_for_seller(user=request.user, rfq_pk=pk)


def _require_write(request: AuthedHttpRequest) -> None:
    # Checked after the invitation lookup, so an outsider gets 404 before a read-only member gets 403.
    if not selectors.seller_can_write(request.user):
        raise PermissionDenied("Your role can read requests but not answer them.")


def _open_if_due(rfq: Rfq) -> Rfq:
    """Open the bids now if the deadline passed and the beat task has not run yet."""
    if rfq.status == S.OPEN and rfq.bid_deadline is not None and rfq.bid_deadline <= timezone.now():
        services.rfq_open_bids(rfq_id=rfq.pk)
        rfq.refresh_from_db()
    return rfq


def _bidding_open(rfq: Rfq) -> bool:
    return rfq.status == S.OPEN and rfq.bid_deadline is not None and timezone.now() < rfq.bid_deadline


def _own_bid(invitation: RfqInvitation) -> Bid | None:
    return (
        Bid.objects.filter(invitation=invitation)
        .prefetch_related(
            "lines", "attachments", Prefetch("revisions", queryset=BidRevision.objects.order_by("number"))
        )
        .first()
    )


# --- inbox ----------------------------------------------------------------------------------------------


def inbox(request: AuthedHttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    queryset = (
        selectors.invitation_list_for_seller(user=request.user, **form.filters())
        .select_related("bid")
        .annotate(buyer_orgs=Count("rfq__rfq_sites__organization", distinct=True))
        .prefetch_related(Prefetch("rfq__lines", queryset=RfqLine.objects.select_related("service_type")))
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for invitation in page.object_list:
        rfq = invitation.rfq
        bid = getattr(invitation, "bid", None)
        rows.append(
            {
                "invitation": invitation,
                "rfq": rfq,
                "alias": services.buyer_alias(rfq, buyer_count=invitation.buyer_orgs),  # type: ignore[attr-defined]
                "services": sorted({line.service_type.name for line in rfq.lines.all()}),
                "bid": bid,
                "bidding_open": rfq.status == S.OPEN and rfq.bid_deadline is not None and now < rfq.bid_deadline,
            }
        )
    return render(
        request,
        "rfq/seller/inbox.html",
        {"form": form, "page": page, "rows": rows, "filtered": any(form.filters().values())},
    )


# --- the request page -----------------------------------------------------------------------------------


def _site_rows(view: selectors.SellerView) -> list[dict[str, Any]]:
    return [
        {**site, "lines": [{"line": line, "features": feature_rows(line)} for line in site["lines"]]}
        for site in view.sites
    ]


def _detail_context(request: AuthedHttpRequest, invitation: RfqInvitation, **forms: Any) -> dict[str, Any]:
    rfq = invitation.rfq
    view = selectors.rfq_seller_view(rfq, carrier_id=invitation.carrier_id)
    bid = _own_bid(invitation)
    digests = selectors.digests_for_rfq(rfq)
    for row in digests:
        row["mine"] = bid is not None and row.pop("bid_id") == bid.pk
    won = view.revealed is not None
    submitted = bid is not None and bid.status == Bid.Status.SUBMITTED
    return {
        "invitation": invitation,
        "rfq": rfq,
        "view": view,
        "sites": _site_rows(view),
        "bid": bid,
        "revisions": list(bid.revisions.all()) if bid else [],
        "my_questions": list(invitation.questions.all()),
        "digests": digests,
        "can_write": selectors.seller_can_write(request.user),
        "bidding_open": _bidding_open(rfq),
        "won": won,
        "lost": not won and submitted and rfq.status == S.AWARDED,
        "prior_bills": list(rfq.prior_bills.all()) if won else [],
        "decline_form": forms.get("decline_form") or DeclineForm(),
        "question_form": forms.get("question_form") or QuestionForm(),
    }


def request_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    invitation = services.invitation_mark_viewed(actor=request.user, invitation=invitation)
    _open_if_due(invitation.rfq)
    return render(request, "rfq/seller/detail.html", _detail_context(request, invitation))


@require_POST
def respond(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    _require_write(request)
    intends = request.POST.get("action") == "intend"
    form = DeclineForm(request.POST)
    if not intends and not form.is_valid():
        context = _detail_context(request, invitation, decline_form=form)
        return render(request, "rfq/seller/detail.html", context, status=400)
    reason = "" if intends else form.cleaned_data["reason"]
    try:
        services.invitation_respond(actor=request.user, invitation=invitation, intends=intends, reason=reason)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Noted: you intend to bid." if intends else "You declined this request.")
    return redirect("rfq:seller_detail", pk=pk)


@require_POST
def ask(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    _require_write(request)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_ask(actor=request.user, invitation=invitation, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Your question was sent. The answer will be published to every bidder.")
            return redirect("rfq:seller_detail", pk=pk)
    return render(
        request, "rfq/seller/detail.html", _detail_context(request, invitation, question_form=form), status=400
    )


def summary_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    from rfq.pdf import rfq_summary_pdf

    invitation = _invitation(request, pk)
    response = HttpResponse(rfq_summary_pdf(invitation.rfq), content_type="application/pdf")
    # The reference only: a file name must never carry the buyer's name.
    response["Content-Disposition"] = f'attachment; filename="{invitation.rfq.reference}.pdf"'
    return response


def prior_bill_download(request: AuthedHttpRequest, pk: int, bill_pk: int) -> FileResponse:
    invitation = _invitation(request, pk)
    view = selectors.rfq_seller_view(invitation.rfq, carrier_id=invitation.carrier_id)
    bill = invitation.rfq.prior_bills.filter(pk=bill_pk).first()
    # Prior bills identify the buyer: only the winner gets them, after award.
    if view.revealed is None or bill is None:
        raise Http404("No such file.")
    return FileResponse(
        bill.file.open("rb"), as_attachment=True, filename=bill.original_name, content_type=bill.content_type
    )


# --- the bid --------------------------------------------------------------------------------------------


def _bid_rows(
    view: selectors.SellerView, bid: Bid | None, data: Any = None
) -> tuple[list[dict[str, Any]], list[BidLineForm]]:
    saved = {bl.rfq_line_id: bl for bl in bid.lines.all()} if bid else {}
    rows, forms = [], []
    for site in view.sites:
        for line in site["lines"]:
            initial = bid_line_initial(saved[line.pk]) if line.pk in saved else None
            form = BidLineForm(data, line=line, initial=initial)
            forms.append(form)
            rows.append({"site": site, "line": line, "form": form})
    return rows, forms


def _bid_context(
    request: AuthedHttpRequest, invitation: RfqInvitation, bid: Bid | None, data: Any = None, files: Any = None
) -> dict[str, Any]:
    rfq = invitation.rfq
    view = selectors.rfq_seller_view(rfq, carrier_id=invitation.carrier_id)
    rows, forms = _bid_rows(view, bid, data)
    bid_form = BidForm(data, files, initial={"notes": bid.notes if bid else ""})
    return {
        "invitation": invitation,
        "rfq": rfq,
        "view": view,
        "bid": bid,
        "rows": rows,
        "line_forms": forms,
        "bid_form": bid_form,
        "revisions": list(bid.revisions.all()) if bid else [],
        "can_write": selectors.seller_can_write(request.user),
        "bidding_open": _bidding_open(rfq),
    }


def bid_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    if request.method == "POST":
        _require_write(request)
    _open_if_due(invitation.rfq)
    bid = _own_bid(invitation)
    if request.method != "POST":
        return render(request, "rfq/seller/bid.html", _bid_context(request, invitation, bid))

    context = _bid_context(request, invitation, bid, request.POST, request.FILES)
    line_forms: list[BidLineForm] = context["line_forms"]
    bid_form: BidForm = context["bid_form"]
    submit = request.POST.get("action") == "submit"
    if all(f.is_valid() for f in line_forms) and bid_form.is_valid():
        priced = [line for line in (f.priced_line() for f in line_forms) if line is not None]
        try:
            if submit and not priced:
                raise DomainError("Price at least one line before submitting.")
            # One transaction: a refused submission leaves the earlier draft as it was.
            with transaction.atomic():
                saved = services.bid_save_draft(
                    actor=request.user, invitation=invitation, lines=priced, notes=bid_form.cleaned_data["notes"]
                )
                for upload in bid_form.cleaned_data["attachments"]:
                    services.bid_attachment_add(actor=request.user, bid=saved, file=upload)
                revision = services.bid_submit(actor=request.user, bid=saved) if submit else None
        except DomainError as exc:
            bid_form.add_error(None, str(exc))
        else:
            if revision is not None:
                messages.success(request, f"Bid submitted (revision {revision.number}).")
                return redirect("rfq:seller_bid_receipt", pk=pk, number=revision.number)
            messages.success(request, "Draft saved. It stays sealed and unsent until you submit it.")
            return redirect("rfq:seller_bid", pk=pk)
    return render(request, "rfq/seller/bid.html", context, status=400)


def bid_receipt(request: AuthedHttpRequest, pk: int, number: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    revision = (
        BidRevision.objects.select_related("bid", "submitted_by")
        .filter(bid__invitation=invitation, number=number)
        .first()
    )
    if revision is None:
        raise Http404("No such receipt.")
    canonical = json.dumps(revision.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    view = selectors.rfq_seller_view(invitation.rfq, carrier_id=invitation.carrier_id)
    labels = {line.pk: (site["label"], line.service_type.name) for site in view.sites for line in site["lines"]}
    lines = [
        {**item, "site": labels.get(item["line"], ("", ""))[0], "service": labels.get(item["line"], ("", ""))[1]}
        for item in revision.content.get("lines", [])
    ]
    return render(
        request,
        "rfq/seller/receipt.html",
        {
            "invitation": invitation,
            "rfq": invitation.rfq,
            "view": view,
            "revision": revision,
            "lines": lines,
            "canonical": canonical,
            "revisions": list(revision.bid.revisions.order_by("number")),
        },
    )


@require_POST
def bid_withdraw(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    _require_write(request)
    bid = Bid.objects.filter(invitation=invitation).first()
    if bid is None:
        raise Http404("No bid to withdraw.")
    try:
        services.bid_withdraw(actor=request.user, bid=bid)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your bid is withdrawn. You can submit again until the deadline.")
    return redirect("rfq:seller_detail", pk=pk)


@require_POST
def bid_reconfirm(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    _require_write(request)
    bid = Bid.objects.filter(invitation=invitation).first()
    if bid is None:
        raise Http404("No bid to re-confirm.")
    try:
        revision = services.bid_submit(actor=request.user, bid=bid)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("rfq:seller_detail", pk=pk)
    messages.success(request, f"Bid re-confirmed (revision {revision.number}).")
    return redirect("rfq:seller_bid_receipt", pk=pk, number=revision.number)


def attachment_download(request: AuthedHttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    invitation = _invitation(request, pk)
    bid = Bid.objects.filter(invitation=invitation).first()
    attachment = bid.attachments.filter(pk=attachment_pk).first() if bid else None
    if attachment is None:
        raise Http404("No such file.")
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
