"""Import a usage CSV for a carrier: whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.models import UsageImport
from billing.services import usage_import_create, usage_import_run
from marketplace.models import Organization
from marketplace.services import DomainError


class Command(BaseCommand):
    help = "Import usage records from a CSV file (format in the README)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--carrier", required=True, help="Carrier name or id.")
        parser.add_argument("--source", default="carrier", choices=UsageImport.Source.values)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        value = options["carrier"]
        carrier = (
            Organization.objects.filter(kind="carrier")
            .filter(**({"pk": int(value)} if value.isdecimal() else {"name": value}))
            .first()
        )
        if carrier is None:
            raise CommandError(f"No carrier {value!r}.")
        try:
            outcome = usage_import_create(
                actor=None, carrier=carrier, source=options["source"], filename=path.name, data=path.read_bytes()
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if outcome.already_imported:
            self.stdout.write(
                f"{path.name} was already imported on {outcome.usage_import.finished_at:%Y-%m-%d}; nothing changed."
            )
            return
        result = usage_import_run(import_id=outcome.usage_import.pk)
        if result.status != UsageImport.Status.DONE:
            for error in result.errors:
                self.stderr.write(f"line {error['line']}: {error['column']}: {error['message']}")
            raise CommandError(result.message)
        self.stdout.write(self.style.SUCCESS(result.message))
