"""Who sees what in billing: carriers see only their own lines, billing agents never reach requests, list pages
keep their query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.billing import world
from tests.billing.conftest import make_contract
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_carrier_sees_its_lines_never_another_carriers_or_the_whole_invoice(cast) -> None:  # type: ignore[no-untyped-def]
    world.contract(cast)
    make_contract(
        cast.buyer_org,
        cast.other_carrier_org,
        number="CT-OTHER9",
        start=date(2026, 9, 1),
        end=date(2027, 9, 1),
        lines=[
            {"code": "data-mpls", "description": "Secret MPLS by the other carrier", "monthly_charge": Decimal("77.00")}
        ],
    )
    world.build(cast)
    mine = client_for(cast.seller_admin).get(reverse("billing:carrier_lines")).content.decode()
    assert "Leased line at Leeds office" in mine and "Secret MPLS" not in mine
    theirs = client_for(cast.other_seller).get(reverse("billing:carrier_lines")).content.decode()
    assert "Secret MPLS" in theirs and "Leased line" not in theirs
    assert client_for(cast.seller_admin).get(reverse("billing:invoice_list")).status_code == 404
    assert client_for(cast.seller_sales).get(reverse("billing:carrier_lines")).status_code == 403


def test_sales_staff_read_contracts_but_no_money(cast) -> None:  # type: ignore[no-untyped-def]
    built = world.build(cast)
    assert built.settlement is not None
    sales = client_for(cast.seller_sales)
    assert sales.get(reverse("billing:contract_detail", args=[built.contract.pk])).status_code == 200
    assert sales.get(reverse("billing:settlement_list")).status_code == 403
    assert sales.get(reverse("billing:usage_import_list")).status_code == 403


def test_billing_agent_never_reaches_requests_or_bids(cast) -> None:  # type: ignore[no-untyped-def]
    from tests.rfq import builders

    rfq = builders.published(cast.buyer_owner, [cast.carrier_org])
    agent = client_for(cast.billing_agent)
    for name, kwargs in (
        ("rfq:list", {}),
        ("rfq:detail", {"pk": rfq.pk}),
        ("rfq:seller_inbox", {}),
        ("rfq:seller_detail", {"pk": rfq.pk}),
        ("rfq:console_list", {}),
        ("rfq:console_detail", {"pk": rfq.pk}),
    ):
        assert agent.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    assert agent.get(reverse("billing:home")).status_code == 200
    contract = world.contract(cast)
    contract.rfq = rfq
    contract.save(update_fields=["rfq"])
    url = reverse("billing:contract_detail", args=[contract.pk])
    seen = agent.get(url).content.decode()
    assert rfq.reference in seen and rfq.title not in seen
    assert rfq.title in client_for(cast.moderator).get(url).content.decode()


def test_billing_agent_sees_invoices_but_cannot_record_payments(cast) -> None:  # type: ignore[no-untyped-def]
    built = world.build(cast)
    assert built.invoice is not None
    agent = client_for(cast.billing_agent)
    assert agent.get(reverse("billing:invoice_detail", args=[built.invoice.pk])).status_code == 200
    page = agent.get(reverse("billing:payment_list")).content.decode()
    assert "Record a payment" not in page
    assert agent.post(reverse("billing:payment_create"), {}).status_code == 403


def test_reseller_sees_charges_per_end_customer_and_exports_safe_csv(cast) -> None:  # type: ignore[no-untyped-def]
    from buyers.models import BuyerProfile, EndCustomer, Site

    BuyerProfile.objects.update_or_create(organization=cast.buyer_org, defaults={"is_reseller": True})
    customer = EndCustomer.objects.create(reseller=cast.buyer_org, name="=HYPERLINK(evil)", reference="+EC-1")
    world.contract(cast)
    Site.objects.filter(name="Leeds office").update(end_customer=customer)
    world.build(cast)
    client = client_for(cast.buyer_member)
    page = client.get(reverse("billing:reseller_usage") + "?period=2026-10").content.decode()
    assert "=HYPERLINK(evil)" in page and "1233.87" in page
    export = client.get(reverse("billing:reseller_usage_csv") + "?period=2026-10")
    text = export.content.decode()
    assert export["Content-Disposition"].startswith("attachment;")
    assert "'=HYPERLINK(evil)" in text and "'+EC-1" in text
    assert client_for(cast.other_buyer).get(reverse("billing:reseller_usage")).status_code == 404


@pytest.mark.parametrize(
    ("role", "name", "limit"),
    [
        ("buyer_owner", "billing:invoice_list", 12),
        ("moderator", "billing:invoice_list", 12),
        ("buyer_owner", "billing:contract_list", 12),
        ("seller_admin", "billing:contract_list", 12),
        ("seller_admin", "billing:usage_import_list", 12),
        ("moderator", "billing:usage_import_list", 12),
        ("seller_admin", "billing:settlement_list", 12),
        ("moderator", "billing:settlement_list", 12),
        ("seller_admin", "billing:carrier_lines", 12),
        ("moderator", "billing:payment_list", 14),
        ("moderator", "billing:home", 16),
        ("moderator", "billing:ledger", 14),
    ],
)
def test_list_pages_keep_their_query_count(
    cast, django_assert_max_num_queries, role: str, name: str, limit: int
) -> None:  # type: ignore[no-untyped-def]
    world.build(cast)
    for n in range(3):  # more rows must not mean more queries
        world.upload(
            cast, [(f"extra{n}", "CT-ACME01", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "1", "GB")], f"x{n}.csv"
        )
    client = client_for(cast.user(role))
    client.get(reverse(name))  # warm the session and membership caches
    with django_assert_max_num_queries(limit):
        response = client.get(reverse(name))
    assert response.status_code == 200


def test_ledger_reconciles_after_payment_note_and_payout(cast) -> None:  # type: ignore[no-untyped-def]
    from billing import services

    built = world.build(cast)
    assert built.invoice is not None and built.settlement is not None
    services.note_create(
        actor=cast.moderator, invoice=built.invoice, kind="credit", amount=Decimal("33.87"), reason="x"
    )
    services.payment_record(
        actor=cast.moderator,
        buyer=cast.buyer_org,
        amount=Decimal("1000.00"),
        currency="GBP",
        received_on=date(2026, 11, 20),
        reference="BANK-1",
    )
    services.settlement_mark_paid(actor=cast.moderator, settlement=built.settlement, reference="OUT-1")
    page = client_for(cast.billing_agent).get(reverse("billing:ledger"))
    (ledger,) = page.context["ledger"]["books"]
    assert (
        ledger["currency"] == "GBP"
        and ledger["billed"] == Decimal("1233.87")
        and ledger["received"] == Decimal("1000.00")
    )
    assert ledger["outstanding"] == Decimal("200.00") and ledger["credit_notes"] == Decimal("33.87")
    # The credit note reached the carrier before the payout: 33.87 less commission at the carrier's rate on the
    # invoice (61.70 / 1233.87 of 33.87 = 1.69) came off its October settlement, 1172.17 - 32.18.
    assert ledger["paid_out"] == Decimal("1139.99") and ledger["commission_billed"] == Decimal("61.70")
    assert ledger["commission"] == Decimal("60.01") and ledger["owed_to_carriers"] == 0
    assert ledger["held"] == Decimal("-139.99") and ledger["reconciles"]
    assert "The GBP ledger reconciles" in page.content.decode()


def test_notification_links_open_for_their_recipients(cast, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from billing import services
    from marketplace.models import Notification

    built = world.build(cast)
    assert built.invoice is not None and built.settlement is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_record(
            actor=cast.moderator,
            buyer=cast.buyer_org,
            amount=Decimal("10.00"),
            currency="GBP",
            received_on=date(2026, 11, 20),
            reference="BANK-1",
        )
        services.settlement_mark_paid(actor=cast.moderator, settlement=built.settlement, reference="OUT-1")
    paid = Notification.objects.get(recipient=cast.buyer_owner, kind="payment_received")
    assert client_for(cast.buyer_owner).get(paid.url).status_code == 200
    payout = Notification.objects.get(recipient=cast.seller_admin, kind="settlement_paid")
    assert client_for(cast.seller_admin).get(payout.url).status_code == 200


def test_moderator_edits_rate_cards_in_the_admin(cast) -> None:  # type: ignore[no-untyped-def]
    contract = world.contract(cast)
    line = contract.rate_lines.get(usage_unit="GB")
    client = client_for(cast.moderator)
    assert client.get(reverse("admin:billing_contract_change", args=[contract.pk])).status_code == 200
    page = client.get(reverse("admin:billing_rateline_change", args=[line.pk])).content.decode()
    assert "Rate tiers" in page or "rate tier" in page.lower()
    for name in ("invoice", "payment", "settlement", "usageimport", "billrun", "note", "commissionrate"):
        assert client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200, name
    assert client_for(cast.billing_agent).get(reverse("admin:billing_contract_changelist")).status_code == 302
