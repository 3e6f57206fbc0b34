"""Usage import: a CSV file is imported whole or not at all, each bad row reported with its line.

PostgreSQL, fast path: the rows stream straight into the usage table with one COPY, their contract ids
resolved in memory; if the database refuses anything (a bad value, a duplicate record) that attempt is
rolled back to its savepoint and the careful path runs: COPY into a temporary staging table, one set-based
diagnosis of every bad row, and one INSERT ... SELECT ... ON CONFLICT DO NOTHING. SQLite: the same rules
row by row in Python.
A record already imported (same carrier and record_id), in this file or an earlier one, is counted once
and reported as a duplicate.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from django.core.cache import cache
from django.db import DatabaseError, connection, models, transaction

from billing import locks
from billing.models import BillRun, Contract, RateLine, UsageImport, UsageRecord
from marketplace.csv_import import unreadable_csv_message

REQUIRED = ["record_id", "request", "interval_start", "interval_end", "quantity", "unit"]
OPTIONAL = [
    "service_type",
    "end_customer",
    "site",
    "min_bandwidth_mbps",
    "max_bandwidth_mbps",
    "volume_bytes",
    "latency_ms",
    "jitter_ms",
    "packet_loss_pct",
    "asr_pct",
    "equipment_id",
]
COLUMNS = REQUIRED + OPTIONAL
DECIMALS = ["min_bandwidth_mbps", "max_bandwidth_mbps", "latency_ms", "jitter_ms", "packet_loss_pct", "asr_pct"]
MAX_ERRORS = 500
NUMBER_RE = r"^[0-9]+(\.[0-9]+)?$"
TIMESTAMP_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)


@dataclass
class ImportResult:
    total: int = 0
    inserted: int = 0
    duplicates: int = 0
    adjustments: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    periods: set[date] = field(default_factory=set)  # the bill periods the records went to

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Resolved:
    contract_id: int
    rate_line_id: int
    buyer_id: int
    end_customer_id: int | None


def progress_key(import_id: int) -> str:
    return f"usage-import-progress:{import_id}"


def _progress(import_id: int, phase: str, done: int, total: int) -> None:
    # The import runs in one transaction, so progress goes through the shared cache where the page can see it.
    cache.set(progress_key(import_id), {"phase": phase, "done": done, "total": total}, timeout=3600)


def _error(line: int, column: str, message: str) -> dict[str, Any]:
    return {"line": line, "column": column, "message": message}


Key = tuple[str, str, str, str, str]  # request, service type, unit, end customer, site


@dataclass(frozen=True, slots=True)
class ContractRef:
    pk: int
    number: str
    buyer_id: int
    end_customer_id: int | None


class KeyResolver:
    """Resolves (request, service type, unit, end customer, site) keys to contracts in memory.

    It loads the carrier's contracts named by `requests` (all of them when None), their rate lines and their
    buyers' end customers with three queries, so keys can be resolved while a COPY holds the connection.
    """

    def __init__(self, carrier_id: int, requests: set[str] | None = None) -> None:
        from buyers.models import EndCustomer

        contracts = Contract.objects.filter(carrier_id=carrier_id)
        if requests is not None:
            contracts = contracts.filter(models.Q(number__in=requests) | models.Q(rfq__reference__in=requests))
        self.by_number: dict[str, list[ContractRef]] = {}
        self.by_reference: dict[str, list[ContractRef]] = {}
        for pk, number, reference, buyer_id, end_customer_id in contracts.values_list(
            "pk", "number", "rfq__reference", "buyer_id", "end_customer_id"
        ):
            contract = ContractRef(pk, number, buyer_id, end_customer_id)
            self.by_number.setdefault(number, []).append(contract)
            if reference is not None:
                self.by_reference.setdefault(reference, []).append(contract)
        found = {c.pk: c for group in (*self.by_number.values(), *self.by_reference.values()) for c in group}
        self.lines: dict[int, list[tuple[int, str, str, str]]] = {}
        for line_id, contract_id, unit, code, site in (
            RateLine.objects.filter(contract_id__in=found)
            .order_by("id")
            .values_list("id", "contract_id", "usage_unit", "service_type__code", "site__name")
        ):
            self.lines.setdefault(contract_id, []).append((line_id, unit.lower(), code, site or ""))
        self.end_customers = {
            (reseller_id, reference): pk
            for pk, reseller_id, reference in EndCustomer.objects.filter(
                reseller_id__in={c.buyer_id for c in found.values()}
            ).values_list("pk", "reseller_id", "reference")
        }
        self.cache: dict[Key, Resolved | str] = {}

    def __call__(self, key: Key) -> Resolved | str:
        if key not in self.cache:
            self.cache[key] = self._resolve(*(part.strip() for part in key))
        return self.cache[key]

    def _resolve(self, request: str, service_type: str, unit: str, end_customer: str, site: str) -> Resolved | str:
        if not request or not unit:
            return "skip"
        contracts = self.by_number.get(request) or self.by_reference.get(request) or []
        if not contracts:
            return f"You have no contract for {request!r}: use the request reference or the contract number."
        if len(contracts) > 1 and end_customer:
            # A reseller's award has a contract per end customer: the record's end customer picks one.
            contracts = [
                c
                for c in contracts
                if c.end_customer_id is not None
                and c.end_customer_id == self.end_customers.get((c.buyer_id, end_customer))
            ] or contracts
        if len(contracts) > 1:
            numbers = ", ".join(sorted(c.number for c in contracts))
            return f"{request} has several contracts with you ({numbers}): use the contract number instead."
        contract = contracts[0]
        candidates = [
            (line_id, line_site)
            for line_id, line_unit, code, line_site in self.lines.get(contract.pk, [])
            if line_unit == unit.lower()
            and (not service_type or code == service_type)
            and (not site or line_site.lower() == site.lower())
        ]
        if not candidates:
            what = f" for {service_type}" if service_type else ""
            where = f" at site {site!r}" if site else ""
            return f"Contract {contract.number} has no line billed per {unit!r}{what}{where}."
        sites = sorted({line_site for _, line_site in candidates})
        if len(sites) > 1:
            # Lines at different sites bill the same unit: the record must say which site it measured.
            return (
                f"Contract {contract.number} bills {unit!r} at several sites ({', '.join(sites)}): add the site column."
            )
        match = candidates[0][0]
        ec_id = contract.end_customer_id
        if end_customer:
            ec_id = self.end_customers.get((contract.buyer_id, end_customer))
            if ec_id is None:
                return f"The buyer has no end customer with reference {end_customer!r}."
            if contract.end_customer_id is not None and ec_id != contract.end_customer_id:
                return f"Contract {contract.number} is for another end customer than {end_customer!r}."
        return Resolved(contract.pk, match, contract.buyer_id, ec_id)


def resolve_keys(carrier_id: int, keys: set[Key]) -> dict[Key, Resolved | str]:
    """Resolve many (request, service type, unit, end customer, site) keys with a handful of queries."""
    resolver = KeyResolver(carrier_id, {k[0].strip() for k in keys})
    return {key: resolver(key) for key in keys}


def _month(value: datetime) -> date:
    return date(value.year, value.month, 1)


def finalized_periods() -> set[date]:
    return set(BillRun.objects.filter(status=BillRun.Status.FINALIZED).values_list("period", flat=True))


def bill_period_for(month: date, finalized: set[date]) -> tuple[date, bool]:
    """A month's usage goes on its own bill, or, once that month is finalised, on the next open one."""
    target = month
    while target in finalized:
        target = date(target.year + (target.month == 12), target.month % 12 + 1, 1)
    return target, target != month


