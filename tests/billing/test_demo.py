"""The billing demo bills last month for the demo award, and running it again changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import demo
from billing.models import BillRun, Contract, Invoice, Payment, RateLine, Settlement, UsageRecord

pytestmark = pytest.mark.django_db


def test_demo_bills_a_month_pays_it_and_settles_northwind(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from buyers import demo as buyers_demo
    from marketplace import demo as core_demo
    from rfq import demo as rfq_demo
    from sellers import demo as sellers_demo

    with django_capture_on_commit_callbacks(execute=True):
        core_demo.seed()
        buyers_demo.seed()
        sellers_demo.seed()
        rfq_demo.seed()
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed()
    counts = (Contract.objects.count(), UsageRecord.objects.count(), Invoice.objects.count(), Payment.objects.count())
    assert counts[0] >= 1 and counts[1] >= 28 and counts[2] >= 1 and counts[3] == 1
    run = BillRun.objects.get()
    assert run.status == BillRun.Status.FINALIZED
    invoice = Invoice.objects.get(period=run.period, allocations__payment__reference=demo.PAYMENT_REFERENCE)
    assert invoice.pdf and invoice.status == Invoice.Status.PAID
    # The reseller's award bills each end customer on an invoice of its own, which the reseller rebills.
    resold = Invoice.objects.filter(period=run.period, end_customer__isnull=False)
    assert sorted(resold.values_list("end_customer__reference", flat=True)) == ["HVP-001", "HVP-002"]
    assert all(i.pdf for i in resold)
    # Northwind's SIP bid carried its usage terms to the reseller's contracts.
    sip = RateLine.objects.filter(usage_unit="minute", contract__end_customer__isnull=False)
    assert sip.exists() and all(
        (line.increment, line.minimum_commitment) == (1, Decimal("30.00"))
        and [(t.threshold, t.rate) for t in line.tiers.all()] == [(Decimal("10000"), Decimal("0.009"))]
        for line in sip
    )
    settlement = Settlement.objects.get(carrier__name="Northwind Telecom")
    assert settlement.status == Settlement.Status.PAID and settlement.statement_pdf
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed()
    assert (
        Contract.objects.count(),
        UsageRecord.objects.count(),
        Invoice.objects.count(),
        Payment.objects.count(),
    ) == counts
