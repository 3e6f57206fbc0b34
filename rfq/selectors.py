"""Reads for requests: one access function per actor, the anonymous carrier view, the comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404

from buyers.models import BuyerProfile, GroupMembership
from marketplace.models import Membership, Organization, User
from marketplace.selectors import membership_for_user
from rfq.models import Award, AwardLine, Bid, BidLine, Question, Rfq, RfqInvitation, RfqLine, RfqSite

S = Rfq.Status


def _buyer_org_ids(user: User) -> int | None:
    membership = membership_for_user(user)
    if membership is None or membership.organization.kind != Organization.Kind.BUYER:
        return None
    return membership.organization_id


def rfqs_for_buyer_org(organization_id: int) -> QuerySet[Rfq]:
    """Requests the organisation made, or takes part in through a buying group."""
    group_ids = GroupMembership.objects.filter(organization_id=organization_id, status="active").values("group_id")
    return Rfq.objects.filter(
        Q(buyer_id=organization_id)
        | Q(group_id__in=group_ids, status__in=[s for s in S.values if s != S.DRAFT])
        | Q(rfq_sites__organization_id=organization_id)
    ).distinct()


def rfq_list_for_buyer(*, user: User, status: str = "") -> QuerySet[Rfq]:
    """The buyer's requests, newest first, with counts for the list."""
    org_id = _buyer_org_ids(user)
    if org_id is None:
        raise Http404("No such page.")
    qs = (
        rfqs_for_buyer_org(org_id)
        .select_related("group")
        .annotate(invited=Count("invitations", distinct=True), lines_count=Count("lines", distinct=True))
    )
    if status in S.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def rfq_get_for_buyer(*, user: User, pk: int) -> Rfq:
    """Return a request the user's organisation made or takes part in, or raise Http404."""
    org_id = _buyer_org_ids(user)
    if org_id is None:
        raise Http404("No such request.")
    rfq = rfqs_for_buyer_org(org_id).select_related("buyer", "group").filter(pk=pk).first()
    if rfq is None:
        raise Http404("No such request.")
    return rfq


def rfq_get_for_buyer_editor(*, user: User, pk: int) -> Rfq:
    """Return a request the user's own organisation made (the lead, for a group), or raise Http404."""
    rfq = rfq_get_for_buyer(user=user, pk=pk)
    if rfq.buyer_id != _buyer_org_ids(user):
        raise Http404("No such request.")
    return rfq


def _carrier_id(user: User) -> int | None:
    membership = membership_for_user(user)
    if membership is None or membership.organization.kind != Organization.Kind.CARRIER:
        return None
    return membership.organization_id


def invitation_list_for_seller(
    *, user: User, service_type: str = "", region: str = "", state: str = "", deadline: str = ""
) -> QuerySet[RfqInvitation]:
    """The carrier's invitations with filters; the carrier sees a request only through one."""
    carrier_id = _carrier_id(user)
    if carrier_id is None:
        raise Http404("No such page.")
    qs = RfqInvitation.objects.filter(carrier_id=carrier_id).select_related("rfq", "rfq__group", "rfq__buyer")
    if service_type:
        qs = qs.filter(rfq__lines__service_type__code=service_type)
    if region:
        qs = qs.filter(rfq__rfq_sites__site__region__iexact=region)
    if state == "open":
        qs = qs.filter(rfq__status=S.OPEN)
    elif state == "closed":
        qs = qs.exclude(rfq__status=S.OPEN)
    elif state in RfqInvitation.State.values:
        qs = qs.filter(state=state)
    if deadline == "week":
        from datetime import timedelta

        from django.utils import timezone

        qs = qs.filter(rfq__status=S.OPEN, rfq__bid_deadline__lte=timezone.now() + timedelta(days=7))
    return qs.distinct().order_by("rfq__bid_deadline", "-id")


def invitation_get_for_seller(*, user: User, rfq_pk: int) -> RfqInvitation:
    """Return the carrier's invitation to the request, or raise Http404: no invitation, no request."""
    carrier_id = _carrier_id(user)
    if carrier_id is None:
        raise Http404("No such request.")
    # rfq__pk, not rfq_id: Django checks an id against the column's range only on the key itself, so an id from
    # the URL past 64 bits would crash SQLite here instead of finding nothing.
    invitation = (
        RfqInvitation.objects.select_related("rfq", "rfq__buyer", "rfq__group", "carrier")
        .filter(carrier_id=carrier_id, rfq__pk=rfq_pk)
        .first()
    )
    if invitation is None:
        raise Http404("No such request.")
    return invitation


