"""Access rules for the sellers app's URLs (see access_table.py for the vocabulary)."""

from __future__ import annotations

from tests.security.access_table_base import SELLERS, Entry, allow

SELLERS_TABLE: dict[str, Entry] = {
    "sellers:dashboard": Entry(allow(*SELLERS)),
}
