"""Drafts are finalised only as they would be made now: usage, contracts or rates that changed after the run send
the moderator back to run the month again, and an import racing a finalisation bills its records on the next
month instead of losing them."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections

from billing import locks, services
from billing.models import BillRun, Invoice, InvoiceLine, RateLine, UsageImport, UsageRecord
from marketplace.services import DomainError
from tests.billing.conftest import usage_csv

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
CHANGED = "changed after these drafts were made"


def load(world, rows, filename):  # type: ignore[no-untyped-def]
    outcome = services.usage_import_create(
        actor=world.seller_admin, carrier=world.carrier_org, source="carrier", filename=filename, data=usage_csv(rows)
    )
    return services.usage_import_run(import_id=outcome.usage_import.pk)


def gb(record_id: str, quantity: str) -> tuple[str, ...]:
    return (record_id, "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-13T00:00:00Z", quantity, "GB")


@pytest.mark.django_db
def test_usage_that_arrives_after_the_drafts_is_billed_not_lost(billing_world) -> None:  # type: ignore[no-untyped-def]
    load(billing_world, [gb("d1", "400")], "first.csv")
    services.bill_run_execute(period=OCT, actor=billing_world.moderator)
    usage_before = InvoiceLine.objects.get(kind="usage", invoice__period=OCT).amount
    assert usage_before == Decimal("8.00")  # 400 GB at 0.02

    # 1,000 GB more arrive for October before anyone finalises: the drafts no longer tell the truth.
    load(billing_world, [gb("d2", "1000")], "late.csv")
    with pytest.raises(DomainError, match=CHANGED):
        services.bill_run_finalize(actor=billing_world.moderator, period=OCT)
    assert BillRun.objects.get(period=OCT).status == BillRun.Status.DRAFT
    assert not Invoice.objects.exclude(status=Invoice.Status.DRAFT).exists()
    assert InvoiceLine.objects.get(kind="usage", invoice__period=OCT).amount == usage_before  # drafts untouched

    services.bill_run_execute(period=OCT, actor=billing_world.moderator)
    services.bill_run_finalize(actor=billing_world.moderator, period=OCT)
    # 1,400 GB: 1,000 at 0.02 and 400 at the 0.015 tier.
    usage = InvoiceLine.objects.get(kind="usage", invoice__period=OCT)
    assert usage.amount == Decimal("26.00") and usage.record_count == 2
    assert Invoice.objects.get(period=OCT).number


@pytest.mark.django_db
def test_a_rate_changed_after_the_drafts_sends_the_moderator_back_to_run(billing_world) -> None:  # type: ignore[no-untyped-def]
    load(billing_world, [gb("d1", "400")], "first.csv")
    services.bill_run_execute(period=OCT)
    RateLine.objects.filter(usage_unit="GB").update(usage_rate=Decimal("0.03"))
    with pytest.raises(DomainError, match=CHANGED):
        services.bill_run_finalize(actor=billing_world.moderator, period=OCT)
    services.bill_run_execute(period=OCT)
    services.bill_run_finalize(actor=billing_world.moderator, period=OCT)
    assert InvoiceLine.objects.get(kind="usage", invoice__period=OCT).amount == Decimal("12.00")


@pytest.mark.django_db
def test_the_run_page_says_why_finalising_was_refused(billing_world) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from tests.conftest import client_for

    load(billing_world, [gb("d1", "400")], "first.csv")
    services.bill_run_execute(period=OCT)
    load(billing_world, [gb("d2", "1000")], "late.csv")
    client = client_for(billing_world.billing_agent)
    refused = client.post(reverse("billing:bill_run_finalize", args=["2026-10"]), {"confirm": "on"})
    assert refused.status_code == 400 and CHANGED in refused.content.decode()
    assert "run the month again" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_import_that_waited_for_a_finalisation_bills_its_records_on_the_next_month(billing_world) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: advisory locks held by two sessions at once")
    load(billing_world, [gb("d1", "400")], "first.csv")
    services.bill_run_execute(period=OCT)

    # Another session is finalising October: it holds the month and has marked it finalised, not yet committed.
    finaliser = connections.create_connection("default")
    finaliser.connect()
    finaliser.set_autocommit(False)
    with finaliser.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [locks.RUN_LOCK, locks.period_key(OCT)])
        cur.execute("UPDATE billing_billrun SET status = 'finalized' WHERE period = %s", [OCT])

    outcome: dict[str, object] = {}

    def upload() -> None:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cur.fetchone()[0]
            outcome["import"] = load(billing_world, [gb("late1", "100"), gb("late2", "50")], "late.csv")
        except Exception as exc:  # noqa: BLE001
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=upload)
    worker.start()
    # The import copies its rows, then waits for October before it commits them.
    waited = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not waited:
        with finaliser.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = %s", [outcome.get("pid", -1)])
            waited = bool(cur.fetchone()[0])
        time.sleep(0.05)
    finaliser.commit()
    finaliser.close()
    worker.join(30)
    assert waited and "error" not in outcome, outcome.get("error")
    usage_import = outcome["import"]
    assert isinstance(usage_import, UsageImport) and usage_import.status == UsageImport.Status.DONE
    assert usage_import.inserted == 2 and usage_import.adjustments == 2
    late = UsageRecord.objects.filter(record_id__in=["late1", "late2"])
    assert {(r.bill_period, r.is_adjustment) for r in late} == {(NOV, True)}
    # November's run bills them as late usage from earlier months.
    services.bill_run_execute(period=NOV)
    adjustment = InvoiceLine.objects.get(kind="adjustment", invoice__period=NOV)
    assert adjustment.record_count == 2 and adjustment.amount == Decimal("3.00")