def seller_can_write(user: User) -> bool:
    membership = membership_for_user(user)
    return membership is not None and membership.role in (Membership.Role.ADMIN, Membership.Role.SALES)


def rfq_list_for_moderator() -> QuerySet[Rfq]:
    return Rfq.objects.select_related("buyer", "group").annotate(
        invited=Count("invitations", distinct=True),
        bid_count=Count("bids", filter=Q(bids__status=Bid.Status.SUBMITTED), distinct=True),
    )


def rfq_get_for_moderator(*, user: User, pk: int) -> Rfq:
    if not getattr(user, "is_moderator", False):
        raise Http404("No such request.")
    rfq = Rfq.objects.select_related("buyer", "group").filter(pk=pk).first()
    if rfq is None:
        raise Http404("No such request.")
    return rfq


# --- what a carrier sees ----------------------------------------------------------------------------


def site_location(site: Any, precision: str) -> str:
    """A site's location at the precision the buyer chose: street, postcode or city."""
    if precision == "street":
        return f"{site.street}, {site.city} {site.postcode}, {site.country}"
    if precision == "postcode":
        return f"{site.postcode}, {site.city}, {site.country}"
    return f"{site.city}{', ' + site.region if site.region else ''}, {site.country}"


@dataclass
class SellerView:
    """Everything a carrier may know about a request; identity only once it has won."""

    rfq: Rfq
    alias: str
    industry: str
    size_band: str
    regions: list[str]
    site_count: int
    buyer_count: int
    sites: list[dict[str, Any]]
    questions: list[Question]
    addenda: list[Any]
    revealed: Organization | None = None
    revealed_contacts: list[User] = field(default_factory=list)


def rfq_seller_view(rfq: Rfq, *, carrier_id: int | None = None) -> SellerView:
    """Build the anonymous view of a request for a carrier (the winner also gets the buyer's identity)."""
    from rfq.services import buyer_alias

    rfq_sites = list(
        RfqSite.objects.filter(rfq=rfq)
        .select_related("site")
        .prefetch_related(Prefetch("lines", queryset=RfqLine.objects.select_related("service_type")))
        .order_by("organization_id", "site_id")
    )
    org_ids = {rs.organization_id for rs in rfq_sites}
    profiles = list(BuyerProfile.objects.filter(organization_id__in=org_ids))
    industries = sorted({p.get_industry_display() for p in profiles if p.industry})
    bands = sorted({p.get_employee_band_display() for p in profiles if p.employee_band})
    revealed = None
    contacts: list[User] = []
    if carrier_id is not None:
        award = Award.objects.filter(rfq=rfq, carrier_id=carrier_id).select_related("buyer").first()
        if award is not None:
            revealed = award.buyer
            contacts = list(
                User.objects.filter(membership__organization=award.buyer, membership__role=Membership.Role.OWNER)
            )
    sites = []
    for index, rs in enumerate(rfq_sites, start=1):
        label = rs.site.name if revealed and rs.organization_id == revealed.pk else f"Site {index}"
        location = (
            site_location(rs.site, "street")
            if revealed and rs.organization_id == revealed.pk
            else site_location(rs.site, rfq.site_precision)
        )
        sites.append({"label": label, "location": location, "lines": list(rs.lines.all())})
    return SellerView(
        rfq=rfq,
        alias=buyer_alias(rfq),
        industry=", ".join(industries) or "Not stated",
        size_band=", ".join(bands) or "Not stated",
        regions=sorted({rs.site.region or rs.site.city for rs in rfq_sites}),
        site_count=len(rfq_sites),
        buyer_count=len(org_ids),
        sites=sites,
        questions=list(rfq.questions.filter(answered_at__isnull=False)),
        addenda=list(rfq.addenda.all()),
        revealed=revealed,
        revealed_contacts=contacts,
    )


