"""Read and write the plain-text region lists carriers type: one area per line.

A line is ``COUNTRY``, ``COUNTRY, Region`` or ``COUNTRY, Region, PREFIX PREFIX ...`` where the region may
be left empty (``GB, , LS BS``). In a CSV cell, areas are separated by ``;`` instead of new lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,10}$")
MAX_AREAS = 200


@dataclass(frozen=True, order=True)
class Area:
    country: str
    region: str = ""
    postcode_prefix: str = ""

    def label(self) -> str:
        return " · ".join(p for p in (self.country, self.region, self.postcode_prefix) if p)


def normalise_prefix(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def parse_areas(text: str) -> list[Area]:
    """Turn the typed list into sorted, de-duplicated areas, or raise ValidationError naming the bad line."""
    areas: set[Area] = set()
    errors: list[str] = []
    lines = [line.strip() for line in re.split(r"[\n;]", text or "")]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) > 3:
            errors.append(f"Area {number} ({line}): use at most country, region, postcodes.")
            continue
        country = parts[0].upper()
        region = " ".join(parts[1].split()) if len(parts) > 1 else ""
        prefixes = parts[2].upper().split() if len(parts) > 2 else []
        if not COUNTRY_RE.match(country):
            errors.append(f"Area {number} ({line}): start with a two-letter country code such as GB.")
            continue
        if len(region) > 100:
            errors.append(f"Area {number}: the region name is too long.")
            continue
        bad = [p for p in prefixes if not PREFIX_RE.match(p)]
        if bad:
            errors.append(
                f"Area {number}: {', '.join(bad)} is not a postcode prefix (letters and digits, e.g. LS or EC1)."
            )
            continue
        for prefix in prefixes or [""]:
            areas.add(Area(country, region, prefix))
    if errors:
        raise ValidationError(errors)
    if len(areas) > MAX_AREAS:
        raise ValidationError(f"List at most {MAX_AREAS} areas.")
    return sorted(areas)


def format_areas(rows: object) -> str:
    """Write region rows (anything with country, region, postcode_prefix) back as the typed list."""
    grouped: dict[tuple[str, str], list[str]] = {}
    whole: set[tuple[str, str]] = set()
    for row in rows:  # type: ignore[attr-defined]
        key = (row.country, row.region)
        grouped.setdefault(key, [])
        if row.postcode_prefix:
            grouped[key].append(row.postcode_prefix)
        else:
            whole.add(key)
    lines = []
    for (country, region), prefixes in grouped.items():
        if (country, region) in whole:
            lines.append(f"{country}, {region}" if region else country)
        if prefixes:
            lines.append(f"{country}, {region}, {' '.join(prefixes)}")
    return "\n".join(lines)


def describe_areas(rows: object) -> str:
    """Say in words where the rows are, e.g. 'GB (West Yorkshire, postcodes LS) or GB (Bristol)'."""
    parts = []
    for line in format_areas(rows).splitlines():
        bits = [b.strip() for b in line.split(",")]
        country, region, prefixes = bits[0], bits[1] if len(bits) > 1 else "", bits[2] if len(bits) > 2 else ""
        inner = ", ".join(x for x in (region, f"postcodes {prefixes.replace(' ', ', ')}" if prefixes else "") if x)
        parts.append(f"{country} ({inner})" if inner else country)
    return " or ".join(parts)
