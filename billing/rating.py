"""A month's rating and drafts on PostgreSQL: two statements from the usage table to the invoice lines.

`services._rate_in_python` is the reference: it rates the same GROUP BY in Python and writes the drafts with
bulk_create, and it is what SQLite runs. On PostgreSQL the database does all of it: first the GROUP BY of the
month's records per rate line (a statement of its own, so that it gets a parallel plan; its rows come back as four
arrays), then one statement that takes the rate lines active in the month (or with late usage of an ended
contract), applies tiers, proration, one-time charges, commitment true-ups and commission, and writes the invoices
(one per buyer and invoice group, their ids in buyer-name order) and their lines (by request, then rate line, kind
and description). It returns the counts, the totals per currency and a SHA-256 over the lines (computed by the
database, so it differs from the Python path's for the same drafts; fingerprints are compared only between runs
on one database). Both paths give the same drafts (tests/billing/test_rating_paths.py).

Every text comparison that orders something is bytewise (COLLATE "C"), which is Python's code-point order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from billing.models import Contract, Invoice, InvoiceLine, RateLine, RateTier, UsageRecord
from marketplace.models import Organization
from rfq.models import Rfq

_USAGE_PLAIN = """
    SELECT u.rate_line_id, u.is_adjustment, sum(u.quantity) AS quantity, count(*) AS records
    FROM {usage} u
    WHERE u.bill_period = %(start)s
    GROUP BY u.rate_line_id, u.is_adjustment
"""

# Minute increments: each record rounds up to a multiple of its rate line's increment before it is summed.
_USAGE_INCREMENTS = """
    SELECT u.rate_line_id, u.is_adjustment,
           sum(CASE WHEN r.increment > 0 THEN ceil(u.quantity / r.increment) * r.increment ELSE u.quantity END)
             AS quantity,
           count(*) AS records
    FROM {usage} u JOIN {rateline} r ON r.id = u.rate_line_id
    WHERE u.bill_period = %(start)s
    GROUP BY u.rate_line_id, u.is_adjustment
"""

# The buyers the month may bill: of contracts running in it, or with late usage on one of their rate lines.
_BUYERS = """
    SELECT c.buyer_id, o.name
    FROM {contract} c JOIN {organization} o ON o.id = c.buyer_id
    WHERE (c.start_date < %(end)s AND c.end_date > %(start)s)
       OR c.id IN (SELECT r.contract_id FROM {rateline} r WHERE r.id = ANY(%(u_line)s::bigint[]))