def digests_for_rfq(rfq: Rfq) -> list[dict[str, Any]]:
    """The digests every participant sees once bids open: carrier anonymised as a bid number."""
    if not rfq.bids_are_open:
        return []
    rows = []
    for index, bid in enumerate(rfq.bids.filter(status=Bid.Status.SUBMITTED).order_by("submitted_at", "id"), start=1):
        rows.append({"label": f"Bid {index}", "digest": bid.digest, "submitted_at": bid.submitted_at, "bid_id": bid.pk})
    return rows


# --- comparison ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    bid_line: BidLine | None
    whole_term: Decimal | None = None
    best: bool = False


@dataclass
class Row:
    line: RfqLine
    site_name: str
    cells: list[Cell]
    prior_whole_term: Decimal | None


@dataclass
class Comparison:
    bids: list[Bid]
    rows: list[Row]
    totals: list[dict[str, Any]]


def comparison_for_rfq(rfq: Rfq, *, sort: str = "") -> Comparison:
    """A matrix of submitted bids by line: monthly, one-time and whole-term cost, best per row.

    A bid that leaves a line unpriced is marked not comparable rather than looking cheaper.
    """
    bids = list(
        rfq.bids.filter(status=Bid.Status.SUBMITTED)
        .select_related("carrier")
        .prefetch_related("lines")
        .order_by("submitted_at", "id")
    )
    lines = list(
        rfq.lines.select_related("service_type", "rfq_site__site", "rfq_site__organization").order_by(
            "rfq_site__organization_id", "rfq_site__site__name", "position"
        )
    )
    term = rfq.term_months or 1
    by_bid = {bid.pk: {bl.rfq_line_id: bl for bl in bid.lines.all()} for bid in bids}
    rows = []
    for line in lines:
        cells = []
        for bid in bids:
            bl = by_bid[bid.pk].get(line.pk)
            whole = (bl.monthly_charge * term + bl.one_time_charge) if bl else None
            cells.append(Cell(bid_line=bl, whole_term=whole))
        priced = [c.whole_term for c in cells if c.whole_term is not None]
        if priced:
            best = min(priced)
            for c in cells:
                c.best = c.whole_term == best
        prior = line.prior_monthly_spend * term if line.prior_monthly_spend is not None else None
        rows.append(Row(line=line, site_name=line.rfq_site.site.name, cells=cells, prior_whole_term=prior))
    prior_total = sum((r.prior_whole_term for r in rows if r.prior_whole_term is not None), Decimal(0))
    has_prior = any(r.prior_whole_term is not None for r in rows)
    totals = []
    for index, bid in enumerate(bids):
        cells = [r.cells[index] for r in rows]
        comparable = all(c.bid_line is not None for c in cells)
        monthly = sum((c.bid_line.monthly_charge for c in cells if c.bid_line), Decimal(0))
        one_time = sum((c.bid_line.one_time_charge for c in cells if c.bid_line), Decimal(0))
        whole = sum((c.whole_term for c in cells if c.whole_term is not None), Decimal(0))
        totals.append(
            {
                "bid": bid,
                "comparable": comparable,
                "missing": sum(1 for c in cells if c.bid_line is None),
                "monthly": monthly,
                "one_time": one_time,
                "whole_term": whole,
                "saving": (prior_total - whole) if comparable and has_prior else None,
                "max_install": max((c.bid_line.install_days for c in cells if c.bid_line), default=None),
            }
        )
    comparable_totals: list[Decimal] = [Decimal(str(t["whole_term"])) for t in totals if t["comparable"]]
    best_total = min(comparable_totals) if comparable_totals else None
    for t in totals:
        t["best"] = t["comparable"] and t["whole_term"] == best_total
    if sort == "total":
        order = sorted(range(len(bids)), key=lambda i: (not totals[i]["comparable"], totals[i]["whole_term"]))
        bids = [bids[i] for i in order]
        totals = [totals[i] for i in order]
        for r in rows:
            r.cells = [r.cells[i] for i in order]
    return Comparison(bids=bids, rows=rows, totals=totals)


