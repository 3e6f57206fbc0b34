"""Payments allocated after they are recorded, and credit and debit notes reaching carriers, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse

from billing import services
from billing.access import ledger_page
from billing.models import Invoice, Payment, PaymentAllocation, Settlement, SettlementAdjustment
from billing.selectors import settlement_context
from marketplace.models import AuditEvent
from marketplace.services import DomainError
from tests.billing.conftest import make_contract
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


def finalise(period: date, on: str, actor=None) -> list[Invoice]:  # type: ignore[no-untyped-def]
    """Run and issue a month on a given day (the day sets the invoices' issue and due dates)."""
    with time_machine.travel(datetime.fromisoformat(on).replace(tzinfo=UTC), tick=False):
        services.bill_run_execute(period=period)
        services.bill_run_finalize(actor=actor, period=period)
    return list(Invoice.objects.filter(period=period).order_by("number"))


def pay(world, amount: str, reference: str, **kwargs) -> Payment:  # type: ignore[no-untyped-def]
    return services.payment_record(
        actor=world.moderator,
        buyer=kwargs.pop("buyer", world.buyer_org),
        amount=Decimal(amount),
        currency=kwargs.pop("currency", "GBP"),
        received_on=date(2026, 11, 20),
        reference=reference,
        **kwargs,
    )


def issue(cast, kind: str, amount: str):  # type: ignore[no-untyped-def]
    return services.note_create(
        actor=cast.moderator, invoice=cast.invoice, kind=kind, amount=Decimal(amount), reason="Correction"
    )


# --- payments ------------------------------------------------------------------------------------------


def test_a_prepayment_is_applied_to_each_month_as_it_is_issued(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    prepayment = pay(world, "5000.00", "PREPAY-1")
    assert prepayment.unallocated == Decimal("5000.00")  # nothing issued yet: all of it waits

    (october,) = finalise(OCT, "2026-11-02T09:00:00", actor=world.moderator)
    # 310.00 for 21 of 31 days = 210.00, installation 900.00, commitment 50.00 * 21/31 = 33.87 with no usage.
    assert october.total == Decimal("1143.87")
    october.refresh_from_db()
    prepayment.refresh_from_db()
    assert october.status == Invoice.Status.PAID and october.amount_paid == Decimal("1143.87")
    assert prepayment.unallocated == Decimal("3856.13")
    event = AuditEvent.objects.get(action="payment.allocate")
    assert event.after["automatic"] is True and event.after["unallocated"] == "3856.13"

    (november,) = finalise(NOV, "2026-12-01T09:00:00")
    november.refresh_from_db()
    prepayment.refresh_from_db()
    assert november.total == Decimal("360.00") and november.status == Invoice.Status.PAID  # 310.00 + 50.00
    assert prepayment.unallocated == Decimal("3496.13")
    # Applying again finds nothing to do: the step is idempotent.
    assert services.payments_apply_credit(actor=None, invoices=[october, november]) == []
    assert PaymentAllocation.objects.filter(payment=prepayment).count() == 2
    assert ledger_page()["reconciles"]


def test_an_overpayment_is_split_over_the_oldest_due_invoices(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    october = finalise(OCT, "2026-11-02T09:00:00")[0]
    november = finalise(NOV, "2026-12-01T09:00:00")[0]
    december = finalise(DEC, "2027-01-04T09:00:00")[0]
    assert (october.total, november.total, december.total) == (Decimal("1143.87"), Decimal("360.00"), Decimal("360.00"))
    # The bank statement names October only: 1143.87 of the 1600.00 goes there, 456.13 waits.
    payment = pay(world, "1600.00", "BANK-OVER", invoice=october)
    assert payment.unallocated == Decimal("456.13")

    made = services.payment_allocate(actor=world.moderator, payment=payment)

    assert [(a.invoice_id, a.amount) for a in made] == [
        (november.pk, Decimal("360.00")),
        (december.pk, Decimal("96.13")),
    ]
    payment.refresh_from_db()
    november.refresh_from_db()
    december.refresh_from_db()
    assert payment.unallocated == 0
    assert november.status == Invoice.Status.PAID and november.amount_paid == Decimal("360.00")
    assert december.status == Invoice.Status.FINAL and december.amount_paid == Decimal("96.13")
    event = AuditEvent.objects.get(action="payment.allocate")
    assert event.actor == world.moderator and event.before == {"unallocated": "456.13"}
    with pytest.raises(DomainError, match="fully allocated"):
        services.payment_allocate(actor=world.moderator, payment=payment)


def test_allocation_to_a_chosen_invoice_is_refused_beyond_the_remainder_or_what_is_due(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    october = finalise(OCT, "2026-11-02T09:00:00")[0]
    november = finalise(NOV, "2026-12-01T09:00:00")[0]
    payment = pay(world, "1500.00", "BANK-1", invoice=october)  # 356.13 left
    with pytest.raises(DomainError, match=r"Only 356\.13 GBP of payment BANK-1 is unallocated"):
        services.payment_allocate(actor=world.moderator, payment=payment, invoice=november, amount=Decimal("356.14"))
    services.note_create(actor=world.moderator, invoice=november, kind="credit", amount=Decimal("60.00"), reason="x")
    with pytest.raises(DomainError, match=r"Only 300\.00 GBP is due on invoice"):
        services.payment_allocate(actor=world.moderator, payment=payment, invoice=november, amount=Decimal("300.01"))
    with pytest.raises(DomainError, match="not open"):
        services.payment_allocate(actor=world.moderator, payment=payment, invoice=october)
    payment.refresh_from_db()
    assert payment.unallocated == Decimal("356.13") and not PaymentAllocation.objects.filter(invoice=november)

    (made,) = services.payment_allocate(actor=world.moderator, payment=payment, invoice=november, amount=Decimal("300"))
    november.refresh_from_db()
    payment.refresh_from_db()
    assert made.amount == Decimal("300.00") and november.status == Invoice.Status.PAID
    assert payment.unallocated == Decimal("56.13")
    with pytest.raises(DomainError, match="nothing due in GBP"):
        services.payment_allocate(actor=world.moderator, payment=payment)


def test_allocation_is_refused_across_currencies_and_to_non_moderators(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    make_contract(
        world.buyer_org,
        world.carrier_org,
        number="CT-EURO1",
        start=date(2026, 10, 1),
        end=date(2027, 10, 1),
        lines=[{"code": "data-mpls", "monthly_charge": Decimal("1000.00")}],
        currency="EUR",
    )
    finalise(OCT, "2026-11-02T09:00:00")
    euro = Invoice.objects.get(currency="EUR")
    pound = Invoice.objects.get(currency="GBP")
    payment = pay(world, "2000.00", "BANK-GBP", invoice=pound)  # 856.13 GBP left
    with pytest.raises(DomainError, match="another buyer or currency"):
        services.payment_allocate(actor=world.moderator, payment=payment, invoice=euro)
    for outsider in (world.billing_agent, world.buyer_owner, world.seller_admin):
        with pytest.raises(DomainError, match="Only moderators"):
            services.payment_allocate(actor=outsider, payment=payment)
    # Nothing of it in GBP is due, and euros are never taken for pounds.
    with pytest.raises(DomainError, match="nothing due in GBP"):
        services.payment_allocate(actor=world.moderator, payment=payment)
    euro.refresh_from_db()
    payment.refresh_from_db()
    assert euro.amount_paid == 0 and payment.unallocated == Decimal("856.13")


def test_the_payment_page_allocates_with_errors_next_to_the_field(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    october = finalise(OCT, "2026-11-02T09:00:00")[0]
    november = finalise(NOV, "2026-12-01T09:00:00")[0]
    payment = pay(world, "1200.00", "BANK-7", invoice=october)  # 56.13 left
    url = reverse("billing:payment_detail", args=[payment.pk])
    moderator = client_for(world.moderator)
    page = moderator.get(url).content.decode()
    assert "56.13 GBP" in page and "Allocate to an invoice" in page and november.number in page
    assert "Allocate to an invoice" not in client_for(world.billing_agent).get(url).content.decode()

    allocate = reverse("billing:payment_allocate", args=[payment.pk])
    refused = moderator.post(allocate, {"invoice": november.pk, "amount": "56.14"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["amount"] == ["Only 56.13 GBP of this payment is unallocated."]
    assert 'class="field field-error"' in refused.content.decode()
    assert client_for(world.billing_agent).post(allocate, {"invoice": november.pk}).status_code == 403
    assert client_for(world.other_buyer).post(allocate, {"invoice": november.pk}).status_code == 404
    payment.refresh_from_db()
    assert payment.unallocated == Decimal("56.13")

    done = moderator.post(allocate, {"invoice": november.pk}, follow=True)
    assert f"Allocated 56.13 to {november.number}" in done.content.decode()
    payment.refresh_from_db()
    november.refresh_from_db()
    assert payment.unallocated == 0 and november.amount_paid == Decimal("56.13")


# --- notes and settlements ------------------------------------------------------------------------------


@pytest.fixture
def two_carriers(cast):  # type: ignore[no-untyped-def]
    """The other buyer's October invoice bills 100.00 of carrier A (5 %) and 200.00 of carrier B (7.5 %)."""
    for carrier, number, charge, commission in (
        (cast.carrier_org, "CT-SHARE-A", "100.00", "5.00"),
        (cast.other_carrier_org, "CT-SHARE-B", "200.00", "7.50"),
    ):
        make_contract(
            cast.other_buyer_org,
            carrier,
            number=number,
            start=OCT,
            end=date(2027, 10, 1),
            lines=[{"code": "data-mpls", "monthly_charge": Decimal(charge)}],
            commission=commission,
        )
    (invoice,) = finalise(OCT, "2026-11-02T09:00:00")
    assert invoice.total == Decimal("300.00")
    cast.invoice = invoice
    cast.settlement_a = Settlement.objects.get(carrier=cast.carrier_org, period=OCT)
    cast.settlement_b = Settlement.objects.get(carrier=cast.other_carrier_org, period=OCT)
    assert (cast.settlement_a.net, cast.settlement_b.net) == (Decimal("95.00"), Decimal("185.00"))
    return cast


def test_a_credit_note_comes_off_each_carriers_settlement_pro_rata_to_the_cent(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    note = services.note_create(
        actor=cast.moderator, invoice=cast.invoice, kind="credit", amount=Decimal("100.00"), reason="Outage"
    )
    # 100.00 over 100 : 200 is 33.333… and 66.666…: rounded down 33.33 + 66.66, the cent left goes to the larger
    # remainder (B). Commission at each carrier's rate: 33.33 * 5 % = 1.6665 -> 1.67; 66.67 * 7.5 % = 5.00025 -> 5.00.
    shares = {a.carrier_id: (a.amount, a.commission) for a in note.adjustments.all()}
    assert shares == {
        cast.carrier_org.pk: (Decimal("-33.33"), Decimal("-1.67")),
        cast.other_carrier_org.pk: (Decimal("-66.67"), Decimal("-5.00")),
    }
    a, b = cast.settlement_a, cast.settlement_b
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.adjustments, a.adjustment_commission, a.net) == (Decimal("-33.33"), Decimal("-1.67"), Decimal("63.34"))
    assert (b.adjustments, b.adjustment_commission, b.net) == (Decimal("-66.67"), Decimal("-5.00"), Decimal("123.33"))
    (book,) = ledger_page()["books"]
    # 300.00 billed - 100.00 credited = 200.00 = 63.34 + 123.33 owed + commission 20.00 - 6.67.
    assert book["owed_to_carriers"] == Decimal("186.67") and book["commission"] == Decimal("13.33")
    assert book["reconciles"], book["checks"]


def test_note_shares_add_up_to_the_note_to_the_cent(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    # 0.01 over 100 : 200 is 0.0033 and 0.0067: the one cent goes to the larger remainder, B's.
    assert services.note_shares(cast.invoice, Decimal("0.01")) == [(cast.other_carrier_org.pk, Decimal("0.01"), 0)]
    # 0.02 is 0.0067 and 0.0133: B keeps its whole cent, the cent left goes to A's remainder 0.0067 (B's is 0.0033).
    assert [s for _, s, _ in services.note_shares(cast.invoice, Decimal("0.02"))] == [Decimal("0.01")] * 2
    for amount in ("0.01", "0.07", "99.99", "123.45", "300.00"):
        assert sum(s for _, s, _ in services.note_shares(cast.invoice, Decimal(amount))) == Decimal(amount)


def test_a_note_after_the_payout_waits_for_the_carriers_next_settlement(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    issue(cast, "credit", "100.00")
    services.settlement_mark_paid(actor=cast.moderator, settlement=cast.settlement_a, reference="OUT-A")
    note = services.note_create(
        actor=cast.moderator, invoice=cast.invoice, kind="debit", amount=Decimal("10.00"), reason="Missed charge"
    )
    # 10.00 is 3.33 for A and 6.67 for B; commission 3.33 * 5 % = 0.1665 -> 0.17, 6.67 * 7.5 % = 0.50025 -> 0.50.
    waiting = note.adjustments.get(carrier=cast.carrier_org)
    assert waiting.settlement is None and (waiting.amount, waiting.commission) == (Decimal("3.33"), Decimal("0.17"))
    b = Settlement.objects.get(pk=cast.settlement_b.pk)
    assert (b.adjustments, b.adjustment_commission, b.net) == (Decimal("-60.00"), Decimal("-4.50"), Decimal("129.50"))
    (book,) = ledger_page()["books"]
    assert book["paid_out"] == Decimal("63.34") and book["owed_to_carriers"] == Decimal("132.66")  # 129.50 + 3.16
    assert book["commission"] == Decimal("14.00") and book["reconciles"], book["checks"]

    finalise(NOV, "2026-12-01T09:00:00")
    november_a = Settlement.objects.get(carrier=cast.carrier_org, period=NOV)
    waiting.refresh_from_db()
    assert waiting.settlement == november_a
    # November's 100.00 less 5.00, plus the debit note's 3.33 less 0.17.
    assert (november_a.gross, november_a.adjustments, november_a.net) == (
        Decimal("100.00"),
        Decimal("3.33"),
        Decimal("98.16"),
    )
    assert not SettlementAdjustment.objects.filter(settlement__period=NOV, carrier=cast.other_carrier_org).exists()
    assert ledger_page()["reconciles"]
    assert AuditEvent.objects.filter(action="settlement.adjust", object_id=str(november_a.pk)).exists()


def test_the_settlement_page_and_statement_show_the_notes(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    note = services.note_create(
        actor=cast.moderator, invoice=cast.invoice, kind="credit", amount=Decimal("100.00"), reason="Outage"
    )
    page = client_for(cast.seller_admin).get(reverse("billing:settlement_detail", args=[cast.settlement_a.pk]))
    text = page.content.decode()
    assert note.number in text and "-33.33" in text and "63.34 GBP" in text
    assert "Outage" not in text  # the buyer's reason stays between the buyer and the marketplace
    statement = render_to_string(
        "billing/pdf/statement.html", {**settlement_context(Settlement.objects.get(pk=cast.settlement_a.pk))}
    )
    assert note.number in statement and "-31.66" in statement and "63.34" in statement  # -33.33 + 1.67


def test_credit_notes_cannot_take_more_than_is_left_to_credit(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    issue(cast, "credit", "250.00")
    with pytest.raises(DomainError, match=r"left to credit on the invoice \(50\.00\)"):
        services.note_create(
            actor=cast.moderator, invoice=cast.invoice, kind="credit", amount=Decimal("50.01"), reason="x"
        )
    issue(cast, "credit", "50.00")
    # Credited whole: the carriers' settlements are back to nothing, commission too.
    a = Settlement.objects.get(pk=cast.settlement_a.pk)
    b = Settlement.objects.get(pk=cast.settlement_b.pk)
    assert a.net + b.net + a.commission + a.adjustment_commission + b.commission + b.adjustment_commission == 0
    assert ledger_page()["reconciles"]


# --- the ledger ----------------------------------------------------------------------------------------


def test_the_ledger_reconciles_with_notes_payments_and_payouts(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    issue(cast, "credit", "100.00")
    issue(cast, "debit", "0.07")
    pay(cast, "250.00", "BANK-L", buyer=cast.other_buyer_org)  # 200.07 due: 49.93 waits
    services.settlement_mark_paid(actor=cast.moderator, settlement=cast.settlement_b, reference="OUT-B")
    (book,) = ledger_page()["books"]
    assert book["received"] == Decimal("200.07") and book["outstanding"] == 0
    assert book["unallocated"] == Decimal("49.93") and book["payments"] == Decimal("250.00")
    assert all(check["ok"] and check["difference"] == 0 for check in book["checks"])
    page = client_for(cast.moderator).get(reverse("billing:ledger")).content.decode()
    assert "The GBP ledger reconciles" in page and "does not reconcile" not in page


def test_the_ledger_says_when_it_does_not_reconcile_and_by_how_much(two_carriers) -> None:  # type: ignore[no-untyped-def]
    cast = two_carriers
    payment = pay(cast, "100.00", "BANK-X", buyer=cast.other_buyer_org)
    assert ledger_page()["reconciles"]
    # A row written behind the services' back: an allocation that neither the invoice nor the payment knows of.
    PaymentAllocation.objects.create(payment=payment, invoice=cast.invoice, amount=Decimal("10.00"))
    # And a settlement whose net was edited by hand.
    Settlement.objects.filter(pk=cast.settlement_a.pk).update(net=Decimal("96.50"))
    (book,) = ledger_page()["books"]
    assert not book["reconciles"]
    failed = {c["label"].split(" ")[0]: c["difference"] for c in book["checks"] if not c["ok"]}
    assert failed == {"Received": Decimal("10.00"), "Paid": Decimal("1.50"), "Payments": Decimal("-10.00")}
    response = client_for(cast.moderator).get(reverse("billing:ledger"))
    text = response.content.decode()
    assert "The GBP ledger does not reconcile" in text and "a difference of 1.50 GBP" in text
    assert "a difference of 10.00 GBP" in text
    home = client_for(cast.moderator).get(reverse("billing:home")).content.decode()
    assert "Does not reconcile" in home