def bill_period_map(months: set[date]) -> dict[date, tuple[date, bool]]:
    finalized = finalized_periods()
    return {month: bill_period_for(month, finalized) for month in months}


def check_header(header: list[str]) -> list[dict[str, Any]]:
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    errors = []
    if missing:
        errors.append(_error(1, "", f"Missing column(s): {', '.join(missing)}."))
    if unknown:
        errors.append(_error(1, "", f"Unknown column(s): {', '.join(unknown)}. See the README for the format."))
    if len(set(header)) != len(header):
        errors.append(_error(1, "", "A column appears twice."))
    return errors


def run_import(usage_import: UsageImport, data: bytes) -> ImportResult:
    """Validate and import one file inside the caller's transaction."""
    # Line ends are normalised once so that every path (and COPY, which refuses a bare carriage return) agrees.
    text = data.decode("utf-8-sig", errors="strict").replace("\r\n", "\n") if data else ""
    first = text.split("\n", 1)[0]
    if "\x00" in text:
        # PostgreSQL stores no NUL in text (nor in the JSON of the error list): refuse the file before any row.
        line = text.count("\n", 0, text.index("\x00")) + 1
        return ImportResult(errors=[_error(line, "", "This line holds a NUL byte: the file is not a text CSV file.")])
    try:
        header = [h.strip() for h in next(csv.reader([first]), [])] if first else []
        errors = check_header(header) if header else [_error(0, "", "The file is empty.")]
        if errors:
            return ImportResult(errors=errors)
        if connection.vendor == "postgresql":
            return _import_postgresql(usage_import, text, header)
        return _import_python(usage_import, text, header)
    except csv.Error as exc:
        # A cell past the csv module's limit, often a quote never closed that swallows the rest of the file.
        return ImportResult(errors=[_error(0, "", unreadable_csv_message(exc))])


