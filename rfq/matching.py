"""Which carriers a request reaches, and which requests a carrier would receive: one SQL query each way.

A criteria set matches a request when every one of its conditions holds; an empty list (no service
types, no regions, no industries) means "any". A carrier matches when any of its unpaused sets does,
and only verified carriers are ever matched. The value range applies only when the set and the request
use the same currency and the request has an estimated value. A region row matches a site in the same
country (case aside), in the same region or with no region, whose postcode, upper case without spaces,
starts with the row's prefix (an empty prefix covers the region; compared as text, not as a LIKE pattern).

The two queries state the same rule from opposite ends (bench/matching.py measures them and checks them
against the rule written in Python; bench/README.md has the plans):
- For one request, the child-table conditions do not depend on the set, so each is one lookup done once
  (the sets among the request's service types, regions and industries) and every set is checked against
  it. Region rows are looked up by the keys a site can match (country, region or none, each prefix of
  its postcode) through the criteriaregion_place_idx index, instead of testing every row against every site.
- For one carrier, its few sets (with whether each lists types, regions, industries) are read first;
  the requests with one of a set's service types come from one lookup, and the open requests left are
  checked against the set's regions and industries with indexed EXISTS probes.
On PostgreSQL both run with JIT off (every connection is opened so, in marketplace/settings.py): the planner
prices the per-row probes high enough to start JIT compilation, which cost two seconds for a query that runs in
tens of milliseconds.
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
# The conditions on the set's own columns, the same both ways.
RANGES_AND_FLAGS = """(r.estimated_value IS NULL OR c.currency <> r.currency
       OR ((c.value_min IS NULL OR c.value_min <= r.estimated_value)
           AND (c.value_max IS NULL OR c.value_max >= r.estimated_value)))
  AND (c.sites_min IS NULL OR c.sites_min <= r.site_count)
  AND (c.sites_max IS NULL OR c.sites_max >= r.site_count)
  AND (r.term_months IS NULL
       OR ((c.term_min_months IS NULL OR c.term_min_months <= r.term_months)
           AND (c.term_max_months IS NULL OR c.term_max_months >= r.term_months)))
  AND (r.group_id IS NULL OR c.takes_group_requests)
  AND (NOT r.buyer_is_reseller OR c.takes_reseller_buyers)"""

# A postcode prefix is at most 10 characters (CriteriaRegion.postcode_prefix); length 0 is the empty prefix.
_LENGTHS = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(11))

# One request against every set. "place" holds every (country, region, prefix) key a region row must
# have to match one of the request's sites; it is materialised so the planner probes the index with it.
RFQ_SQL = """
WITH place AS MATERIALIZED (
  SELECT DISTINCT UPPER(s.country) AS country,
         CASE w.whole WHEN 1 THEN '' ELSE UPPER(s.region) END AS region,
         SUBSTR(REPLACE(UPPER(s.postcode), ' ', ''), 1, k.n) AS prefix
  FROM {rsite} rs
  JOIN {site} s ON s.id = rs.site_id
  CROSS JOIN ({lengths}) k
  CROSS JOIN (SELECT 0 AS whole UNION ALL SELECT 1) w
  WHERE rs.rfq_id = %(rfq)s
)
SELECT r.id, c.id, c.organization_id
FROM {rfq} r
JOIN {crit} c ON NOT c.is_paused
JOIN {org} o ON o.id = c.organization_id AND o.kind = 'carrier' AND o.verification_status = 'verified'
WHERE r.id = %(rfq)s
  AND {ranges_and_flags}
  AND (c.id NOT IN (SELECT st.criteriaset_id FROM {crit_st} st)
       OR c.id IN (SELECT st.criteriaset_id FROM {line} l
                   JOIN {crit_st} st ON st.servicetype_id = l.service_type_id
                   WHERE l.rfq_id = %(rfq)s))
  AND (c.id NOT IN (SELECT cr.criteria_id FROM {region} cr)
       OR c.id IN (SELECT cr.criteria_id FROM place p
                   JOIN {region} cr ON UPPER(cr.country) = p.country AND UPPER(cr.region) = p.region
                                   AND cr.postcode_prefix = p.prefix))
  AND (c.id NOT IN (SELECT ci.criteria_id FROM {industry} ci)
       OR c.id IN (SELECT ci.criteria_id FROM {rsite} rs
                   JOIN {profile} bp ON bp.organization_id = rs.organization_id
                   JOIN {industry} ci ON ci.industry = bp.industry
                   WHERE rs.rfq_id = %(rfq)s))
