"""Demo requests in every state, built through the services. Idempotent: each is keyed by its title.

Every award in the demo goes to Northwind Telecom.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from buyers.models import BuyingGroup, GroupMembership, Site
from marketplace.models import Organization, ServiceType, User
from marketplace.selectors import terms_current
from rfq import services
from rfq.models import Rfq, RfqInvitation

FEATURES = {
    "internet-dedicated": {"bandwidth_mbps": 500, "sla": "99.9%", "static_ips": 8},
    "internet-broadband": {"bandwidth_mbps": 300, "sla": "best effort"},
    "voice-sip-trunking": {"channels": 20, "numbers": 30, "minutes_per_month": 12000, "sla": "99.9%"},
    "data-mpls": {"bandwidth_mbps": 200, "sla": "99.99%", "classes_of_service": 4},
    "voice-toll-free": {"numbers": 2, "minutes_per_month": 4000},
    "mobile-plans": {"handsets": 40, "minutes_per_month": 20000, "data_gb": 20},
}
PRICES = {  # (monthly, one-time) per line, per carrier
    "Northwind Telecom": {
        "internet-dedicated": ("310.00", "900.00"),
        "internet-broadband": ("62.00", "99.00"),
        "voice-sip-trunking": ("170.00", "150.00"),
        "data-mpls": ("420.00", "1200.00"),
    },
    "Bluewave Networks": {
        "internet-dedicated": ("335.00", "600.00"),
        "internet-broadband": ("55.00", "0.00"),
        "voice-sip-trunking": ("160.00", "250.00"),
        "data-mpls": ("445.00", "800.00"),
    },
}

# Usage terms per line, per carrier: Northwind meters SIP minutes, whole minutes, cheaper above 10,000 a month,
# at least 30.00 of calls a month; they reach the comparison, the award and the contract's rate card.
USAGE: dict[str, dict[str, dict[str, Any]]] = {
    "Northwind Telecom": {
        "voice-sip-trunking": {
            "usage_rate": Decimal("0.012"),
            "usage_unit": "minute",
            "increment": Decimal("1"),
            "tiers": [(Decimal("10000"), Decimal("0.009"))],
            "minimum_commitment": Decimal("30.00"),
        },
    },
}


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _org(name: str) -> Organization:
    return Organization.objects.get(name=name)


def _sites(org: Organization, names: list[str]) -> list[Site]:
    return list(Site.objects.filter(organization=org, name__in=names, archived_at__isnull=True).order_by("name"))


def _build(
    actor: User,
    buyer: Organization,
    title: str,
    sites: list[Site],
    codes: list[str],
    *,
    spend: str = "350.00",
    visibility: str = Rfq.Visibility.OPEN,
    listed: list[Organization] | None = None,
    group: BuyingGroup | None = None,
    publish: bool = True,
) -> Rfq:
    rfq = services.rfq_create_draft(actor=actor, buyer=buyer, title=title, group=group)
    services.rfq_set_sites(actor=actor, rfq=rfq, sites=sites)
    lines = [
        {
            "rfq_site": rs,
            "service_type": ServiceType.objects.get(code=code),
            "quantity": 1,
            "features": FEATURES.get(code, {}),
        }
        for rs in rfq.rfq_sites.all()
        for code in codes
    ]
    services.rfq_set_lines(actor=actor, rfq=rfq, lines=lines)
    services.rfq_set_billing(
        actor=actor,
        rfq=rfq,
        currency="GBP",
        invoice_grouping="consolidated",
        carrier_grouping="combined",
        payment_terms_days=30,
        invoice_delivery="email",
        po_number="PO-DEMO-1",
    )
    services.rfq_set_usage(
        actor=actor,
        rfq=rfq,
        usage={
            line.pk: {
                "current_carrier": "Legacy Telecom",
                "prior_monthly_spend": Decimal(spend),
                "prior_volume": "about 2 TB a month",
            }
            for line in rfq.lines.all()
        },
    )
    services.rfq_set_visibility(actor=actor, rfq=rfq, visibility=visibility, carriers=listed or [])
    now = timezone.now()
    services.rfq_set_schedule(
        actor=actor,
        rfq=rfq,
        bid_deadline=now + timedelta(days=5),
        decision_deadline=now + timedelta(days=19),
        desired_start=(now + timedelta(days=45)).date(),
        term_months=36,
    )
    if group is not None:
        for membership in GroupMembership.objects.filter(group=group, status="active").exclude(organization=buyer):
            owner = User.objects.filter(membership__organization=membership.organization).first()
            if owner:
                services.rfq_confirm_sites(
                    actor=owner,
                    rfq=rfq,
                    organization=membership.organization,
                    site_ids=list(
                        rfq.rfq_sites.filter(organization=membership.organization).values_list("site_id", flat=True)
                    ),
                )
    if publish:
        services.rfq_publish(actor=actor, rfq=rfq)
    rfq.refresh_from_db()
    return rfq


def _bid(rfq: Rfq, carrier_name: str, email: str, *, submit: bool = True, discount: str = "0") -> None:
    carrier = _org(carrier_name)
    invitation = RfqInvitation.objects.filter(rfq=rfq, carrier=carrier).first()
    if invitation is None:
        return
    prices = PRICES[carrier_name]
    lines = []
    for line in rfq.lines.select_related("service_type"):
        if line.service_type.code not in prices:
            continue
        monthly, one_time = prices[line.service_type.code]
        lines.append(
            {
                "rfq_line": line,
                "monthly_charge": Decimal(monthly) - Decimal(discount),
                "one_time_charge": Decimal(one_time),
                "usage_rate": None,
                "usage_unit": "",
                "term_months": rfq.term_months,
                "install_days": 30 if carrier_name.startswith("North") else 45,
                "compliance": {k: True for k in line.features},
                "notes": "",
                **USAGE.get(carrier_name, {}).get(line.service_type.code, {}),
            }
        )
    if not lines:
        return
    actor = _user(email)
    services.invitation_mark_viewed(actor=actor, invitation=invitation)
    bid = services.bid_save_draft(actor=actor, invitation=invitation, lines=lines, notes="Demo bid.")
    if submit:
        services.bid_submit(actor=actor, bid=bid)


def _close(rfq: Rfq, *, decision_in: timedelta = timedelta(days=10)) -> None:
    now = timezone.now()
    Rfq.objects.filter(pk=rfq.pk).update(bid_deadline=now - timedelta(hours=1), decision_deadline=now + decision_in)
    services.rfq_open_bids(rfq_id=rfq.pk)


def _award_to_northwind(rfq: Rfq, actor: User) -> None:
    rfq.refresh_from_db()
    northwind = _org("Northwind Telecom")
    bid = rfq.bids.get(carrier=northwind)
    services.rfq_select(actor=actor, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in bid.lines.all()})
    for org_id in set(rfq.rfq_sites.values_list("organization_id", flat=True)):
        org = Organization.objects.get(pk=org_id)
        person = User.objects.filter(membership__organization=org, membership__role="owner").first()
        services.award_accept_terms(actor=person, rfq=rfq, organization=org, terms=terms_current())  # type: ignore[arg-type]


def _exists(buyer: Organization, title: str) -> bool:
    return Rfq.objects.filter(buyer=buyer, title=title).exists()


@transaction.atomic
def seed() -> list[str]:
    """Create the demo requests; return what is there."""
    acme, birch = _org("Acme Logistics"), _org("Birch Dental Group")
    alice, bea = _user("buyer@example.com"), _user("buyer2@example.com")
    made: list[str] = []

    def step(buyer: Organization, title: str, build: Any) -> None:
        if not _exists(buyer, title):
            build()
            made.append(title)

    step(
        acme,
        "Mobile plans for drivers (draft)",
        lambda: _build(
            alice,
            acme,
            "Mobile plans for drivers (draft)",
            _sites(acme, ["Leeds head office"]),
            ["mobile-plans"],
            publish=False,
        ),
    )

    def open_with_bids() -> None:
        rfq = _build(
            alice,
            acme,
            "Leased lines for the northern sites",
            _sites(acme, ["Leeds head office", "Bradford depot", "Manchester hub"]),
            ["internet-dedicated", "internet-broadband"],
        )
        _bid(rfq, "Northwind Telecom", "seller@example.com")
        _bid(rfq, "Bluewave Networks", "seller2@example.com", submit=False)

    step(acme, "Leased lines for the northern sites", open_with_bids)

    def closed_waiting() -> None:
        rfq = _build(
            bea,
            birch,
            "SIP trunking for three practices",
            _sites(birch, ["Birch Lane practice", "Didsbury practice", "Salford practice"]),
            ["voice-sip-trunking"],
            spend="210.00",
        )
        _bid(rfq, "Northwind Telecom", "seller@example.com")
        _bid(rfq, "Bluewave Networks", "seller2@example.com")
        _close(rfq)

    step(birch, "SIP trunking for three practices", closed_waiting)

    def awarded() -> None:
        rfq = _build(
            alice,
            acme,
            "MPLS between London and Manchester",
            _sites(acme, ["London office", "Manchester hub"]),
            ["data-mpls"],
            spend="520.00",
        )
        _bid(rfq, "Northwind Telecom", "seller@example.com")
        _bid(rfq, "Bluewave Networks", "seller2@example.com")
        _close(rfq)
        _award_to_northwind(rfq, alice)

    step(acme, "MPLS between London and Manchester", awarded)

    harbor = Organization.objects.filter(name="Harbor Voice Partners").first()
    if harbor is not None:
        # A reseller's award: one contract per end customer, which the reseller rebills from its usage page.
        def resold() -> None:
            hana = _user("reseller@example.com")
            rfq = _build(
                hana,
                harbor,
                "SIP trunks for Tyne Taxis and Quayside Hotels",
                _sites(harbor, ["Tyne Taxis dispatch", "Quayside Hotel", "Gateshead Inn"]),
                ["voice-sip-trunking"],
                spend="150.00",
            )
            _bid(rfq, "Northwind Telecom", "seller@example.com")
            _close(rfq)
            _award_to_northwind(rfq, hana)

        step(harbor, "SIP trunks for Tyne Taxis and Quayside Hotels", resold)

    def cancelled() -> None:
        rfq = _build(
            alice,
            acme,
            "SIP trunk for the customer service desk",
            _sites(acme, ["London office"]),
            ["voice-sip-trunking"],
        )
        services.rfq_cancel(actor=alice, rfq=rfq, reason="We moved customer service to a partner.")

    step(acme, "SIP trunk for the customer service desk", cancelled)

    def expired() -> None:
        rfq = _build(
            bea,
            birch,
            "Broadband back-up for practices",
            _sites(birch, ["Birch Lane practice"]),
            ["internet-broadband"],
            spend="160.00",
        )
        _bid(rfq, "Northwind Telecom", "seller@example.com")
        _close(rfq, decision_in=timedelta(days=1))
        Rfq.objects.filter(pk=rfq.pk).update(decision_deadline=timezone.now() - timedelta(minutes=5))
        services.rfq_expire(rfq_id=rfq.pk)

    step(birch, "Broadband back-up for practices", expired)

    fernside = Organization.objects.filter(name="Fernside Veterinary Practice").first()
    if fernside is not None and not fernside.is_verified:
        felix = User.objects.filter(membership__organization=fernside).first()
        if felix is not None:

            def awaiting() -> None:
                site, _ = Site.objects.get_or_create(
                    organization=fernside,
                    name="Fernside surgery",
                    defaults={
                        "street": "88 Fernside Road",
                        "city": "Bristol",
                        "region": "Bristol",
                        "postcode": "BS6 5JG",
                        "country": "GB",
                    },
                )
                _build(
                    felix,
                    fernside,
                    "Broadband and phones for the surgery",
                    [site],
                    ["internet-broadband", "voice-sip-trunking"],
                    spend="90.00",
                )

            step(fernside, "Broadband and phones for the surgery", awaiting)

    group = BuyingGroup.objects.filter(name="Main Street Merchants").first()
    if group is not None:

        def group_request() -> None:
            member_sites = list(
                Site.objects.filter(
                    organization__group_memberships__group=group,
                    organization__group_memberships__status="active",
                    archived_at__isnull=True,
                    end_customer__isnull=True,
                )
                .filter(organization__in=[acme, birch])
                .filter(name__in=["Manchester hub", "Stockport warehouse", "Birch Lane practice", "Didsbury practice"])
            )
            if not member_sites:
                member_sites = _sites(acme, ["Manchester hub"])
            rfq = _build(
                alice,
                acme,
                "Main Street Merchants: SD-WAN and broadband",
                member_sites,
                ["internet-broadband"],
                group=group,
                spend="80.00",
            )
            _bid(rfq, "Northwind Telecom", "seller@example.com")
            _bid(rfq, "Bluewave Networks", "seller2@example.com")

        step(acme, "Main Street Merchants: SD-WAN and broadband", group_request)

    counts = {s.label: Rfq.objects.filter(status=s).count() for s in Rfq.Status}
    return [f"Requests: {', '.join(f'{n} {label.lower()}' for label, n in counts.items() if n)}"] + [
        f"  created: {title}" for title in made
    ]