# --- PostgreSQL: COPY, one check, one INSERT ... SELECT -------------------------------------------------


def _import_postgresql(usage_import: UsageImport, text: str, header: list[str]) -> ImportResult:
    # One import per carrier at a time: the fast path's duplicate check relies on nobody else inserting.
    locks.lock_carrier_imports(usage_import.carrier_id)
    for _ in range(24):
        try:
            with transaction.atomic():
                result = _import_once(usage_import, text, header)
                if result.ok:
                    # Hold the months written until commit; one finalised meanwhile (we waited for it) means its
                    # records must go to the next open month as adjustments: undo and import again.
                    locks.share_periods(result.periods)
                    if result.periods & finalized_periods():
                        raise _PeriodFinalised
                return result
        except _PeriodFinalised:
            continue
    raise RuntimeError("Months kept being finalised during the import.")  # pragma: no cover


class _PeriodFinalised(Exception):  # noqa: N818  (a signal, not an error)
    """A month the import wrote to was finalised while it waited to commit."""


def _import_once(usage_import: UsageImport, text: str, header: list[str]) -> ImportResult:
    try:
        with transaction.atomic():
            return _copy_direct(usage_import, text, header)
    except (psycopg.Error, _NeedsStaging):
        # Something in the file needs the careful path, which explains each row; nothing of the attempt stays.
        pass
    return _import_staged(usage_import, text, header)


class _NeedsStaging(Exception):  # noqa: N818  (a signal, not an error)
    """The fast path met a row it cannot vouch for."""


# Table columns a file column goes to; request, end_customer and site are resolved to ids instead.
TABLE_COLUMN = {"service_type": "service_type_code"}
TEXT_NOT_NULL = ["service_type_code", "equipment_id"]
DERIVED = [
    "carrier_id",
    "usage_import_id",
    "source",
    "contract_id",
    "rate_line_id",
    "buyer_id",
    "end_customer_id",
    "bill_period",
    "is_adjustment",
]
PROGRESS_EVERY = 100_000


def _utc_month(value: str) -> date:
    """The UTC month of a timestamp from the file (the database checks the value itself)."""
    if not _timestamp_shaped(value):
        raise _NeedsStaging(value)
    parsed = _parse_timestamp(value.strip())
    if parsed is None:
        raise _NeedsStaging(value)
    return _month(parsed.astimezone(UTC))


def _number_matcher(column: str) -> Callable[[str], re.Match[str] | None]:
    """Digits, a point and digits, within the column's size, with spaces around allowed."""
    return re.compile(rf"\s*[0-9]{{1,{_integer_digits(column)}}}(\.[0-9]+)?\s*").fullmatch


