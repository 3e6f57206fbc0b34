"""Reference data every database needs: the service catalogue and the first terms document.

The data migration creates it; post_migrate restores it after a flush (as test databases are flushed
between transactional tests), the way Django restores content types. Idempotent.
"""

from __future__ import annotations

from typing import Any


def ensure_reference_data(sender: Any = None, **kwargs: Any) -> None:
    from django.apps import apps as global_apps

    from marketplace.models import ServiceType, TermsDocument

    if ServiceType.objects.exists() and TermsDocument.objects.exists():
        return
    module = __import__("marketplace.migrations.0002_seed_service_catalogue", fromlist=["seed"])
    module.seed(global_apps, None)
