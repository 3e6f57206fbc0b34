"""Fixed lists the carriers app shares with the request side."""

from __future__ import annotations

from buyers.models import BuyerProfile

# The buyers app owns the list; criteria import it so the two can never disagree.
INDUSTRY_CHOICES: list[tuple[str, str]] = list(BuyerProfile.Industry.choices)

INDUSTRY_LABELS = dict(INDUSTRY_CHOICES)

CURRENCIES: list[tuple[str, str]] = [("GBP", "GBP"), ("EUR", "EUR"), ("USD", "USD")]

EXPIRY_WARNING_DAYS = 30
