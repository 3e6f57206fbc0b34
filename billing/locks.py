"""PostgreSQL advisory locks of billing; elsewhere (SQLite) they are no-ops and the database's single writer
serialises instead.

A period's bill run and its finalisation hold the period's lock exclusively for their whole transaction; a usage
import holds it shared for every period it writes to, from the end of its COPY until it commits. So a month is
never finalised while records for it are being committed, and an import that waited for a finalisation sees the
month finalised and bills its records as adjustments of the next open month instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection

RUN_LOCK = 7_301  # (RUN_LOCK, yyyymm): a period
IMPORT_LOCK = 7_302  # (IMPORT_LOCK, carrier id): one usage import per carrier at a time


def period_key(period: date) -> int:
    return period.year * 100 + period.month


def lock_period(period: date) -> None:
    """Hold `period` exclusively until the transaction ends: runs and finalisation of a month never overlap."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RUN_LOCK, period_key(period)])


def share_periods(periods: Iterable[date]) -> None:
    """Hold the periods shared until the transaction ends (waiting for a run or finalisation under way)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for period in sorted(set(periods)):
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [RUN_LOCK, period_key(period)])


def lock_carrier_imports(carrier_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, carrier_id])
