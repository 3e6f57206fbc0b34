"""Volume tiers of a bid's usage rate: parsed, checked and stored so that billing.RateTier can take them as they are.

Tiers are graduated, as billing rates them (billing.services.usage_charge): the line's usage rate applies up to the
first threshold, and each tier's rate to the units of a month above its threshold, up to the next one. Thresholds
count units after the billing increment has rounded each record up.

They are stored as JSON, a list of {"threshold": "1000", "rate": "0.015"} with the numbers as plain decimal strings
(a JSON number would pass through a float), always strictly increasing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

# (threshold, rate): usage above `threshold` units in a month is charged at `rate`.
Tier = tuple[Decimal, Decimal]

MAX_TIERS = 5
# What billing.RateTier holds: threshold numeric(18, 6), rate numeric(14, 6).
MAX_THRESHOLD = Decimal("999999999999.999999")
MAX_RATE = Decimal("99999999.999999")
PLACES = 6
EXAMPLE = "1000:0.015, 5000:0.01"


def plain(value: Decimal) -> str:
    """1000.000 -> "1000", 0.0150 -> "0.015": the shortest exact decimal, never an exponent."""
    text = f"{value.normalize():f}"
    return "0" if text == "-0" else text


def _places(value: Decimal) -> int:
    """Digits after the point, trailing zeros aside; no context arithmetic, so 1e-999999999 cannot trap."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity: refused before this is asked
        return 0
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(-exponent, 0)


def _fits(value: Decimal, maximum: Decimal) -> bool:
    # adjusted() is the exponent of the leading digit: compared before any arithmetic that could overflow.
    return value.adjusted() <= maximum.adjusted() and abs(value) <= maximum and _places(value) <= PLACES


def tiers_check(tiers: Sequence[Tier]) -> list[Tier]:
    """Return the tiers if they are at most five, thresholds above 0 and strictly increasing, rates not negative."""
    if len(tiers) > MAX_TIERS:
        raise ValidationError(f"Give at most {MAX_TIERS} tiers; you gave {len(tiers)}.", code="too_many")
    previous: Decimal | None = None
    for threshold, rate in tiers:
        if not threshold.is_finite() or not rate.is_finite():
            raise ValidationError("Tiers take plain numbers.", code="invalid")
        # Sizes first: the messages below print the numbers, which is safe once they are known to be small.
        if not _fits(threshold, MAX_THRESHOLD):
            raise ValidationError(
                f"A tier's threshold has at most 12 digits before the point and {PLACES} after.", code="threshold"
            )
        if not _fits(rate, MAX_RATE):
            raise ValidationError(
                f"A tier's rate has at most 8 digits before the point and {PLACES} after.", code="rate"
            )
        if threshold <= 0:
            raise ValidationError(f"A tier's threshold must be above 0 ({plain(threshold)} is not).", code="threshold")
        if rate < 0:
            raise ValidationError(f"A tier's rate cannot be negative ({plain(rate)}).", code="rate")
        if previous is not None and threshold <= previous:
            raise ValidationError(
                f"List thresholds from low to high, each once: {plain(threshold)} comes after {plain(previous)}.",
                code="order",
            )
        previous = threshold
    return [(threshold, rate + 0) for threshold, rate in tiers]  # + 0 turns -0 into 0


def tiers_parse(text: str) -> list[Tier]:
    """Read "1000:0.015, 5000:0.01" (commas, semicolons or new lines between tiers) into checked tiers."""
    tiers: list[Tier] = []
    for raw in text.replace(";", ",").replace("\n", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        threshold, colon, rate = entry.partition(":")
        try:
            if not colon:
                raise InvalidOperation
            tiers.append((Decimal(threshold.strip()), Decimal(rate.strip())))
        except InvalidOperation:
            raise ValidationError(
                f"“{entry[:40]}” is not a tier: write each as threshold:rate, e.g. {EXAMPLE}.", code="syntax"
            ) from None
    return tiers_check(tiers)


def tiers_text(tiers: Sequence[Tier]) -> str:
    """The form's text for stored tiers: "1000:0.015, 5000:0.01"."""
    return ", ".join(f"{plain(threshold)}:{plain(rate)}" for threshold, rate in tiers)


def tiers_to_json(tiers: Sequence[Tier]) -> list[dict[str, str]]:
    return [{"threshold": plain(threshold), "rate": plain(rate)} for threshold, rate in tiers]


def tiers_from_json(value: Any) -> list[Tier]:
    """The stored tiers as decimals; anything that is not the stored shape is a ValidationError."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError("Tiers are a list of {threshold, rate}.", code="invalid")
    tiers: list[Tier] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"threshold", "rate"}:
            raise ValidationError("Tiers are a list of {threshold, rate}.", code="invalid")
        try:
            tiers.append((Decimal(str(item["threshold"])), Decimal(str(item["rate"]))))
        except InvalidOperation:
            raise ValidationError("Tiers take plain numbers.", code="invalid") from None
    return tiers_check(tiers)


def validate_tiers_json(value: Any) -> None:
    """Model field validator: the JSON holds checked tiers."""
    tiers_from_json(value)


def _number(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def rate_text(value: Decimal) -> str:
    """A unit rate with the digits it has and at least cents: 0.020000 -> 0.02, 0.0125 -> 0.0125, 2 -> 2.00."""
    text = plain(value)
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def terms_phrases(line: Any) -> list[str]:
    """A priced line's usage terms as short phrases: the rate, its increment, each tier, the commitment.

    Takes a BidLine or AwardLine, or a line of a revision's canonical content (older revisions lack the newer
    keys). Empty when the line has no usage rate.
    """

    def get(name: str) -> Any:
        return line.get(name) if isinstance(line, dict) else getattr(line, name, None)

    rate = _number(get("usage_rate"))
    if rate is None:
        return []
    unit = get("usage_unit") or "unit"
    phrases = [f"{rate_text(rate)} per {unit}"]
    increment = _number(get("increment"))
    if increment:
        phrases.append(f"billed in steps of {plain(increment)} {unit}")
    for tier in get("tiers") or []:
        threshold, tier_rate = _number(tier.get("threshold")), _number(tier.get("rate"))
        if threshold is not None and tier_rate is not None:
            phrases.append(f"above {plain(threshold)} {unit}: {rate_text(tier_rate)}")
    commitment = _number(get("minimum_commitment"))
    if commitment:
        phrases.append(f"minimum {commitment.quantize(Decimal('0.01'))} a month")
    return phrases