"""

# One carrier's sets against every request in the given states that is open to all carriers.
CARRIER_SQL = """
WITH c AS MATERIALIZED (
  SELECT c.*,
         EXISTS (SELECT 1 FROM {crit_st} st WHERE st.criteriaset_id = c.id) AS has_types,
         EXISTS (SELECT 1 FROM {region} cr WHERE cr.criteria_id = c.id) AS has_regions,
         EXISTS (SELECT 1 FROM {industry} ci WHERE ci.criteria_id = c.id) AS has_industries
  FROM {crit} c
  JOIN {org} o ON o.id = c.organization_id AND o.kind = 'carrier' AND o.verification_status = 'verified'
  WHERE c.organization_id = %(carrier)s AND NOT c.is_paused
)
SELECT r.id, c.id, c.organization_id
FROM c
JOIN {rfq} r ON r.visibility = 'open' AND r.status IN ({statuses})
WHERE {ranges_and_flags}
  AND (NOT c.has_types
       OR (r.id, c.id) IN (SELECT l.rfq_id, st.criteriaset_id FROM c
                           JOIN {crit_st} st ON st.criteriaset_id = c.id
                           JOIN {line} l ON l.service_type_id = st.servicetype_id))
  AND (NOT c.has_regions
       OR EXISTS (SELECT 1 FROM {rsite} rs
                  JOIN {site} s ON s.id = rs.site_id
                  JOIN {region} cr ON cr.criteria_id = c.id AND UPPER(cr.country) = UPPER(s.country)
                                  AND (cr.region = '' OR UPPER(cr.region) = UPPER(s.region))
                                  AND cr.postcode_prefix
                                      = SUBSTR(REPLACE(UPPER(s.postcode), ' ', ''), 1, LENGTH(cr.postcode_prefix))
                  WHERE rs.rfq_id = r.id))
  AND (NOT c.has_industries
       OR EXISTS (SELECT 1 FROM {rsite} rs
                  JOIN {profile} bp ON bp.organization_id = rs.organization_id
                  JOIN {industry} ci ON ci.criteria_id = c.id AND ci.industry = bp.industry
                  WHERE rs.rfq_id = r.id))
"""


def _run(template: str, params: dict[str, Any], **parts: str) -> list[Match]:
    sql = template.format(ranges_and_flags=RANGES_AND_FLAGS, lengths=_LENGTHS, **parts, **_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Match(rfq_id=a, criteria_id=b, carrier_id=c) for a, b, c in cursor.fetchall()]


def matches_for_rfq(rfq_id: int) -> list[Match]:
    """Every (criteria set, carrier) that matches the request."""
    return _run(RFQ_SQL, {"rfq": rfq_id})


def carriers_for_rfq(rfq_id: int) -> set[int]:
    """Ids of the verified carriers with a matching, unpaused criteria set."""
    return {m.carrier_id for m in matches_for_rfq(rfq_id)}


def matches_for_carrier(carrier_id: int, *, statuses: tuple[str, ...] = (Rfq.Status.OPEN,)) -> list[Match]:
    """Every (open-visibility request, criteria set) of the carrier that matches, among requests in the given states."""
    names = {f"status{i}": status for i, status in enumerate(statuses)}
    placeholders = ", ".join(f"%({name})s" for name in names)
    return _run(CARRIER_SQL, {"carrier": carrier_id, **names}, statuses=placeholders)


def open_request_counts_by_criteria(carrier_id: int) -> dict[int, int]:
    """How many open requests each of the carrier's criteria sets would match."""
    counts: dict[int, int] = {}
    for match in matches_for_carrier(carrier_id):
        counts[match.criteria_id] = counts.get(match.criteria_id, 0) + 1
    return counts
