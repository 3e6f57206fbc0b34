"""Load the demo data; running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from buyers import demo as buyers_demo
from marketplace import demo as core_demo
from rfq import demo as rfq_demo
from sellers import demo as sellers_demo


class Command(BaseCommand):
    help = "Create demo organisations, accounts and data (password: switchboard-demo). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = core_demo.seed()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts ready: {', '.join(accounts)}"))
        for line in [*buyers_demo.seed(), *sellers_demo.seed(), *rfq_demo.seed()]:
            self.stdout.write(line)
        self.stdout.write(f"Password for every demo account: {core_demo.DEMO_PASSWORD}")
