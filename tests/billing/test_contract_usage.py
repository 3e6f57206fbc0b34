"""A contract's page shows the month's usage per line and reporting source, with its quality of service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing import services
from tests.billing import world
from tests.billing.conftest import usage_csv
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HEADER = "record_id,request,interval_start,interval_end,quantity,unit,latency_ms,jitter_ms,packet_loss_pct,volume_bytes"


def test_usage_and_quality_of_service_by_line_and_source(cast) -> None:  # type: ignore[no-untyped-def]
    contract = world.contract(cast)
    carrier_rows = [
        ("q1", "CT-ACME01", "2026-10-12T00:00:00Z", "2026-10-12T01:00:00Z", "10", "GB", "4", "1", "0.10", "2000000000"),
        ("q2", "CT-ACME01", "2026-10-13T00:00:00Z", "2026-10-13T01:00:00Z", "30", "GB", "8", "3", "0.30", "3000000000"),
    ]
    services.usage_import_run(
        import_id=services.usage_import_create(
            actor=cast.seller_admin,
            carrier=cast.carrier_org,
            source="carrier",
            filename="qos.csv",
            data=usage_csv(carrier_rows, HEADER),
        ).usage_import.pk
    )
    meter_rows = [("m1", "CT-ACME01", "2026-10-14T00:00:00Z", "2026-10-14T01:00:00Z", "5", "GB", "20", "", "", "")]
    services.usage_import_run(
        import_id=services.usage_import_create(
            actor=cast.moderator,
            carrier=cast.carrier_org,
            source="meter",
            filename="m.csv",
            data=usage_csv(meter_rows, HEADER),
        ).usage_import.pk
    )
    url = reverse("billing:contract_detail", args=[contract.pk])
    page = client_for(cast.buyer_owner).get(url, {"period": "2026-10"}).content.decode()
    assert "billed in October 2026" in page
    # The carrier's two records: 40 GB, latency averages 6.0 ms, jitter 2.0 ms, loss 0.20%, 5 GB of volume.
    assert "The carrier" in page and "40 GB" in page and "6.0 ms" in page and "2.0 ms" in page
    assert "0.20%" in page and "4.7\xa0GB" in page  # 5,000,000,000 bytes, in binary units
    # The meter's record is its own row, not mixed into the carrier's figures.
    assert "Measuring equipment" in page and "20.0 ms" in page

    empty = client_for(cast.seller_admin).get(url, {"period": "2026-09"}).content.decode()
    assert "No usage was billed on this contract in September 2026" in empty


def test_a_bad_month_is_a_field_error_not_a_500(cast) -> None:  # type: ignore[no-untyped-def]
    contract = world.contract(cast)
    response = client_for(cast.buyer_owner).get(
        reverse("billing:contract_detail", args=[contract.pk]), {"period": "2026-13"}
    )
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


def test_meters_and_the_equipment_behind_each_record_are_shown_to_those_who_run_them(cast) -> None:  # type: ignore[no-untyped-def]
    from billing.models import Meter

    contract = world.contract(cast)
    line = contract.rate_lines.get(usage_unit="GB")
    Meter.objects.create(rate_line=line, url="http://10.0.0.7/usage.json", equipment_id="MTR-7", last_error="")
    Meter.objects.create(rate_line=line, url="http://10.0.0.8/usage.json", equipment_id="MTR-8", last_error="timed out")
    rows = [("e1", "CT-ACME01", "2026-10-14T00:00:00Z", "2026-10-14T01:00:00Z", "5", "GB", "MTR-7")]
    services.usage_import_run(
        import_id=services.usage_import_create(
            actor=cast.moderator,
            carrier=cast.carrier_org,
            source="meter",
            filename="m.csv",
            data=usage_csv(rows, "record_id,request,interval_start,interval_end,quantity,unit,equipment_id"),
        ).usage_import.pk
    )
    url = reverse("billing:contract_detail", args=[contract.pk])
    staff = " ".join(client_for(cast.moderator).get(url, {"period": "2026-10"}).content.decode().split())
    assert "MTR-7" in staff and "http://10.0.0.7/usage.json" in staff and "Failing</span> timed out" in staff
    assert "Waiting for its first poll" in staff and "equipment MTR-7" in staff
    carrier = client_for(cast.seller_billing).get(url, {"period": "2026-10"}).content.decode()
    assert "MTR-8" in carrier and "timed out" in carrier and "10.0.0.8" not in carrier  # the address is staff's
    buyer = client_for(cast.buyer_owner).get(url, {"period": "2026-10"}).content.decode()
    assert "equipment MTR-7" in buyer and "meters-title" not in buyer and "timed out" not in buyer