def buyer_progress(rfq: Rfq) -> dict[str, int]:
    """What the buyer may know before the deadline: invited and viewed counts, never prices."""
    counts = rfq.invitations.aggregate(invited=Count("id"), viewed=Count("id", filter=Q(viewed_at__isnull=False)))
    return {"invited": counts["invited"] or 0, "viewed": counts["viewed"] or 0}


def bid_metadata_for_moderator(rfq: Rfq) -> list[dict[str, Any]]:
    """Bid metadata without prices, for the moderator console before the deadline."""
    return [
        {
            "carrier": bid.carrier,
            "status": bid.get_status_display(),
            "submitted_at": bid.submitted_at,
            "revisions": bid.revision_count,
            "needs_reconfirmation": bid.needs_reconfirmation,
        }
        for bid in rfq.bids.select_related("carrier").annotate(revision_count=Count("revisions"))
    ]


# --- marketplace metrics (moderator console) ------------------------------------------------------------


def procurement_by_month(*, since: datetime) -> dict[date, dict[str, int]]:
    """Requests published, bids received and requests awarded per UTC month since `since`, in three GROUP BYs.

    Bids count only on requests whose deadline has passed: until then the moderator's pages keep bids sealed,
    their number included.
    """
    from django.utils import timezone

    months: dict[date, dict[str, int]] = {}

    def add(rows: Any, key: str) -> None:
        for row in rows:
            month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
            months.setdefault(month, {"published": 0, "bids": 0, "awarded": 0})[key] = row["n"]

    add(
        Rfq.objects.filter(published_at__gte=since)
        .annotate(month=TruncMonth("published_at", tzinfo=UTC))
        .values("month")
        .annotate(n=Count("id"))
        .order_by(),
        "published",
    )
    add(
        Bid.objects.filter(status=Bid.Status.SUBMITTED, submitted_at__gte=since, rfq__bid_deadline__lte=timezone.now())
        .annotate(month=TruncMonth("submitted_at", tzinfo=UTC))
        .values("month")
        .annotate(n=Count("id"))
        .order_by(),
        "bids",
    )
    add(
        Award.objects.filter(accepted_at__gte=since)
        .annotate(month=TruncMonth("accepted_at", tzinfo=UTC))
        .values("month")
        .annotate(n=Count("rfq_id", distinct=True))
        .order_by(),
        "awarded",
    )
    return months


def procurement_summary() -> dict[str, Any]:
    """Bids per opened request, days from publication to award, and savings on prior spend per currency."""
    from django.utils import timezone

    opened = Rfq.objects.filter(published_at__isnull=False, bid_deadline__lte=timezone.now())
    counts = opened.aggregate(
        requests=Count("id", distinct=True),
        bids=Count("bids", filter=Q(bids__status=Bid.Status.SUBMITTED), distinct=True),
    )
    first_awards = (
        Rfq.objects.filter(published_at__isnull=False, awards__isnull=False)
        .annotate(first_award=Min("awards__accepted_at"))
        .aggregate(avg=Avg(F("first_award") - F("published_at")), n=Count("id", distinct=True))
    )
    savings: list[dict[str, Any]] = [
        dict(row)
        for row in AwardLine.objects.filter(rfq_line__prior_monthly_spend__isnull=False)
        .values(currency=F("award__currency"))
        .annotate(prior=Sum("rfq_line__prior_monthly_spend"), awarded=Sum("monthly_charge"), lines=Count("id"))
        .order_by("currency")
    ]
    cent = Decimal("0.01")
    for row in savings:
        # Sums of two-place amounts; quantising only drops SQLite's trailing digits.
        row["prior"], row["awarded"] = Decimal(row["prior"]).quantize(cent), Decimal(row["awarded"]).quantize(cent)
        row["saved"] = row["prior"] - row["awarded"]
        row["percent"] = (row["saved"] / row["prior"] * 100).quantize(Decimal("0.1")) if row["prior"] else None
    avg = first_awards["avg"]
    return {
        "opened_requests": counts["requests"],
        "bids_per_request": (Decimal(counts["bids"]) / counts["requests"]).quantize(Decimal("0.1"))
        if counts["requests"]
        else None,
        "awarded_requests": first_awards["n"],
        "days_to_award": Decimal(avg.total_seconds() / 86400).quantize(Decimal("0.1")) if avg is not None else None,
        "savings": savings,
    }