"""

_RUN = """
WITH usage AS (
    SELECT * FROM unnest(%(u_line)s::bigint[], %(u_adj)s::boolean[], %(u_qty)s::numeric[], %(u_n)s::bigint[])
      AS u (rate_line_id, is_adjustment, quantity, records)
),
rl AS (
    SELECT r.id AS rate_line_id, r.description AS rl_description, r.monthly_charge, r.one_time_charge,
           r.usage_unit, coalesce(r.usage_rate, 0) AS usage_rate, r.minimum_commitment,
           c.id AS contract_id, coalesce(nullif(q.reference, ''), c.number) AS request, c.buyer_id, c.carrier_id,
           c.end_customer_id, c.currency, c.start_date, c.commission_percent,
           greatest(least(%(end)s::date, c.end_date) - greatest(%(start)s::date, c.start_date), 0) AS active_days,
           c.currency || ':ec' || coalesce(c.end_customer_id, 0)
             || CASE WHEN c.carrier_grouping = 'per_carrier' THEN ':carrier' || c.carrier_id ELSE ':all-carriers' END
             || CASE WHEN c.invoice_grouping = 'per_site' THEN ':site' || coalesce(r.site_id, 0) ELSE ':all-sites' END
             AS group_key,
           CASE WHEN c.carrier_grouping = 'per_carrier' THEN c.carrier_id END AS invoice_carrier_id
    FROM {rateline} r
    JOIN {contract} c ON c.id = r.contract_id
    LEFT JOIN {rfq} q ON q.id = c.rfq_id
    WHERE (c.start_date < %(end)s AND c.end_date > %(start)s) OR r.id IN (SELECT rate_line_id FROM usage)
       OR r.id = ANY(%(c_line)s::bigint[])
),
-- Graduated tiers: the base rate up to the first threshold, each tier's rate from its threshold to the next.
tiers AS (
    SELECT t.rate_line_id, t.threshold, t.rate,
           lead(t.threshold) OVER (PARTITION BY t.rate_line_id ORDER BY t.threshold) AS high
    FROM {ratetier} t WHERE t.rate_line_id IN (SELECT rate_line_id FROM usage)
),
above AS (
    SELECT u.rate_line_id, u.is_adjustment, min(t.threshold) AS first,
           sum(greatest(least(u.quantity, t.high) - t.threshold, 0) * t.rate) AS amount
    FROM usage u JOIN tiers t ON t.rate_line_id = u.rate_line_id
    GROUP BY u.rate_line_id, u.is_adjustment
),
charged AS (
    SELECT u.rate_line_id, u.is_adjustment, u.quantity, u.records,
           round(rl.usage_rate * least(u.quantity, coalesce(a.first, u.quantity)) + coalesce(a.amount, 0), 2)
             AS amount
    FROM usage u
    JOIN rl ON rl.rate_line_id = u.rate_line_id
    LEFT JOIN above a ON a.rate_line_id = u.rate_line_id AND a.is_adjustment = u.is_adjustment
),
rated AS (
    SELECT {line}, 0 AS seq, 'recurring' AS kind,
           rl.rl_description || ', ' || %(label)s
             || CASE WHEN rl.active_days = %(days)s THEN ''
                ELSE ' (prorated ' || round(rl.active_days * 100.0 / %(days)s, 1) || '%% of the month)' END
             AS description,
           round(rl.active_days::numeric / %(days)s, 6) AS quantity, 'month' AS unit,
           rl.monthly_charge::numeric AS unit_price,
           round(rl.monthly_charge * rl.active_days / %(days)s, 2) AS amount, 0::bigint AS record_count
    FROM rl WHERE rl.active_days > 0 AND rl.monthly_charge <> 0
    UNION ALL
    SELECT {line}, 1, 'one_time', rl.rl_description || ': installation', 1, '', rl.one_time_charge,
           rl.one_time_charge, 0
    FROM rl WHERE rl.one_time_charge <> 0 AND rl.start_date >= %(start)s AND rl.start_date < %(end)s
    UNION ALL
    SELECT {line}, CASE WHEN ch.is_adjustment THEN 3 ELSE 2 END,
           CASE WHEN ch.is_adjustment THEN 'adjustment' ELSE 'usage' END,
           rl.rl_description || ': '
             || CASE WHEN ch.is_adjustment THEN 'late usage from earlier months' ELSE 'usage' END
             || ', ' || trim_scale(ch.quantity) || ' ' || rl.usage_unit,
           round(ch.quantity, 6), rl.usage_unit, rl.usage_rate, ch.amount, ch.records
    FROM charged ch JOIN rl ON rl.rate_line_id = ch.rate_line_id
    UNION ALL
    SELECT {line}, 4, 'true_up',
           rl.rl_description || ': minimum commitment ' || rl.commitment || ' not reached', 1, '',
           rl.commitment - rl.used, rl.commitment - rl.used, 0
    FROM (
        SELECT rl.*, coalesce(ch.amount, 0) AS used,
               round(rl.minimum_commitment * rl.active_days / %(days)s, 2) AS commitment
        FROM rl LEFT JOIN charged ch ON ch.rate_line_id = rl.rate_line_id AND NOT ch.is_adjustment
        WHERE rl.minimum_commitment <> 0 AND rl.active_days > 0
    ) rl
    -- A month billed before it ends has no true-up: its shortfall is not known yet.
    WHERE rl.used < rl.commitment AND %(month_over)s
    UNION ALL
    -- Charges of months finalised before the contract existed (services.catch_up_lines works them out).
    SELECT {line}, CASE WHEN c.kind = 'one_time' THEN 1 ELSE 0 END, c.kind, c.description, c.quantity, c.unit,
           c.unit_price, c.amount, 0
    FROM unnest(%(c_line)s::bigint[], %(c_kind)s::text[], %(c_description)s::text[], %(c_quantity)s::numeric[],
                %(c_unit)s::text[], %(c_price)s::numeric[], %(c_amount)s::numeric[])
      AS c (rate_line_id, kind, description, quantity, unit, unit_price, amount)
    JOIN rl ON rl.rate_line_id = c.rate_line_id
),
lines AS (
    -- Each line's place on its invoice: by request, then rate line, kind and description.
    SELECT x.*, round(x.amount * x.commission_percent / 100, 2) AS commission,
           row_number() OVER (
               PARTITION BY x.buyer_id, x.group_key
               ORDER BY x.request COLLATE "C", x.rl_description COLLATE "C", x.kind COLLATE "C",
                        x.description COLLATE "C", x.rate_line_id, x.seq
           ) - 1 AS position
    FROM rated x
),
grouped AS (
    SELECT l.buyer_id, l.group_key, min(l.currency) AS currency, min(l.end_customer_id) AS end_customer_id,
           min(l.invoice_carrier_id) AS carrier_id, sum(l.amount) AS subtotal
    FROM lines l GROUP BY l.buyer_id, l.group_key
),
invoices AS (
    INSERT INTO {invoice} (bill_run_id, period, buyer_id, group_key, end_customer_id, carrier_id, currency,
                           subtotal, total, status, amount_paid, pdf, pdf_sha256, created_at)
    SELECT %(run)s, %(start)s, g.buyer_id, g.group_key, g.end_customer_id, g.carrier_id, g.currency,
           g.subtotal, g.subtotal, 'draft', 0, '', '', %(now)s
    FROM grouped g JOIN unnest(%(buyers)s::bigint[]) WITH ORDINALITY AS b (buyer_id, place) USING (buyer_id)
    ORDER BY b.place, g.group_key COLLATE "C"
    RETURNING id, buyer_id, group_key, currency, total
),
written AS (
    INSERT INTO {invoiceline} (invoice_id, contract_id, rate_line_id, carrier_id, kind, description, quantity,
                               unit, unit_price, amount, commission, record_count, position)
    SELECT i.id, l.contract_id, l.rate_line_id, l.carrier_id, l.kind, left(l.description, 250), l.quantity,
           l.unit, round(l.unit_price, 6), l.amount, l.commission, l.record_count, l.position
    FROM lines l JOIN invoices i ON i.buyer_id = l.buyer_id AND i.group_key = l.group_key
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM invoices),
    (SELECT count(*) FROM written),
    (SELECT coalesce(string_agg(t.currency || ' ' || t.total, ','), '')
     FROM (SELECT currency, sum(total) AS total FROM invoices GROUP BY currency) t),
    (SELECT encode(sha256(convert_to(coalesce(string_agg(
         concat_ws(E'\\t', l.buyer_id, l.group_key, l.kind, left(l.description, 250), l.quantity::numeric(24, 6),
                   round(l.unit_price, 6), l.amount, l.commission, l.record_count),
         E'\\n' ORDER BY l.buyer_id, l.group_key COLLATE "C", l.position), ''), 'UTF8')), 'hex')
     FROM lines l)
