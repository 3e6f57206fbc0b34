"""Which carriers a request reaches, and which requests a carrier would receive: one SQL query each way.

A criteria set matches a request when every one of its conditions holds; an empty list (no service
types, no regions, no industries) means "any". A carrier matches when any of its unpaused sets does,
and only verified carriers are ever matched. The value range applies only when the set and the request
use the same currency and the request has an estimated value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from buyers.models import BuyerProfile, Site
from marketplace.models import Organization
from rfq.models import Rfq, RfqLine, RfqSite
from sellers.models import CriteriaIndustry, CriteriaRegion, CriteriaSet


@dataclass(frozen=True)
class Match:
    rfq_id: int
    criteria_id: int
    carrier_id: int


def _tables() -> dict[str, str]:
    return {
        "rfq": Rfq._meta.db_table,
        "line": RfqLine._meta.db_table,
        "rsite": RfqSite._meta.db_table,
        "site": Site._meta.db_table,
        "profile": BuyerProfile._meta.db_table,
        "crit": CriteriaSet._meta.db_table,
        "crit_st": CriteriaSet.service_types.through._meta.db_table,
        "region": CriteriaRegion._meta.db_table,
        "industry": CriteriaIndustry._meta.db_table,
        "org": Organization._meta.db_table,
    }


# Table names come from model metadata, never from input; values are bound parameters.
MATCH_SQL = """
SELECT DISTINCT r.id, c.id, c.organization_id
FROM {rfq} r
JOIN {crit} c ON c.is_paused = %s
JOIN {org} o ON o.id = c.organization_id AND o.kind = 'carrier' AND o.verification_status = 'verified'
WHERE {where}
  AND (NOT EXISTS (SELECT 1 FROM {crit_st} st WHERE st.criteriaset_id = c.id)
       OR EXISTS (SELECT 1 FROM {crit_st} st JOIN {line} l ON l.service_type_id = st.servicetype_id
                  WHERE st.criteriaset_id = c.id AND l.rfq_id = r.id))
  AND (NOT EXISTS (SELECT 1 FROM {region} cr WHERE cr.criteria_id = c.id)
       OR EXISTS (SELECT 1 FROM {region} cr
                  JOIN {rsite} rs ON rs.rfq_id = r.id
                  JOIN {site} s ON s.id = rs.site_id
                  WHERE cr.criteria_id = c.id
                    AND UPPER(s.country) = UPPER(cr.country)
                    AND (cr.region = '' OR UPPER(s.region) = UPPER(cr.region))
                    AND (cr.postcode_prefix = ''
                         OR REPLACE(UPPER(s.postcode), ' ', '') LIKE cr.postcode_prefix || '%%')))
  AND (r.estimated_value IS NULL OR c.currency <> r.currency
       OR ((c.value_min IS NULL OR c.value_min <= r.estimated_value)
           AND (c.value_max IS NULL OR c.value_max >= r.estimated_value)))
  AND (c.sites_min IS NULL OR c.sites_min <= r.site_count)
  AND (c.sites_max IS NULL OR c.sites_max >= r.site_count)
  AND (r.term_months IS NULL
       OR ((c.term_min_months IS NULL OR c.term_min_months <= r.term_months)
           AND (c.term_max_months IS NULL OR c.term_max_months >= r.term_months)))
  AND (r.group_id IS NULL OR c.takes_group_requests = %s)
  AND (r.buyer_is_reseller = %s OR c.takes_reseller_buyers = %s)
  AND (NOT EXISTS (SELECT 1 FROM {industry} ci WHERE ci.criteria_id = c.id)
       OR EXISTS (SELECT 1 FROM {industry} ci
                  JOIN {rsite} rs ON rs.rfq_id = r.id
                  JOIN {profile} bp ON bp.organization_id = rs.organization_id
                  WHERE ci.criteria_id = c.id AND ci.industry = bp.industry))
"""


def _run(where: str, params: list[Any]) -> list[Match]:
    sql = MATCH_SQL.format(where=where, **_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, [False, *params, True, False, True])
        return [Match(rfq_id=a, criteria_id=b, carrier_id=c) for a, b, c in cursor.fetchall()]


def matches_for_rfq(rfq_id: int) -> list[Match]:
    """Every (criteria set, carrier) that matches the request."""
    return _run("r.id = %s", [rfq_id])


def carriers_for_rfq(rfq_id: int) -> set[int]:
    """Ids of the verified carriers with a matching, unpaused criteria set."""
    return {m.carrier_id for m in matches_for_rfq(rfq_id)}


def matches_for_carrier(carrier_id: int, *, statuses: tuple[str, ...] = (Rfq.Status.OPEN,)) -> list[Match]:
    """Every (open-visibility request, criteria set) of the carrier that matches, among requests in the given states."""
    placeholders = ", ".join(["%s"] * len(statuses))
    return _run(
        f"c.organization_id = %s AND r.visibility = 'open' AND r.status IN ({placeholders})",  # noqa: S608
        [carrier_id, *statuses],
    )


def open_request_counts_by_criteria(carrier_id: int) -> dict[int, int]:
    """How many open requests each of the carrier's criteria sets would match."""
    counts: dict[int, int] = {}
    for match in matches_for_carrier(carrier_id):
        counts[match.criteria_id] = counts.get(match.criteria_id, 0) + 1
    return counts
