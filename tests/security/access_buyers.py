"""Access rules for the buyers app's URLs (see access_table.py for the vocabulary)."""

from __future__ import annotations

from tests.security.access_table_base import BUYERS, Entry, allow

BUYERS_TABLE: dict[str, Entry] = {
    "buyers:dashboard": Entry(allow(*BUYERS)),
}