def _timestamp_shaped(value: str) -> bool:
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return True
    value = value.strip()
    return len(value) >= 10 and value[4] == "-" and value[7] == "-"


def _copy_direct(usage_import: UsageImport, text: str, header: list[str]) -> ImportResult:
    """Fast path: stream the rows straight into the usage table with one COPY.

    Python splits each line, resolves its contract from memory and appends the derived columns; PostgreSQL
    parses and checks the values while Python prepares the next batch. Any doubt (quotes, an unknown
    contract, a bad value, a duplicate key) raises, and the caller takes the staging path instead.
    """
    resolver = KeyResolver(usage_import.carrier_id)
    finalized = finalized_periods()
    position = {name: i for i, name in enumerate(header)}
    kept = [i for i, name in enumerate(header) if name not in ("request", "end_customer", "site")]
    columns = [TABLE_COLUMN.get(header[i], header[i]) for i in kept]
    missing = [c for c in TEXT_NOT_NULL if c not in columns]
    pick = operator.itemgetter(*kept)
    # The columns that choose a contract line, in file order; expanded to a full Key only on a cache miss.
    key_names = ("request", "service_type", "unit", "end_customer", "site")
    key_at = [position[name] for name in key_names if name in position]
    key_of = operator.itemgetter(*key_at)
    start_at = position["interval_start"]
    end_at = position["interval_end"]
    quantity_at = position["quantity"]
    # PostgreSQL reads NaN, Infinity, 1e3 and "now" as values; the bill may not, so the rows are checked here.
    quantity_ok = _number_matcher("quantity")
    decimals_ok = [(position[c], _number_matcher(c)) for c in DECIMALS if c in position]
    width = len(header)
    pad = "," * len(missing)
    fixed = f"{usage_import.carrier_id},{usage_import.pk},{usage_import.source}"
    # Caches: a timestamp string's UTC month, end timestamps already seen, a (line key, month)'s derived columns.
    months: dict[str, date] = {}
    ends: set[str] = set()
    suffixes: dict[tuple[Any, date], tuple[str, bool]] = {}
    result = ImportResult()
    copy_sql = (
        f"COPY {UsageRecord._meta.db_table} ({', '.join(columns + missing + DERIVED)}) FROM STDIN"
        f" WITH (FORMAT csv, FORCE_NOT_NULL ({', '.join(TEXT_NOT_NULL)}))"
    )
    lines = text.split("\n")
    _progress(usage_import.pk, "importing", 0, len(lines) - 1)
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        batch: list[str] = []
        append = batch.append
        for number, line in enumerate(lines[1:], start=2):
            if not line or line.isspace():
                continue
            if '"' in line or "\t" in line or ", " in line or " ," in line or line[0] == " " or line[-1] == " ":
                # Quotes need a CSV reader, and values with spaces around them are trimmed on the staging path.
                raise _NeedsStaging(number)
            fields = line.split(",")
            if len(fields) != width or quantity_ok(fields[quantity_at]) is None:
                raise _NeedsStaging(number)
            start = fields[start_at]
            month = months.get(start)
            if month is None:
                if len(months) > 100_000:
                    months.clear()
                month = months[start] = _utc_month(start)
            end = fields[end_at]
            if end not in ends:
                if not _timestamp_shaped(end):
                    raise _NeedsStaging(number)
                if len(ends) > 100_000:
                    ends.clear()
                ends.add(end)
            if decimals_ok and any(fields[at] and ok(fields[at]) is None for at, ok in decimals_ok):
                raise _NeedsStaging(number)
            line_key = key_of(fields)
            found = suffixes.get((line_key, month))
            if found is None:
                named = dict(zip(key_names, [""] * 5, strict=True))
                named.update(zip((n for n in key_names if n in position), [fields[at] for at in key_at], strict=True))
                resolved = resolver(tuple(named.values()))  # type: ignore[arg-type]
                if not isinstance(resolved, Resolved):
                    raise _NeedsStaging(number)
                period, adjustment = bill_period_for(month, finalized)
                result.periods.add(period)
                found = suffixes[(line_key, month)] = (
                    f"{pad},{fixed},{resolved.contract_id},{resolved.rate_line_id},{resolved.buyer_id},"
                    f"{resolved.end_customer_id or ''},{period.isoformat()},{'t' if adjustment else 'f'}\n",
                    adjustment,
                )
            values = pick(fields)
            append((values if isinstance(values, str) else ",".join(values)) + found[0])
            result.adjustments += found[1]
            if len(batch) == 10_000:
                copy.write("".join(batch))
                result.total += len(batch)
                batch.clear()
                if result.total % PROGRESS_EVERY == 0:
                    _progress(usage_import.pk, "importing", result.total, len(lines) - 1)
        if batch:
            copy.write("".join(batch))
            result.total += len(batch)
    if result.total == 0:
        raise _NeedsStaging(0)
    result.inserted = result.total
    _progress(usage_import.pk, "done", result.total, result.total)
    return result


