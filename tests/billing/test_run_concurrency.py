"""Bill runs of one period never overlap, and a run killed halfway leaves nothing behind (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection, connections, transaction

from billing import services
from billing.models import BillRun, Invoice, InvoiceLine
from tests.billing.conftest import usage_csv

pytestmark = pytest.mark.django_db(transaction=True)
OCT = date(2026, 10, 1)


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: advisory locks and killing a backend mid-transaction")


def _load(world) -> None:  # type: ignore[no-untyped-def]
    rows = [
        (f"r{i}", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z", str(i % 7 + 1), "GB") for i in range(300)
    ]
    outcome = services.usage_import_create(
        actor=None, carrier=world.carrier_org, source="carrier", filename="u.csv", data=usage_csv(rows)
    )
    services.usage_import_run(import_id=outcome.usage_import.pk)


def test_eight_parallel_runs_yield_one_result(billing_world) -> None:  # type: ignore[no-untyped-def]
    _needs_postgres()
    _load(billing_world)
    reference = services.bill_run_execute(period=date(2026, 10, 1)).fingerprint
    barrier = threading.Barrier(8)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait()
            results.append(services.bill_run_execute(period=OCT))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert {r.fingerprint for r in results} == {reference}
    assert sum(1 for r in results if not r.reused) >= 1
    assert BillRun.objects.filter(period=OCT).count() == 1
    assert Invoice.objects.filter(period=OCT).count() == 1


def test_run_killed_halfway_leaves_no_partial_lines_and_retry_matches(billing_world) -> None:  # type: ignore[no-untyped-def]
    _needs_postgres()
    world = billing_world
    _load(world)
    clean = services.bill_run_execute(period=OCT).fingerprint
    Invoice.objects.filter(period=OCT).delete()
    BillRun.objects.filter(period=OCT).delete()
    assert not InvoiceLine.objects.exists()

    # A second session inserts the invoice row the run is about to write and keeps its transaction open:
    # the run blocks halfway (after rating, while writing invoices); then its backend is terminated.
    blocker = connections.create_connection("default")
    blocker.connect()
    blocker.set_autocommit(False)
    holder = BillRun.objects.create(period=date(2026, 12, 1))
    with blocker.cursor() as cur:
        cur.execute(
            "INSERT INTO billing_invoice (bill_run_id, period, buyer_id, group_key, status, currency, subtotal, total,"
            " amount_paid, pdf, pdf_sha256, created_at)"
            " VALUES (%s, %s, %s, %s, 'draft', 'GBP', 0, 0, 0, '', '', now())",
            [holder.pk, OCT, world.buyer_org.pk, "GBP:ec0:all-carriers:all-sites"],
        )
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cur.fetchone()[0]
            services.bill_run_execute(period=OCT)
            outcome["finished"] = True
        except Exception as exc:  # noqa: BLE001
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    killed = False
    while time.monotonic() < deadline and not killed:
        with blocker.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = %s", [outcome.get("pid", -1)])
            if cur.fetchone()[0]:
                cur.execute("SELECT pg_terminate_backend(%s)", [outcome["pid"]])
                killed = True
        time.sleep(0.05)
    worker.join(30)
    blocker.rollback()
    blocker.close()
    assert killed and "error" in outcome and "finished" not in outcome
    with transaction.atomic():
        assert not InvoiceLine.objects.exists()
        assert not Invoice.objects.filter(period=OCT).exists()
        assert not BillRun.objects.filter(period=OCT).exists()
    assert services.bill_run_execute(period=OCT).fingerprint == clean
