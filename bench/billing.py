"""Billing benchmark: usage import and bill run rates against their floors, on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres switchboard_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/switchboard_bench .venv/bin/python bench/billing.py [--records N]

It migrates the scratch database it is given, replaces its billing data with 2,000 buyers' contracts,
generates N usage records (1,000,000 by default) as one CSV file, then measures:
  import    usage_import_run on the file (COPY into staging, one check, one INSERT ... SELECT)
  floor     a plain COPY of the same file into an unindexed text table
  bill run  bill_run_execute for the month (GROUP BY rating, invoices and lines written)
  floor     one GROUP BY over the same usage table
Both bill-run figures are medians of three, on the table vacuumed after the import.
The last line reads: import <N> rec/s (<x> of floor) | bill run <N> rec/s (<x> of floor)
Never run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

BUYERS = 2000
PERIOD = date(2026, 10, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/billing.py measures PostgreSQL: set DATABASE_URL to a scratch PostgreSQL database.")
    call_command("migrate", verbosity=0)

    from billing import services
    from billing.models import BillRun, Contract, Invoice, InvoiceLine, RateLine, RateTier, UsageImport, UsageRecord
    from marketplace.models import Organization, ServiceType

    churned = [Organization, Contract, RateLine, RateTier, BillRun, Invoice, InvoiceLine, UsageImport]

    print(f"Preparing {BUYERS} buyers and {args.records:,} usage records ...", flush=True)
    InvoiceLine.objects.all().delete()
    Invoice.objects.all().delete()
    BillRun.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {UsageRecord._meta.db_table}")
    UsageImport.objects.all().delete()
    RateTier.objects.all().delete()
    RateLine.objects.all().delete()
    Contract.objects.all().delete()
    Organization.objects.filter(name__startswith="Bench ").delete()
    carrier = Organization.objects.create(kind="carrier", name="Bench Carrier", verification_status="verified")
    buyers = Organization.objects.bulk_create(
        [
            Organization(
                kind="buyer", name=f"Bench Buyer {i:04d}", alias=f"B{i:04d}"[:8], verification_status="verified"
            )
            for i in range(BUYERS)
        ]
    )
    mpls = ServiceType.objects.get(code="data-mpls")
    contracts = Contract.objects.bulk_create(
        [
            Contract(
                number=f"CT-B{i:05d}",
                buyer=b,
                carrier=carrier,
                currency="GBP",
                start_date=date(2026, 1, 1),
                end_date=date(2028, 1, 1),
                commission_percent=Decimal("5"),
            )
            for i, b in enumerate(buyers)
        ]
    )
    lines = RateLine.objects.bulk_create(
        [
            RateLine(
                contract=c,
                service_type=mpls,
                description="MPLS",
                monthly_charge=Decimal("400"),
                usage_unit="GB",
                usage_rate=Decimal("0.02"),
            )
            for c in contracts
        ]
    )
    RateTier.objects.bulk_create(
        [RateTier(rate_line=line, threshold=Decimal("500"), rate=Decimal("0.015")) for line in lines]
    )

    rng = random.Random(args.seed)
    rows = ["record_id,request,interval_start,interval_end,quantity,unit"]
    for i in range(args.records):
        day = rng.randint(1, 30)
        hour = rng.randint(0, 22)
        rows.append(
            f"r{i},CT-B{rng.randrange(BUYERS):05d},2026-10-{day:02d}T{hour:02d}:00:00Z,"
            f"2026-10-{day:02d}T{hour + 1:02d}:00:00Z,{rng.randint(1, 5000) / 100},GB"
        )
    data = ("\n".join(rows) + "\n").encode()
    del rows
    print(f"CSV file: {len(data) / 1e6:.0f} MB", flush=True)

    # Floor for the import: a plain COPY of the same file into an unindexed text table.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_copy_floor (record_id text, request text, interval_start text,"
            " interval_end text, quantity text, unit text)"
        )
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(data)
        copy_floor = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_floor")
        # For context only: the same COPY into a logged table of the usage types with only the key that
        # makes a record count once; what any durable, deduplicating import has to pay on this machine.
        cursor.execute("DROP TABLE IF EXISTS bench_keyed_floor")
        cursor.execute(
            'CREATE TABLE bench_keyed_floor (carrier_id bigint DEFAULT 1, record_id varchar(64) COLLATE "C",'
            " request text, interval_start timestamptz, interval_end timestamptz, quantity numeric(18, 6),"
            " unit varchar(20), PRIMARY KEY (carrier_id, record_id))"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(
            "COPY bench_keyed_floor (record_id, request, interval_start, interval_end, quantity, unit)"
            " FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy:
            copy.write(data)
        keyed_floor = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_keyed_floor")

    outcome = services.usage_import_create(
        actor=None, carrier=carrier, source="carrier", filename="bench.csv", data=data
    )
    started = time.perf_counter()
    result = services.usage_import_run(import_id=outcome.usage_import.pk)
    import_time = time.perf_counter() - started
    if result.status != UsageImport.Status.DONE:
        sys.exit(f"Import refused: {result.message} {result.errors[:3]}")
    with connection.cursor() as cursor:
        # The bill run happens at month end, long after the month's imports: measure it, and its floor, on a
        # settled table (vacuumed and analysed, the import's WAL checkpointed) rather than under the import's
        # write-back, which otherwise lands on whichever of the two is measured first.
        cursor.execute(f"VACUUM (ANALYZE) {UsageRecord._meta.db_table}")
        # The tables this script emptied and refilled get what autovacuum gives them in production (it is off on
        # the development and CI machines): their dead rows cleared and their statistics taken.
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(model._meta.db_table for model in churned)}")
        cursor.execute("CHECKPOINT")

    # Floor for the bill run: one GROUP BY over the same rows. Each side is the median of three timings.
    def group_by() -> float:
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                f"SELECT rate_line_id, sum(quantity), count(*) FROM {UsageRecord._meta.db_table}"
                " WHERE bill_period = %s GROUP BY rate_line_id",
                [PERIOD],
            )
            cursor.fetchall()
            return time.perf_counter() - started

    def first_run() -> tuple[float, services.RunSummary]:
        Invoice.objects.filter(period=PERIOD).delete()
        BillRun.objects.filter(period=PERIOD).delete()
        with connection.cursor() as cursor:
            # A first run of the month meets no dead drafts of that month: clear those of the run before.
            cursor.execute(f"VACUUM {Invoice._meta.db_table}, {InvoiceLine._meta.db_table}")
            cursor.execute("CHECKPOINT")
        started = time.perf_counter()
        summary = services.bill_run_execute(period=PERIOD)
        return time.perf_counter() - started, summary

    group_floor = statistics.median(group_by() for _ in range(3))
    runs = [first_run() for _ in range(3)]
    run_time = statistics.median(t for t, _ in runs)
    summary = runs[-1][1]

    n = args.records
    print(
        f"import:   {n / import_time:,.0f} rec/s in {import_time:.2f} s (COPY floor {copy_floor:.2f} s;"
        f" for context, COPY into a logged table with the (carrier, record_id) key {keyed_floor:.2f} s)"
    )
    print(
        f"bill run: {n / run_time:,.0f} rec/s in {run_time:.2f} s (GROUP BY floor {group_floor:.2f} s); "
        f"{summary.invoices} invoices, {summary.lines} lines"
    )
    print(
        f"import {n / import_time:,.0f} rec/s ({import_time / copy_floor:.1f}x of floor) | "
        f"bill run {n / run_time:,.0f} rec/s ({run_time / group_floor:.1f}x of floor)"
    )


if __name__ == "__main__":
    main()
