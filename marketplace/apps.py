from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from marketplace.reference_data import ensure_reference_data

        post_migrate.connect(ensure_reference_data, sender=self, dispatch_uid="marketplace-reference-data")
