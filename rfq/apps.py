from django.apps import AppConfig


class RfqConfig(AppConfig):
    name = "rfq"
    verbose_name = "Requests for quote"

    def ready(self) -> None:
        from marketplace.signals import organization_verified
        from rfq.tasks import queue_distribution_for_verified_buyer

        organization_verified.connect(queue_distribution_for_verified_buyer, dispatch_uid="rfq-distribute-on-verify")
