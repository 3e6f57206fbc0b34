"""The two PostgreSQL import paths store the same rows; the site column picks between lines at different sites."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing import usage
from billing.models import BillRun, UsageImport, UsageRecord
from buyers.models import EndCustomer
from tests.billing.conftest import make_contract, usage_csv
from tests.billing.test_usage_import import upload
from tests.rfq import builders

pytestmark = pytest.mark.django_db

HEADER = (
    "record_id,request,interval_start,interval_end,quantity,unit,service_type,end_customer,latency_ms,"
    "volume_bytes,equipment_id"
)
ROWS = [
    # UTC, an offset that puts the record in the previous UTC month, fractions of a second, no offset at all.
    ("p1", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z", "5.5", "GB", "", "", "4.2", "", "NTU-1"),
    ("p2", "CT-ACME01", "2026-11-01T01:00:00+02:00", "2026-11-01T02:00:00+02:00", "2", "GB", "", "", "", "", ""),
    ("p3", "CT-ACME01", "2026-10-13T00:00:00.5Z", "2026-10-13T00:10:00Z", "61", "minute", "", "", "", "9", ""),
    ("p4", "CT-ACME01", "2026-09-30 23:00:00", "2026-09-30 23:30:00", "1", "GB", "", "", "", "", ""),
    ("p5", "CT-ACME01", "2026-10-14T00:00:00Z", "2026-10-14T01:00:00Z", "3", "GB", "internet-dedicated", "HVP-1",
     "", "", ""),
]  # fmt: skip


def stored() -> list[tuple[object, ...]]:
    return list(
        UsageRecord.objects.order_by("record_id").values_list(
            "record_id",
            "contract_id",
            "rate_line_id",
            "buyer_id",
            "end_customer_id",
            "interval_start",
            "interval_end",
            "quantity",
            "unit",
            "service_type_code",
            "latency_ms",
            "volume_bytes",
            "equipment_id",
            "bill_period",
            "is_adjustment",
            "source",
        )
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="The COPY paths exist only on PostgreSQL.")
def test_fast_copy_and_staging_paths_store_identical_rows(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    EndCustomer.objects.create(reseller=world.buyer_org, name="Tyne Taxis", reference="HVP-1")
    BillRun.objects.create(period=date(2026, 9, 1), status=BillRun.Status.FINALIZED)
    data = usage_csv(ROWS, header=HEADER)
    text = data.decode()
    header = text.split("\n", 1)[0].split(",")
    results = []
    for path in (usage._copy_direct, usage._import_staged):
        usage_import = UsageImport.objects.create(
            carrier=world.carrier_org, source="lec", filename="x.csv", sha256=path.__name__
        )
        with transaction.atomic():
            result = path(usage_import, text, header)
            results.append((result.total, result.inserted, result.adjustments, stored()))
            transaction.set_rollback(True)
    fast, staged = results
    assert fast == staged
    total, inserted, adjustments, rows = fast
    assert (total, inserted, adjustments) == (5, 5, 1)
    by_id = {row[0]: row for row in rows}
    assert by_id["p2"][13] == date(2026, 10, 1)  # 23:00 UTC on 31 October
    assert by_id["p4"][13:15] == (date(2026, 10, 1), True)  # September is finalised: late usage
    assert by_id["p1"][10] == Decimal("4.2") and by_id["p1"][12] == "NTU-1" and by_id["p3"][11] == 9
    assert by_id["p3"][2] != by_id["p1"][2]  # minutes and gigabytes go to their own lines
    assert by_id["p5"][4] is not None and by_id["p5"][9] == "internet-dedicated"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="The COPY paths exist only on PostgreSQL.")
def test_a_duplicate_in_a_clean_file_falls_back_to_the_staging_path(billing_world) -> None:  # type: ignore[no-untyped-def]
    first = upload(billing_world, usage_csv([r[:6] for r in ROWS[:2]]))
    assert (first.inserted, first.duplicates) == (2, 0)
    # The fast COPY meets p2 again, fails on the key, and the staging path counts it as a duplicate.
    second = upload(billing_world, usage_csv([r[:6] for r in ROWS[1:4]]), "second.csv")
    assert (second.status, second.inserted, second.duplicates) == (UsageImport.Status.DONE, 2, 1)
    assert UsageRecord.objects.count() == 4


def test_site_column_chooses_between_lines_at_different_sites(billing_world) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    leeds = builders.site(world.buyer_org, "Leeds depot")
    york = builders.site(world.buyer_org, "York depot", postcode="YO1 7HH")
    make_contract(
        world.buyer_org,
        world.carrier_org,
        number="CT-TWO",
        start=date(2026, 10, 1),
        end=date(2027, 10, 1),
        lines=[
            {"code": "data-mpls", "description": "MPLS Leeds", "site": leeds, "usage_unit": "GB", "usage_rate": 1},
            {"code": "data-mpls", "description": "MPLS York", "site": york, "usage_unit": "GB", "usage_rate": 2},
        ],
    )
    times = ("2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z")
    without = upload(world, usage_csv([("s1", "CT-TWO", *times, "1", "GB")]))
    assert without.status == UsageImport.Status.FAILED
    assert without.errors[0]["line"] == 2 and "several sites (Leeds depot, York depot)" in without.errors[0]["message"]
    header = "record_id,request,interval_start,interval_end,quantity,unit,site"
    rows = [("s1", "CT-TWO", *times, "1", "GB", "Leeds depot"), ("s2", "CT-TWO", *times, "4", "GB", "york depot")]
    ok = upload(world, usage_csv(rows, header=header), "sites.csv")
    assert ok.status == UsageImport.Status.DONE, ok.errors
    lines = dict(UsageRecord.objects.values_list("record_id", "rate_line__description"))
    assert lines == {"s1": "MPLS Leeds", "s2": "MPLS York"}
    unknown = upload(world, usage_csv([("s3", "CT-TWO", *times, "1", "GB", "Hull")], header=header), "hull.csv")
    assert "no line billed per 'GB' at site 'Hull'" in unknown.errors[0]["message"]
