"""Fixed lists the carriers app shares with the request side.

The buyers app does not define a buyer industry list yet; when it does, this module should import
it from there so criteria and buyer profiles can never disagree.
"""

from __future__ import annotations

INDUSTRY_CHOICES: list[tuple[str, str]] = [
    ("agriculture", "Agriculture, forestry and fishing"),
    ("construction", "Construction"),
    ("education", "Education"),
    ("energy", "Energy and utilities"),
    ("finance", "Financial services and insurance"),
    ("healthcare", "Healthcare and dental"),
    ("hospitality", "Hospitality and leisure"),
    ("it", "Information technology"),
    ("legal", "Legal and professional services"),
    ("logistics", "Transport and logistics"),
    ("manufacturing", "Manufacturing"),
    ("media", "Media and entertainment"),
    ("nonprofit", "Charity and non-profit"),
    ("public", "Public sector"),
    ("real_estate", "Real estate"),
    ("retail", "Retail and wholesale"),
    ("telecom", "Telecommunications"),
    ("other", "Other"),
]

INDUSTRY_LABELS = dict(INDUSTRY_CHOICES)

CURRENCIES: list[tuple[str, str]] = [("GBP", "GBP"), ("EUR", "EUR"), ("USD", "USD")]

EXPIRY_WARNING_DAYS = 30