def _import_staged(usage_import: UsageImport, text: str, header: list[str]) -> ImportResult:
    """Careful path: COPY into a staging table and one INSERT ... SELECT ... ON CONFLICT that counts duplicates.

    If the database refuses anything, the attempt is rolled back and every row is checked in Python, with the
    same rules as the SQLite path, so each bad row is reported with its line and reason.
    """
    try:
        with transaction.atomic():
            return _staged_insert(usage_import, text, header)
    except (psycopg.Error, DatabaseError, _NeedsStaging):
        pass
    result, _, _ = _check_rows(usage_import, text, header, keep=False)
    if not result.errors:
        result.errors = [_error(0, "", "The file was refused by the database, but no row breaks a known rule.")]
    result.inserted = result.duplicates = result.adjustments = 0
    return result


def _staged_insert(usage_import: UsageImport, text: str, header: list[str]) -> ImportResult:
    result = ImportResult()
    if "\n\n" in text or "\n \n" in text:
        # CSV COPY reads a blank line as a row of one empty value; blank lines are skipped, as on every path.
        text = "\n".join(line for line in text.split("\n") if line.strip()) + "\n"
    with connection.cursor() as cursor:
        # Dropped on commit; also dropped here in case two imports share one transaction.
        cursor.execute("DROP TABLE IF EXISTS usage_staging, usage_keys, usage_months")
        cols = ", ".join(f"{c} text" for c in COLUMNS)
        cursor.execute(f"CREATE TEMP TABLE usage_staging (line bigserial, {cols}) ON COMMIT DROP")  # noqa: S608
        _progress(usage_import.pk, "copying", 0, 0)
        copy_sql = f"COPY usage_staging ({', '.join(header)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        with cursor.cursor.copy(copy_sql) as copy:
            copy.write(text.encode())
        cursor.execute("SELECT count(*) FROM usage_staging")
        result.total = cursor.fetchone()[0]
        if result.total == 0:
            result.errors.append(_error(0, "", "The file has a header but no rows."))
            return result
        _progress(usage_import.pk, "checking", 0, result.total)

        # Resolve the few distinct (request, service type, unit, end customer, site) keys in Python.
        cursor.execute(
            "SELECT DISTINCT coalesce(request, ''), coalesce(service_type, ''), coalesce(unit, ''),"
            " coalesce(end_customer, ''), coalesce(site, '') FROM usage_staging"
        )
        keys = cursor.fetchall()
        resolved = resolve_keys(usage_import.carrier_id, {tuple(k) for k in keys})  # type: ignore[misc]
        if any(not isinstance(found, Resolved) for found in resolved.values()):
            raise _NeedsStaging("a request, unit or end customer does not resolve")
        cursor.execute(
            "CREATE TEMP TABLE usage_keys (request text, service_type text, unit text, end_customer text, site text,"
            " contract_id bigint, rate_line_id bigint, buyer_id bigint, end_customer_id bigint) ON COMMIT DROP"
        )
        rows = []
        for key in keys:
            found = resolved[tuple(key)]  # type: ignore[index]
            assert isinstance(found, Resolved)  # noqa: S101
            rows.append((*key, found.contract_id, found.rate_line_id, found.buyer_id, found.end_customer_id))
        cursor.executemany("INSERT INTO usage_keys VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        # Temporary tables have no statistics until analysed; without them the joins below go nested-loop.
        cursor.execute("ANALYZE usage_staging")
        cursor.execute("ANALYZE usage_keys")
        _insert(cursor, usage_import, result)
        _progress(usage_import.pk, "done", result.total, result.total)
    return result


ISO_START = "____-__-__%"


def _optional_number(column: str) -> str:
    # Empty is NULL; digits are cast; anything else is cast with a suffix so that the cast itself refuses it.
    value = f"s.{column}"
    return (
        f"CASE WHEN btrim(coalesce({value}, '')) = '' THEN NULL WHEN btrim({value}) ~ '{NUMBER_RE}'"
        f" THEN {value}::numeric"
        f" ELSE ({value} || ' is not a number')::numeric END"
    )


def _trim(value: str) -> str:
    # Spaces and tabs, what Python's strip() removes from a CSV value in practice.
    return f"btrim({value}, E' \\t')"


SERVICE_TYPE = _trim("coalesce(s.service_type, '')")
EQUIPMENT_ID = _trim("coalesce(s.equipment_id, '')")


def _insert(cursor: Any, usage_import: UsageImport, result: ImportResult) -> None:
    """Move the staging rows into the usage table in one statement; raises on the first bad row."""
    cursor.execute(
        "SELECT DISTINCT date_trunc('month', interval_start::timestamptz AT TIME ZONE 'UTC')::date"
        " FROM usage_staging WHERE btrim(interval_start) LIKE %s",
        [ISO_START],
    )
    months = bill_period_map({r[0] for r in cursor.fetchall()})
    result.periods = {period for period, _ in months.values()}
    cursor.execute(
        "CREATE TEMP TABLE usage_months (month date, bill_period date, is_adjustment boolean) ON COMMIT DROP"
    )
    cursor.executemany("INSERT INTO usage_months VALUES (%s, %s, %s)", [(m, p, adj) for m, (p, adj) in months.items()])
    cursor.execute("ANALYZE usage_months")
    _progress(usage_import.pk, "importing", 0, result.total)
    table = UsageRecord._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} (carrier_id, record_id, contract_id, rate_line_id, buyer_id, end_customer_id,"  # noqa: S608
        " usage_import_id, source, interval_start, interval_end, quantity, unit, service_type_code,"
        " min_bandwidth_mbps, max_bandwidth_mbps, volume_bytes, latency_ms, jitter_ms, packet_loss_pct,"
        " asr_pct, equipment_id, bill_period, is_adjustment)"
        # Text values are trimmed of surrounding blanks, as the Python path does: " r1" and "r1" are one record.
        f" SELECT %s, {_trim('s.record_id')}, k.contract_id, k.rate_line_id, k.buyer_id, k.end_customer_id, %s, %s,"
        " CASE WHEN btrim(s.interval_start) LIKE %s THEN s.interval_start::timestamptz END,"
        " CASE WHEN btrim(s.interval_end) LIKE %s THEN s.interval_end::timestamptz END,"
        # NaN and Infinity are numbers to PostgreSQL but not to a bill: anything but digits is refused.
        f" CASE WHEN btrim(s.quantity) ~ '{NUMBER_RE}' THEN s.quantity::numeric END, {_trim('s.unit')},"
        f" {SERVICE_TYPE}, {_optional_number('min_bandwidth_mbps')},"
        f" {_optional_number('max_bandwidth_mbps')}, nullif(s.volume_bytes, '')::bigint,"
        f" {_optional_number('latency_ms')}, {_optional_number('jitter_ms')},"
        f" {_optional_number('packet_loss_pct')}, {_optional_number('asr_pct')},"
        f" {EQUIPMENT_ID}, m.bill_period, coalesce(m.is_adjustment, false)"
        " FROM usage_staging s"
        " JOIN usage_keys k ON k.request = coalesce(s.request, '')"
        " AND k.service_type = coalesce(s.service_type, '') AND k.unit = coalesce(s.unit, '')"
        " AND k.end_customer = coalesce(s.end_customer, '') AND k.site = coalesce(s.site, '')"
        # A row whose start is not a timestamp finds no month: its bill_period is NULL and the row is refused.
        " LEFT JOIN usage_months m ON btrim(s.interval_start) LIKE %s"
        " AND m.month = date_trunc('month', s.interval_start::timestamptz AT TIME ZONE 'UTC')::date"
        " ON CONFLICT (carrier_id, record_id) DO NOTHING",
        [usage_import.carrier_id, usage_import.pk, usage_import.source, ISO_START, ISO_START, ISO_START],
    )
    result.inserted = cursor.rowcount
    result.duplicates = result.total - result.inserted
    if any(adj for _, adj in months.values()):
        cursor.execute(
            f"SELECT count(*) FROM {table} WHERE usage_import_id = %s AND is_adjustment",  # noqa: S608
            [usage_import.pk],
        )
        result.adjustments = cursor.fetchone()[0]