"""


# What every rated line carries of its rate line and contract.
_LINE_COLUMNS = (
    "rl.rate_line_id, rl.rl_description, rl.contract_id, rl.request, rl.buyer_id, rl.carrier_id, rl.end_customer_id,"
    " rl.currency, rl.group_key, rl.invoice_carrier_id, rl.commission_percent"
)


@dataclass(frozen=True)
class Drafts:
    invoices: int
    lines: int
    records: int
    totals: dict[str, Decimal]
    fingerprint: str


def _sql(with_increments: bool) -> tuple[str, str, str]:
    def table(model: type[models.Model]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    tables = {
        "usage": table(UsageRecord),
        "rateline": table(RateLine),
        "ratetier": table(RateTier),
        "contract": table(Contract),
        "rfq": table(Rfq),
        "invoice": table(Invoice),
        "invoiceline": table(InvoiceLine),
        "organization": table(Organization),
    }
    usage_sql = (_USAGE_INCREMENTS if with_increments else _USAGE_PLAIN).format(**tables)
    return usage_sql, _BUYERS.format(**tables), _RUN.format(line=_LINE_COLUMNS, **tables)


# A line worked out in Python and written with the rest: rate line id, kind, description, quantity, unit, unit
# price, amount.
ExtraLine = tuple[int, str, str, Decimal, str, Decimal, Decimal]


def rate_and_write(
    *, run_id: int, period: date, end: date, label: str, now: datetime, extra: list[ExtraLine] | None = None
) -> Drafts:
    """Rate `period` and write its drafts under bill run `run_id`, in the caller's transaction."""
    extra = extra or []
    extra_columns = list(zip(*extra, strict=True)) if extra else [()] * 7
    # Without increments to round to, the GROUP BY needs no join to the rate lines.
    with_increments = RateLine.objects.filter(increment__gt=0).exists()
    usage_sql, buyers_sql, run_sql = _sql(with_increments)
    with connection.cursor() as cursor:
        # The GROUP BY is a statement of its own: one with INSERTs in it never gets a parallel plan.
        cursor.execute(usage_sql, {"start": period})
        totals_rows = cursor.fetchall()
        columns = list(zip(*totals_rows, strict=True)) if totals_rows else [(), (), (), ()]
        # Invoices take their ids in the order of their buyers' names as Python lower-cases and compares them
        # (the database's lower() follows its own locale: a final sigma or a dotted capital I sort elsewhere).
        cursor.execute(buyers_sql, {"start": period, "end": end, "u_line": list(columns[0]) + list(extra_columns[0])})
        buyers = dict(cursor.fetchall())
        params: dict[str, Any] = {
            "u_line": list(columns[0]),
            "u_adj": list(columns[1]),
            "u_qty": list(columns[2]),
            "u_n": list(columns[3]),
            "buyers": sorted(buyers, key=lambda pk: (buyers[pk].lower(), pk)),
            "run": run_id,
            "start": period,
            "end": end,
            "days": (end - period).days,
            "label": label,
            "now": now,
            "month_over": now.date() >= end,
            **{
                f"c_{name}": list(values)
                for name, values in zip(
                    ("line", "kind", "description", "quantity", "unit", "price", "amount"), extra_columns, strict=True
                )
            },
        }
        cursor.execute(run_sql, params)
        invoices, lines, totals, fingerprint = cursor.fetchone()
    records = sum(row[3] for row in totals_rows)
    parsed: dict[str, Decimal] = {}
    for item in filter(None, totals.split(",")):
        currency, amount = item.split(" ")
        parsed[currency] = Decimal(amount)
    return Drafts(invoices, lines, int(records), parsed, fingerprint)
