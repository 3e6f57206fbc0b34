"""Query the measuring equipment: each meter's HTTP endpoint returns JSON records, imported like a file."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from typing import Any

from django.utils import timezone

from billing.models import Meter, UsageImport
from billing.usage import COLUMNS

TIMEOUT_SECONDS = 10


def _fetch(url: str) -> list[dict[str, Any]]:
    if not url.startswith(("http://", "https://")):
        raise ValueError("The meter address must be http or https.")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310  (scheme checked)
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        payload = json.loads(response.read().decode())
    records = payload.get("records", payload) if isinstance(payload, dict) else payload
    if not isinstance(records, list):
        raise ValueError("The meter answered without a list of records.")
    return records


def meter_poll(*, meter: Meter) -> UsageImport | None:
    """Poll one meter and import what it returns through the usage import path (source: meter)."""
    from billing.services import usage_import_create, usage_import_run

    contract = meter.rate_line.contract
    try:
        records = _fetch(meter.url)
    except (OSError, ValueError) as exc:
        Meter.objects.filter(pk=meter.pk).update(last_error=str(exc)[:300], last_polled_at=timezone.now())
        return None
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        row = {k: ("" if v is None else str(v)) for k, v in record.items() if k in COLUMNS}
        row.setdefault("request", contract.number)
        row.setdefault("equipment_id", meter.equipment_id)
        row.setdefault("service_type", meter.rate_line.service_type.code)
        writer.writerow(row)
    outcome = usage_import_create(
        actor=None,
        carrier=contract.carrier,
        source=UsageImport.Source.METER,
        filename=f"meter-{meter.equipment_id}.csv",
        data=buffer.getvalue().encode(),
    )
    result = outcome.usage_import if outcome.already_imported else usage_import_run(import_id=outcome.usage_import.pk)
    error = "" if result.status == UsageImport.Status.DONE or outcome.already_imported else result.message
    Meter.objects.filter(pk=meter.pk).update(last_polled_at=timezone.now(), last_error=error[:300])
    return result


def meters_poll_all() -> int:
    """Poll every enabled meter; returns how many answered."""
    answered = 0
    for meter in Meter.objects.filter(enabled=True).select_related(
        "rate_line__contract__carrier", "rate_line__service_type"
    ):
        if meter_poll(meter=meter) is not None:
            answered += 1
    return answered
