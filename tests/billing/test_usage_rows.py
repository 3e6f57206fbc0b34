"""Every kind of bad row is reported by line and reason on both databases; nothing is saved; nothing raises."""

from __future__ import annotations

import pytest

from billing.models import UsageImport, UsageRecord
from tests.billing.test_usage_import import upload

pytestmark = pytest.mark.django_db

HEADER = "record_id,request,interval_start,interval_end,quantity,unit\n"
GOOD = "CT-ACME01,2026-10-12T00:00:00Z,2026-10-12T01:00:00Z"


@pytest.mark.parametrize(
    ("body", "line", "column", "message"),
    [
        (f"a,{GOOD},5\n", 2, "", "fewer values than the header's 6 columns"),
        (f"a,{GOOD},5,GB,extra\n", 2, "", "more values than the header's 6 columns"),
        (f'a,"CT-ACME01",{GOOD[10:]},5,GB\r\nb,{GOOD},"1,5",GB\r\n', 3, "quantity", "must be a number"),
        (f"a,{GOOD},1e3,GB\n", 2, "quantity", "must be a number"),
        (f"a,{GOOD},NaN,GB\n", 2, "quantity", "must be a number"),
        (f"a,{GOOD},99999999999999999999,GB\n", 2, "quantity", "too large (at most 12 digits"),
        ("a,CT-ACME01,2026-02-30T00:00:00Z,2026-10-12T01:00:00Z,5,GB\n", 2, "interval_start", "not a date"),
        ("a,CT-ACME01,2026-10-12T00:00:00Z,infinity,5,GB\n", 2, "interval_end", "not a date"),
        (f"ok,{GOOD},1,GB\nb,{GOOD},5,GB,\n", 3, "", "more values"),
    ],
)
def test_bad_rows_are_reported_by_line(billing_world, body: str, line: int, column: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = upload(billing_world, (HEADER + body).encode())
    assert result.status == UsageImport.Status.FAILED
    assert [(e["line"], e["column"]) for e in result.errors] == [(line, column)]
    assert message in result.errors[0]["message"]
    assert UsageRecord.objects.count() == 0


def test_blank_lines_spaces_and_backslashes_are_fine_and_duplicates_still_count(billing_world) -> None:  # type: ignore[no-untyped-def]
    body = f"a,{GOOD}, 5 ,GB\n\n\nb\\1,{GOOD},6,GB\n \nb\\1,{GOOD},6,GB"
    result = upload(billing_world, (HEADER + body).encode())
    assert (result.status, result.inserted, result.duplicates) == (UsageImport.Status.DONE, 2, 1), result.errors
    assert sorted(UsageRecord.objects.values_list("record_id", flat=True)) == ["a", "b\\1"]


def test_values_are_trimmed_so_a_record_padded_with_spaces_is_the_same_record(billing_world) -> None:  # type: ignore[no-untyped-def]
    first = upload(billing_world, (HEADER + f"r1,{GOOD},5,GB\n").encode())
    assert first.status == UsageImport.Status.DONE, first.errors
    padded = f" r1 ,{GOOD},5, GB \n\tr2\t,{GOOD},6,GB\n"
    result = upload(billing_world, (HEADER + padded).encode())
    assert (result.status, result.inserted, result.duplicates) == (UsageImport.Status.DONE, 1, 1), result.errors
    assert sorted(UsageRecord.objects.values_list("record_id", "unit")) == [("r1", "GB"), ("r2", "GB")]
