"""Demo data of the sellers app, called by seed_demo after the core cast exists. Idempotent."""

from __future__ import annotations


def seed() -> list[str]:
    """Create the sellers demo data; return lines describing what is there."""
    return []