# --- SQLite and anything else: the same rules in Python ----------------------------------------------


def _parse_timestamp(value: str) -> datetime | None:
    if not re.match(TIMESTAMP_RE, value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_number(value: str) -> Decimal | None:
    if not re.match(NUMBER_RE, value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _integer_digits(column: str) -> int:
    field = UsageRecord._meta.get_field(column)
    assert isinstance(field, models.DecimalField)  # noqa: S101
    return int(field.max_digits or 0) - int(field.decimal_places or 0)


def _too_large(value: str, column: str) -> bool:
    return len(value.split(".", 1)[0].lstrip("0")) > _integer_digits(column)


def _row_problem(raw: dict[str | None, Any], header: list[str], row: dict[str, Any]) -> tuple[str, str] | None:
    """The first thing wrong with one row (Python's reading of the rules the database also enforces)."""
    if None in raw:
        return ("", f"This row has more values than the header's {len(header)} columns.")
    if any(raw.get(h) is None for h in header):
        return ("", f"This row has fewer values than the header's {len(header)} columns.")
    if not row["record_id"]:
        return ("record_id", "record_id is required.")
    if len(row["record_id"]) > 64:
        return ("record_id", "record_id is longer than 64 characters.")
    if not row["request"]:
        return ("request", "request is required.")
    start, end = _parse_timestamp(row["interval_start"]), _parse_timestamp(row["interval_end"])
    if start is None:
        return ("interval_start", "interval_start is not a date and time like 2026-10-01T00:00:00Z.")
    if end is None:
        return ("interval_end", "interval_end is not a date and time like 2026-10-01T01:00:00Z.")
    if _parse_number(row["quantity"]) is None:
        return ("quantity", "quantity must be a number, 0 or more.")
    if _too_large(row["quantity"], "quantity"):
        return ("quantity", f"quantity is too large (at most {_integer_digits('quantity')} digits before the point).")
    if not row["unit"]:
        return ("unit", "unit is required.")
    if len(row["unit"]) > 20:
        return ("unit", "unit is longer than 20 characters.")
    for c in DECIMALS:
        if row[c] and _parse_number(row[c]) is None:
            return (c, f"{c} must be a number.")
        if row[c] and _too_large(row[c], c):
            return (c, f"{c} is too large (at most {_integer_digits(c)} digits before the point).")
    if row["volume_bytes"] and not re.match(r"^[0-9]{1,18}$", row["volume_bytes"]):
        return ("volume_bytes", "volume_bytes must be a whole number.")
    if len(row["equipment_id"]) > 64:
        return ("equipment_id", "equipment_id is longer than 64 characters.")
    if end <= start:
        return ("interval_end", "interval_end must be after interval_start.")
    return None


def _check_rows(
    usage_import: UsageImport, text: str, header: list[str], *, keep: bool = True
) -> tuple[ImportResult, list[tuple[int, dict[str, Any], Key]], KeyResolver]:
    """Check every row in Python; the rows that pass, parsed, when `keep`."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text))
    parsed: list[tuple[int, dict[str, Any], Key]] = []
    resolver = KeyResolver(usage_import.carrier_id)
    for raw in reader:
        line = reader.line_num
        if None not in raw and not any((value or "").strip() for value in raw.values()):
            continue  # a blank line (spaces at most), skipped as on every path
        result.total += 1
        row = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        problem = _row_problem(raw, header, row)  # type: ignore[arg-type]
        key = (row["request"], row["service_type"], row["unit"], row["end_customer"], row["site"])
        if problem is None:
            found = resolver(key)
            if isinstance(found, str):
                problem = ("request", found)
        if problem is not None:
            if len(result.errors) < MAX_ERRORS:
                result.errors.append(_error(line, *problem))
            continue
        if keep:
            row["interval_start"] = _parse_timestamp(row["interval_start"])
            row["interval_end"] = _parse_timestamp(row["interval_end"])
            row["quantity"] = _parse_number(row["quantity"])
            parsed.append((line, row, key))
        if result.total % 5000 == 0:
            _progress(usage_import.pk, "checking", result.total, 0)
    if result.total == 0:
        result.errors.append(_error(0, "", "The file has a header but no rows."))
    return result, parsed, resolver


def _import_python(usage_import: UsageImport, text: str, header: list[str]) -> ImportResult:
    result, parsed, resolver = _check_rows(usage_import, text, header)
    if result.errors:
        return result
    months = bill_period_map({_month(r["interval_start"]) for _, r, _ in parsed})
    result.periods = {period for period, _ in months.values()}
    existing: set[str] = set()
    ids = [r["record_id"] for _, r, _ in parsed]
    for i in range(0, len(ids), 900):
        existing |= set(
            UsageRecord.objects.filter(carrier_id=usage_import.carrier_id, record_id__in=ids[i : i + 900]).values_list(
                "record_id", flat=True
            )
        )
    seen: set[str] = set()
    objects = []
    for _, row, key in parsed:
        if row["record_id"] in existing or row["record_id"] in seen:
            result.duplicates += 1
            continue
        seen.add(row["record_id"])
        resolved = resolver(key)
        assert isinstance(resolved, Resolved)  # noqa: S101  (errors returned above)
        bill_period, adjustment = months[_month(row["interval_start"])]
        result.adjustments += adjustment
        objects.append(
            UsageRecord(
                carrier_id=usage_import.carrier_id,
                record_id=row["record_id"],
                contract_id=resolved.contract_id,
                rate_line_id=resolved.rate_line_id,
                buyer_id=resolved.buyer_id,
                end_customer_id=resolved.end_customer_id,
                usage_import_id=usage_import.pk,
                source=usage_import.source,
                interval_start=row["interval_start"],
                interval_end=row["interval_end"],
                quantity=row["quantity"],
                unit=row["unit"],
                service_type_code=row["service_type"],
                min_bandwidth_mbps=_parse_number(row["min_bandwidth_mbps"]) if row["min_bandwidth_mbps"] else None,
                max_bandwidth_mbps=_parse_number(row["max_bandwidth_mbps"]) if row["max_bandwidth_mbps"] else None,
                volume_bytes=int(row["volume_bytes"]) if row["volume_bytes"] else None,
                latency_ms=_parse_number(row["latency_ms"]) if row["latency_ms"] else None,
                jitter_ms=_parse_number(row["jitter_ms"]) if row["jitter_ms"] else None,
                packet_loss_pct=_parse_number(row["packet_loss_pct"]) if row["packet_loss_pct"] else None,
                asr_pct=_parse_number(row["asr_pct"]) if row["asr_pct"] else None,
                equipment_id=row["equipment_id"],
                bill_period=bill_period,
                is_adjustment=adjustment,
            )
        )
    for i in range(0, len(objects), 2000):
        UsageRecord.objects.bulk_create(objects[i : i + 2000])
        _progress(usage_import.pk, "importing", min(i + 2000, len(objects)), len(objects))
    result.inserted = len(objects)
    return result
