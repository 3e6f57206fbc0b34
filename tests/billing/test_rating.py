"""Rating worked out by hand: proration, one-time charges, tiers, increments, commitments, commission."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing import services
from billing.models import BillRun, Contract, Invoice, InvoiceLine, Note, Settlement, UsageImport
from billing.selectors import ledger
from marketplace.services import DomainError
from tests.billing.conftest import make_contract, usage_csv

pytestmark = pytest.mark.django_db
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def load(world, rows, filename="usage.csv"):  # type: ignore[no-untyped-def]
    outcome = services.usage_import_create(
        actor=world.seller_admin, carrier=world.carrier_org, source="carrier", filename=filename, data=usage_csv(rows)
    )
    return services.usage_import_run(import_id=outcome.usage_import.pk)


def lines_by_kind(period: date) -> dict[str, list[InvoiceLine]]:
    out: dict[str, list[InvoiceLine]] = {}
    for line in InvoiceLine.objects.filter(invoice__period=period).order_by("position"):
        out.setdefault(line.kind, []).append(line)
    return out


def test_first_month_prorates_charges_once_and_applies_tiers_increments_and_commitment(billing_world) -> None:  # type: ignore[no-untyped-def]
    result = load(
        billing_world,
        [
            ("d1", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-13T00:00:00Z", "4000", "GB"),
            ("d2", "CT-ACME01", "2026-10-20T00:00:00Z", "2026-10-21T00:00:00Z", "2000", "GB"),
            ("v1", "CT-ACME01", "2026-10-12T09:00:00Z", "2026-10-12T09:02:00Z", "1.2", "minute"),
            ("v2", "CT-ACME01", "2026-10-12T10:00:00Z", "2026-10-12T10:01:00Z", "0.5", "minute"),
            ("v3", "CT-ACME01", "2026-10-13T10:00:00Z", "2026-10-13T10:02:00Z", "2.0", "minute"),
        ],
    )
    assert result.status == UsageImport.Status.DONE, result.errors
    summary = services.bill_run_execute(period=OCT)
    assert summary.invoices == 1 and summary.records == 5
    kinds = lines_by_kind(OCT)
    # 310.00 a month, 21 of October's 31 days from the 11th: 310 * 21 / 31 = 210.00.
    assert [line.amount for line in kinds["recurring"]] == [Decimal("210.00")]
    assert [line.amount for line in kinds["one_time"]] == [Decimal("900.00")]
    usage = {line.unit: line for line in kinds["usage"]}
    # 6000 GB: 1000 at 0.02 + 4000 at 0.015 + 1000 at 0.01 = 20 + 60 + 10.
    assert usage["GB"].amount == Decimal("90.00") and usage["GB"].quantity == Decimal("6000")
    # Minutes rounded up per record: 2 + 1 + 2 = 5 at 0.05 = 0.25.
    assert usage["minute"].quantity == Decimal("5") and usage["minute"].amount == Decimal("0.25")
    # Commitment of 50.00 a month, prorated to 21/31 = 33.87; usage 0.25 → true-up 33.62.
    assert [line.amount for line in kinds["true_up"]] == [Decimal("33.62")]
    invoice = Invoice.objects.get(period=OCT)
    assert invoice.total == Decimal("210.00") + Decimal("900.00") + Decimal("90.00") + Decimal("0.25") + Decimal(
        "33.62"
    )
    # Commission 5 % per line, rounded per line: 10.50 on the recurring line.
    assert kinds["recurring"][0].commission == Decimal("10.50")

    services.bill_run_execute(period=NOV)
    nov = lines_by_kind(NOV)
    assert [line.amount for line in nov["recurring"]] == [Decimal("310.00")]
    assert "one_time" not in nov  # once only
    assert [line.amount for line in nov["true_up"]] == [Decimal("50.00")]


def test_rerun_is_identical_and_dry_run_writes_nothing(billing_world) -> None:  # type: ignore[no-untyped-def]
    load(billing_world, [("d1", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-13T00:00:00Z", "10", "GB")])
    first = services.bill_run_execute(period=OCT)
    second = services.bill_run_execute(period=OCT)
    assert first.fingerprint == second.fingerprint
    assert Invoice.objects.filter(period=OCT).count() == 1
    dry = services.bill_run_execute(period=NOV, dry_run=True)
    assert dry.invoices == 1 and not BillRun.objects.filter(period=NOV).exists()
    assert not Invoice.objects.filter(period=NOV).exists()


def test_per_carrier_preference_splits_invoices_sorted_by_buyer(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    for contract in [world.contract]:
        contract.carrier_grouping = "per_carrier"
        contract.save()
    make_contract(
        world.buyer_org,
        world.other_carrier_org,
        number="CT-ACME02",
        start=date(2026, 9, 1),
        end=date(2027, 9, 1),
        carrier_grouping="per_carrier",
        lines=[{"code": "data-mpls", "monthly_charge": Decimal("100.00")}],
    )
    make_contract(
        world.other_buyer_org,
        world.carrier_org,
        number="CT-OTHER1",
        start=date(2026, 9, 1),
        end=date(2027, 9, 1),
        lines=[{"code": "data-mpls", "monthly_charge": Decimal("50.00")}],
    )
    Contract.objects.filter(number="CT-ACME02").update(payment_terms_days=14)
    services.bill_run_execute(period=OCT)
    invoices = list(Invoice.objects.filter(period=OCT).order_by("buyer__name", "group_key"))
    assert [(i.buyer.name, i.carrier_id) for i in invoices] == [
        ("Acme Test Logistics", world.carrier_org.pk),
        ("Acme Test Logistics", world.other_carrier_org.pk),
        ("Other Buyer Ltd", None),
    ]
    # Each invoice is due on its own contract's terms, though both are Acme's: 30 days and 14 days.
    services.bill_run_finalize(actor=world.moderator, period=OCT)
    due = {i.carrier_id: (i.due_date - i.issue_date).days for i in Invoice.objects.filter(buyer=world.buyer_org)}
    assert due == {world.carrier_org.pk: 30, world.other_carrier_org.pk: 14}


def test_finalise_numbers_gaplessly_freezes_and_late_usage_becomes_an_adjustment(
    billing_world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    make_contract(
        world.other_buyer_org,
        world.carrier_org,
        number="CT-OTHER1",
        start=date(2026, 9, 1),
        end=date(2027, 9, 1),
        lines=[{"code": "data-mpls", "monthly_charge": Decimal("50.00")}],
    )
    services.bill_run_execute(period=OCT)
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_finalize(actor=world.moderator, period=OCT)
    numbers = list(Invoice.objects.filter(period=OCT).order_by("number").values_list("number", flat=True))
    year = timezone.now().year
    assert numbers == [f"SB-{year}-000001", f"SB-{year}-000002"]
    with pytest.raises(DomainError, match="finalised"):
        services.bill_run_execute(period=OCT)
    with pytest.raises(DomainError, match="already finalised; correct it with credit or debit notes"):
        services.bill_run_finalize(actor=world.moderator, period=OCT)
    assert Invoice.objects.filter(period=OCT).count() == 2
    # PDFs were rendered and e-mailed to the billing contact.
    acme = Invoice.objects.get(period=OCT, buyer=world.buyer_org)
    assert acme.pdf and len(acme.pdf_sha256) == 64 and acme.emailed_at is not None
    assert any(m.attachments and acme.number in m.subject for m in mail.outbox)

    late = load(world, [("late1", "CT-ACME01", "2026-10-30T00:00:00Z", "2026-10-31T00:00:00Z", "100", "GB")])
    assert late.adjustments == 1
    services.bill_run_execute(period=NOV)
    adjustments = lines_by_kind(NOV)["adjustment"]
    assert [(a.quantity, a.amount) for a in adjustments] == [(Decimal("100"), Decimal("2.00"))]

    settlement = Settlement.objects.get(carrier=world.carrier_org, period=OCT)
    gross = sum(line.amount for line in InvoiceLine.objects.filter(invoice__period=OCT, carrier=world.carrier_org))
    assert settlement.gross == gross and settlement.net == gross - settlement.commission


def test_notes_payments_settlement_and_ledger(billing_world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    services.bill_run_execute(period=OCT)
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_finalize(actor=world.moderator, period=OCT)
    invoice = Invoice.objects.get(period=OCT)
    note = services.note_create(
        actor=world.moderator,
        invoice=invoice,
        kind=Note.Kind.CREDIT,
        amount=Decimal("10.00"),
        reason="Outage on 14 October",
    )
    assert note.number.startswith("CN-")
    due = invoice.total - Decimal("10.00")
    services.payment_record(
        actor=world.moderator,
        buyer=world.buyer_org,
        amount=due - Decimal("100"),
        currency="GBP",
        received_on=date(2026, 11, 20),
        reference="BANK-1",
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.FINAL and invoice.amount_paid == due - Decimal("100")
    services.payment_record(
        actor=world.moderator,
        buyer=world.buyer_org,
        amount=Decimal("100"),
        currency="GBP",
        received_on=date(2026, 11, 21),
        reference="BANK-2",
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    with pytest.raises(DomainError, match="already recorded"):
        services.payment_record(
            actor=world.moderator,
            buyer=world.buyer_org,
            amount=Decimal("1"),
            currency="GBP",
            received_on=date(2026, 11, 21),
            reference="BANK-2",
        )
    settlement = Settlement.objects.get(carrier=world.carrier_org)
    services.settlement_mark_paid(actor=world.moderator, settlement=settlement, reference="OUT-7")
    totals = ledger()["GBP"]
    assert totals["received"] == due
    assert totals["paid_out"] == settlement.net
    assert totals["billed"] == invoice.total


def test_contracts_follow_awards(world_award) -> None:  # type: ignore[no-untyped-def]
    from billing.models import Contract

    assert services.contracts_sync_from_awards() == 0  # made on commit already
    contract = Contract.objects.get(award=world_award)
    assert contract.buyer_id == world_award.buyer_id and contract.carrier_id == world_award.carrier_id
    assert contract.rate_lines.count() == world_award.lines.count()
    assert contract.end_date == contract.start_date.replace(year=contract.start_date.year + 2)
    assert contract.commission_percent == Decimal("5.00")


@pytest.fixture
def world_award(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from marketplace.selectors import terms_current
    from rfq import services as rfq_services
    from tests.rfq import builders

    rfq = builders.published(world.buyer_owner, sites=world.sites)
    bid = builders.bid(rfq, world.seller_sales)
    builders.past_deadline(rfq)
    rfq_services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in bid.lines.all()})
    with django_capture_on_commit_callbacks(execute=True):
        (award,) = rfq_services.award_accept_terms(
            actor=world.buyer_owner, rfq=rfq, organization=world.buyer_org, terms=terms_current()
        )
    return award


def test_future_window_can_be_billed_before_it_starts(billing_world) -> None:  # type: ignore[no-untyped-def]
    future = (timezone.now().date().replace(day=1) + timedelta(days=62)).replace(day=1)
    make_contract(
        billing_world.other_buyer_org,
        billing_world.carrier_org,
        number="CT-PREPAY",
        start=future,
        end=date(future.year + 1, future.month, 1),
        lines=[
            {"code": "routes-capacity", "monthly_charge": Decimal("1000.00")},
            {
                "code": "voice-sip-trunking",
                "description": "Prepaid minutes",
                "usage_unit": "minute",
                "usage_rate": Decimal("0.05"),
                "minimum_commitment": Decimal("200.00"),
            },
        ],
    )
    services.bill_run_execute(period=future)
    assert future > timezone.now().date()
    # The window's charges, and no commitment true-up: a month's shortfall is known only once it has ended, and
    # usage arriving after it is billed as late usage on the next open month (a true-up now would bill it twice).
    invoice = Invoice.objects.get(period=future, buyer=billing_world.other_buyer_org)
    assert invoice.total == Decimal("1000.00")
    assert list(invoice.lines.values_list("kind", flat=True)) == ["recurring"]
    # A month that is over has its true-up (October's, for Acme's SIP minimum, is worked out in the first test).
    services.bill_run_execute(period=OCT)
    assert InvoiceLine.objects.filter(invoice__period=OCT, kind="true_up").exists()


def test_a_resellers_award_gives_a_contract_per_end_customer(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from billing.models import Contract, RateLine
    from billing.usage import KeyResolver
    from buyers.models import EndCustomer
    from marketplace.selectors import terms_current
    from rfq import services as rfq_services
    from tests.rfq import builders

    taxis = EndCustomer.objects.create(reseller=world.buyer_org, name="Tyne Taxis", reference="HVP-1")
    dental = EndCustomer.objects.create(reseller=world.buyer_org, name="Dales Dental", reference="HVP-2")
    head_office, depot, branch = world.sites
    head_office.end_customer, depot.end_customer = taxis, dental
    head_office.save()
    depot.save()
    rfq = builders.published(world.buyer_owner, sites=world.sites)
    bid = builders.bid(rfq, world.seller_sales)
    builders.past_deadline(rfq)
    rfq_services.rfq_select(actor=world.buyer_owner, rfq=rfq, choices={bl.rfq_line_id: bl.pk for bl in bid.lines.all()})
    with django_capture_on_commit_callbacks(execute=True):
        (award,) = rfq_services.award_accept_terms(
            actor=world.buyer_owner, rfq=rfq, organization=world.buyer_org, terms=terms_current()
        )
    contracts = {c.end_customer_id: c for c in Contract.objects.filter(award=award)}
    assert set(contracts) == {taxis.pk, dental.pk, None}
    sites = {
        ec: set(RateLine.objects.filter(contract=c).values_list("site_id", flat=True)) for ec, c in contracts.items()
    }
    assert sites == {taxis.pk: {head_office.pk}, dental.pk: {depot.pk}, None: {branch.pk}}
    assert services.contracts_sync_from_awards() == 0
    # Usage for the request picks the end customer's contract by the record's end customer.
    RateLine.objects.filter(contract__award=award).update(usage_unit="GB")
    resolver = KeyResolver(world.carrier_org.pk)
    found = resolver((rfq.reference, "", "GB", "HVP-2", ""))
    assert not isinstance(found, str) and found.contract_id == contracts[dental.pk].pk
    assert found.end_customer_id == dental.pk
    assert "several contracts" in str(resolver((rfq.reference, "", "GB", "", "")))


def test_ledger_keeps_one_book_per_currency(billing_world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from billing.access import ledger_page

    world = billing_world
    make_contract(
        world.other_buyer_org,
        world.carrier_org,
        number="CT-EURO1",
        start=date(2026, 10, 1),
        end=date(2027, 10, 1),
        lines=[{"code": "data-mpls", "monthly_charge": Decimal("1000.00")}],
        currency="EUR",
    )
    services.bill_run_execute(period=OCT)
    with django_capture_on_commit_callbacks(execute=True):
        services.bill_run_finalize(actor=world.moderator, period=OCT)
    euro = Invoice.objects.get(period=OCT, currency="EUR")
    pound = Invoice.objects.get(period=OCT, currency="GBP")
    services.payment_record(
        actor=world.moderator,
        buyer=world.other_buyer_org,
        amount=Decimal("400.00"),
        currency="EUR",
        received_on=date(2026, 11, 20),
        reference="BANK-EUR",
    )
    books = ledger()
    assert list(books) == ["EUR", "GBP"]
    assert books["EUR"]["billed"] == euro.total == Decimal("1000.00")
    assert books["GBP"]["billed"] == pound.total
    assert books["EUR"]["received"] == Decimal("400.00") and books["GBP"]["received"] == 0
    page = ledger_page()
    assert [b["currency"] for b in page["books"]] == ["EUR", "GBP"] and page["reconciles"]
    assert page["books"][0]["outstanding"] == Decimal("600.00")
